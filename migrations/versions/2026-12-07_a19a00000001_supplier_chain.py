"""supplier chain (issue 18): a supplier under its holding company (系列企業) or under the
supplier that uses it as a subcontractor (再委託先), whether its parent reported it in its
answers, and when procurement reviewed such a record

Revision ID: a19a00000001
Revises: a18a00000001
Create Date: 2026-12-07 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a19a00000001'
down_revision = 'a18a00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reported_by_parent', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('chain_reviewed_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_suppliers_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_suppliers_parent_id_suppliers'), 'suppliers', ['parent_id'], ['id'], ondelete='SET NULL')
        batch_op.create_check_constraint(
            op.f('ck_suppliers_not_own_parent'), "parent_id IS NULL OR parent_id <> id"
        )


def downgrade():
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_suppliers_not_own_parent'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_suppliers_parent_id_suppliers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_suppliers_parent_id'))
        batch_op.drop_column('chain_reviewed_at')
        batch_op.drop_column('reported_by_parent')
        batch_op.drop_column('parent_id')
