"""API tokens (issue 20): personal access tokens of staff and service accounts' tokens, kept
only as their SHA-256; and the users that are service accounts (no interactive login)

Revision ID: a21t00000001
Revises: a21o00000001
Create Date: 2026-12-07 19:00:00

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a21t00000001'
down_revision = 'a21o00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_account', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('personal', 'service', name='api_token_kind', native_enum=False, create_constraint=True, length=8), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('scope', sa.Enum('read', 'write', name='api_token_scope', native_enum=False, create_constraint=True, length=5), nullable=False),
    sa.Column('display_prefix', sa.String(length=12), nullable=False),
    sa.Column('created_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_api_tokens_expires_after_creation')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
    op.drop_table('api_tokens')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('service_account')
