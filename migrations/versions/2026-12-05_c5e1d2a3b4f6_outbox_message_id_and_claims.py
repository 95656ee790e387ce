"""outbox: one Message-ID per message kept across retries, claims and unconfirmed attempts

Revision ID: c5e1d2a3b4f6
Revises: a4d86e1f0c52
Create Date: 2026-12-05 10:00:00.000000

"""
import secrets
from email.utils import parseaddr

from alembic import op
import sqlalchemy as sa
from flask import current_app

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'c5e1d2a3b4f6'
down_revision = 'a4d86e1f0c52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=250), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('unconfirmed_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('relay_reply', sa.Text(), server_default='', nullable=False))

    _backfill_message_ids()

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('message_id', existing_type=sa.String(length=250), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_messages_message_id'), ['message_id'])


def _backfill_message_ids():
    """Give every existing message its Message-ID now, in the sender's domain.

    A pending message keeps it for all its attempts from now on. A message sent before this
    upgrade went out with a Message-ID that was never kept: its new one is only its record's.
    """
    outbox = sa.table('outbox_messages', sa.column('id', sa.Integer), sa.column('message_id', sa.String))
    conn = op.get_bind()
    ids = conn.execute(sa.select(outbox.c.id).where(outbox.c.message_id.is_(None))).scalars().all()
    if not ids:
        return
    sender = current_app.config.get('MAIL_SENDER', '')
    domain = parseaddr(sender)[1].rpartition('@')[2] or 'localhost'
    conn.execute(
        outbox.update().where(outbox.c.id == sa.bindparam('row_id')).values(message_id=sa.bindparam('new_id')),
        [{'row_id': row_id, 'new_id': f'<{secrets.token_hex(16)}@{domain}>'} for row_id in ids],
    )


def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_messages_message_id'), type_='unique')
        batch_op.drop_column('relay_reply')
        batch_op.drop_column('unconfirmed_attempts')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('message_id')
