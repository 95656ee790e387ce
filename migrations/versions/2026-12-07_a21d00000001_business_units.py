"""business units (部門): the departments, subsidiaries or sites that own suppliers, their staff,
and each supplier's unit (issue 20: scoped access)

Revision ID: a21d00000001
Revises: a20a00000001
Create Date: 2026-12-07 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a21d00000001'
down_revision = 'a20a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'business_units',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('name_en', sa.String(length=200), server_default='', nullable=False),
        sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('created_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_business_units')),
        sa.UniqueConstraint('code', name=op.f('uq_business_units_code')),
    )
    op.create_table(
        'unit_memberships',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['business_units.id'], name=op.f('fk_unit_memberships_unit_id_business_units'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_unit_memberships_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_memberships')),
        sa.UniqueConstraint('user_id', 'unit_id', name=op.f('uq_unit_memberships_user_id')),
    )
    with op.batch_alter_table('unit_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_memberships_unit_id'), ['unit_id'], unique=False)
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_suppliers_unit_id'), ['unit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_suppliers_unit_id_business_units'), 'business_units', ['unit_id'], ['id'], ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_suppliers_unit_id_business_units'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_suppliers_unit_id'))
        batch_op.drop_column('unit_id')
    with op.batch_alter_table('unit_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_memberships_unit_id'))
    op.drop_table('unit_memberships')
    op.drop_table('business_units')
