"""webhooks (issue 20): admins' subscriptions of a URL to events, with their signing secret
sealed, and one delivery row per message, sent and retried as the mail outbox is

Revision ID: a21w00000001
Revises: a21t00000001
Create Date: 2026-12-07 19:00:00

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a21w00000001'
down_revision = 'a21t00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('format', sa.Enum('standard', 'slack', 'teams', name='webhook_format', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('secret_sealed', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("locale IN ('ja', 'en')", name=op.f('ck_webhook_subscriptions_locale')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_webhook_subscriptions_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscriptions'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'delivered', 'failed', name='webhook_delivery_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_response_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('created_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['webhook_subscriptions.id'], name=op.f('fk_webhook_deliveries_subscription_id_webhook_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('subscription_id', 'event_id', name='uq_webhook_deliveries_event')
    )
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhook_deliveries_subscription_id'), ['subscription_id'], unique=False)



def downgrade():
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_deliveries_subscription_id'))
        batch_op.drop_index('ix_webhook_deliveries_due')

    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_subscriptions')
