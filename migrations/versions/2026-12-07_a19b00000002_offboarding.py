"""offboarding (issue 18): the checklist a supplier goes through when its contract ends or it is
retired (data returned, erasure certificate, access removed, links revoked, findings closed), the
emailed link that takes the erasure certificate, and the supplier status `offboarding` (the
checklist is open: still live) before `offboarded`

Revision ID: a19b00000002
Revises: a19a00000001
Create Date: 2026-12-07 14:00:00

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a19b00000002'
down_revision = 'a19a00000001'
branch_labels = None
depends_on = None

STATUSES_BEFORE = ('onboarding', 'active', 'offboarded')
STATUSES = ('onboarding', 'active', 'offboarding', 'offboarded')


def _statuses(statuses):
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade():
    op.create_table('offboardings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('contract_ended', 'retired', name='offboarding_reason', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('exception_reason', sa.Text(), server_default='', nullable=False),
    sa.Column('exception_by_id', sa.Integer(), nullable=True),
    sa.Column('exception_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("exception_at IS NULL OR (exception_reason != '' AND completed_at IS NULL)", name=op.f('ck_offboardings_exception_with_reason')),
    sa.ForeignKeyConstraint(['exception_by_id'], ['users.id'], name=op.f('fk_offboardings_exception_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_offboardings_started_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_offboardings_supplier_id_suppliers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offboardings')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('offboardings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offboardings_supplier_id'), ['supplier_id'], unique=False)
        batch_op.create_index('uq_offboardings_open_supplier', ['supplier_id'], unique=True, sqlite_where=sa.text('completed_at IS NULL AND exception_at IS NULL'), postgresql_where=sa.text('completed_at IS NULL AND exception_at IS NULL'))

    op.create_table('erasure_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offboarding_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('fulfilled_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('created_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("locale IN ('ja', 'en')", name=op.f('ck_erasure_requests_locale')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_erasure_requests_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offboarding_id'], ['offboardings.id'], name=op.f('fk_erasure_requests_offboarding_id_offboardings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_erasure_requests_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure_requests')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_erasure_requests_token_hash')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('erasure_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_requests_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_erasure_requests_offboarding_id'), ['offboarding_id'], unique=False)

    op.create_table('offboarding_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offboarding_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=30), nullable=False),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('done_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('stored_file_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("key IN ('data_returned', 'erasure_certificate', 'access_removed', 'links_revoked', 'findings_closed')", name=op.f('ck_offboarding_steps_offboarding_step_key')),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_offboarding_steps_done_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offboarding_id'], ['offboardings.id'], name=op.f('fk_offboarding_steps_offboarding_id_offboardings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stored_file_id'], ['stored_files.id'], name=op.f('fk_offboarding_steps_stored_file_id_stored_files'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offboarding_steps')),
    sa.UniqueConstraint('offboarding_id', 'key', name=op.f('uq_offboarding_steps_offboarding_id'))
    )
    with op.batch_alter_table('offboarding_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offboarding_steps_offboarding_id'), ['offboarding_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_offboarding_steps_stored_file_id'), ['stored_file_id'], unique=False)

    # The new status is one character longer than the longest before (the enum column's length).
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_suppliers_supplier_status'), type_='check')
        batch_op.alter_column('status',
               existing_type=sa.String(length=10),
               type_=sa.String(length=11),
               existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_suppliers_supplier_status'), _statuses(STATUSES))


def downgrade():
    # A supplier whose checklist was open is live again as `active`; the checklists, their links
    # and the erasure certificates' rows go (the sweep-files job then removes the certificates'
    # bytes, which no row names any more).
    op.execute("UPDATE suppliers SET status = 'active' WHERE status = 'offboarding'")
    certificates = "SELECT stored_file_id FROM offboarding_steps WHERE stored_file_id IS NOT NULL"
    op.execute(f"DELETE FROM stored_files WHERE id IN ({certificates})")
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_suppliers_supplier_status'), type_='check')
        batch_op.alter_column('status',
               existing_type=sa.String(length=11),
               type_=sa.String(length=10),
               existing_nullable=False)
        batch_op.create_check_constraint(op.f('ck_suppliers_supplier_status'), _statuses(STATUSES_BEFORE))

    with op.batch_alter_table('offboarding_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offboarding_steps_stored_file_id'))
        batch_op.drop_index(batch_op.f('ix_offboarding_steps_offboarding_id'))

    op.drop_table('offboarding_steps')
    with op.batch_alter_table('erasure_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_requests_offboarding_id'))
        batch_op.drop_index(batch_op.f('ix_erasure_requests_contact_id'))

    op.drop_table('erasure_requests')
    with op.batch_alter_table('offboardings', schema=None) as batch_op:
        batch_op.drop_index('uq_offboardings_open_supplier', sqlite_where=sa.text('completed_at IS NULL AND exception_at IS NULL'), postgresql_where=sa.text('completed_at IS NULL AND exception_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_offboardings_supplier_id'))

    op.drop_table('offboardings')
