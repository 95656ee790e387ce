"""staff two-factor login (TOTP, recovery codes) and session idle time

Revision ID: a13c00000002
Revises: a13b00000001
Create Date: 2026-12-06 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a13c00000002'
down_revision = 'a13b00000001'
branch_labels = None
depends_on = None


def upgrade():
    # The column was never used: whatever it holds is not an encrypted secret, so nothing to keep.
    op.execute(sa.text("UPDATE users SET mfa_secret = NULL"))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('mfa_secret', existing_type=sa.String(length=64), type_=sa.String(length=255), existing_nullable=True)
        batch_op.add_column(sa.Column('mfa_enabled_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('mfa_last_step', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('mfa_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('mfa_locked_until', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_seen_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True))

    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_recovery_codes_token_hash'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))

    op.drop_table('recovery_codes')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')

    # An encrypted secret does not fit the old column: going back switches the second factor off.
    op.execute(sa.text("UPDATE users SET mfa_secret = NULL"))
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('mfa_locked_until')
        batch_op.drop_column('mfa_failures')
        batch_op.drop_column('mfa_last_step')
        batch_op.drop_column('mfa_enabled_at')
        batch_op.alter_column('mfa_secret', existing_type=sa.String(length=255), type_=sa.String(length=64), existing_nullable=True)
