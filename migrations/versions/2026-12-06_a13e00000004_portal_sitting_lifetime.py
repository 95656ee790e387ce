"""portal sittings: idle lifetime and finish

Revision ID: a13e00000004
Revises: a13d00000003
Create Date: 2026-12-06 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a13e00000004'
down_revision = 'a13d00000003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('portal_sittings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('ended_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True))
    # Sittings opened before: idle since they were opened (most are long expired by now).
    op.execute('UPDATE portal_sittings SET last_seen_at = created_at')
    with op.batch_alter_table('portal_sittings', schema=None) as batch_op:
        batch_op.alter_column('last_seen_at', existing_type=vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False)


def downgrade():
    with op.batch_alter_table('portal_sittings', schema=None) as batch_op:
        batch_op.drop_column('ended_at')
        batch_op.drop_column('last_seen_at')
