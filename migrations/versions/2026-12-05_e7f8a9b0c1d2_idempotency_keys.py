"""idempotency keys: a form's one-time key, so a double click or a retry does its work once

Revision ID: e7f8a9b0c1d2
Revises: c5e1d2a3b4f6
Create Date: 2026-12-05 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'e7f8a9b0c1d2'
down_revision = 'c5e1d2a3b4f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('endpoint', sa.String(length=80), nullable=False),
    sa.Column('created_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.SmallInteger(), nullable=True),
    sa.Column('location', sa.String(length=2000), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('key', 'actor', 'endpoint', name=op.f('uq_idempotency_keys_key'))
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')
