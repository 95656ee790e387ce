"""single sign-on with OpenID Connect (issue 20): how each user signs in (a local password or
the company's OpenID provider), the provider's issuer and subject a user is linked by (unique
together), and no password hash for a user who signs in through the provider

Revision ID: a21o00000001
Revises: a21d00000001
Create Date: 2026-12-07 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a21o00000001'
down_revision = 'a21d00000001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_source', sa.String(length=8), server_default='password', nullable=False))
        batch_op.add_column(sa.Column('oidc_issuer', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('oidc_subject', sa.String(length=255), nullable=True))
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=True)
        batch_op.create_unique_constraint(op.f('uq_users_oidc_issuer'), ['oidc_issuer', 'oidc_subject'])
        batch_op.create_check_constraint(op.f('ck_users_user_auth_source'), "auth_source IN ('password', 'oidc')")
        batch_op.create_check_constraint(op.f('ck_users_oidc_has_subject'), "auth_source <> 'oidc' OR (oidc_issuer IS NOT NULL AND oidc_subject IS NOT NULL)")
        batch_op.create_check_constraint(op.f('ck_users_password_has_hash'), "auth_source = 'oidc' OR password_hash IS NOT NULL")


def downgrade():
    # Users of the provider have no password: they cannot be kept by a schema that needs one.
    op.execute("DELETE FROM user_sessions WHERE user_id IN (SELECT id FROM users WHERE password_hash IS NULL)")
    op.execute("UPDATE users SET active = false, password_hash = '!' WHERE password_hash IS NULL")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_users_password_has_hash'), type_='check')
        batch_op.drop_constraint(op.f('ck_users_oidc_has_subject'), type_='check')
        batch_op.drop_constraint(op.f('uq_users_oidc_issuer'), type_='unique')
        batch_op.drop_constraint(op.f('ck_users_user_auth_source'), type_='check')
        batch_op.alter_column('password_hash', existing_type=sa.String(length=255), nullable=False)
        batch_op.drop_column('oidc_subject')
        batch_op.drop_column('oidc_issuer')
        batch_op.drop_column('auth_source')
