"""contact_delegation

Revision ID: a15b00000002
Revises: a15a00000001
Create Date: 2026-12-06 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a15b00000002'
down_revision = 'a15a00000001'
branch_labels = None
depends_on = None


def upgrade():
    # A contact may add a colleague from the portal (担当者の追加): who added whom, and when.
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('added_by_contact_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('added_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_contacts_added_by_contact_id_contacts'),
            'contacts',
            ['added_by_contact_id'],
            ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_contacts_added_by_contact_id_contacts'), type_='foreignkey'
        )
        batch_op.drop_column('added_at')
        batch_op.drop_column('added_by_contact_id')
