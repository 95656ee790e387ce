"""attestation_proposals

Revision ID: a15a00000001
Revises: a13e00000004
Create Date: 2026-12-06 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a15a00000001'
down_revision = 'a13e00000004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attestation_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('attestation_id', sa.Integer(), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=True),
    sa.Column('evidence_request_id', sa.Integer(), nullable=True),
    sa.Column('evidence_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'accepted', 'rejected', 'superseded', name='proposal_status', native_enum=False, create_constraint=True), server_default='pending', nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('security_action', 'isms', 'pmark', 'ismap', 'csms', 'soc2', 'cyber_insurance', 'other', 'scs')", name=op.f('ck_attestation_proposals_proposal_kind')),
    sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name=op.f('ck_attestation_proposals_decided_unless_pending')),
    sa.CheckConstraint('assessment_id IS NOT NULL OR evidence_request_id IS NOT NULL', name=op.f('ck_attestation_proposals_has_source')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_attestation_proposals_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['attestation_id'], ['attestations.id'], name=op.f('fk_attestation_proposals_attestation_id_attestations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_attestation_proposals_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['evidence_id'], ['stored_files.id'], name=op.f('fk_attestation_proposals_evidence_id_stored_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['evidence_request_id'], ['evidence_requests.id'], name=op.f('fk_attestation_proposals_evidence_request_id_evidence_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_attestation_proposals_supplier_id_suppliers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attestation_proposals'))
    )
    with op.batch_alter_table('attestation_proposals', schema=None) as batch_op:
        for column in ('assessment_id', 'attestation_id', 'evidence_request_id', 'status', 'supplier_id'):
            batch_op.create_index(batch_op.f(f'ix_attestation_proposals_{column}'), [column], unique=False)


def downgrade():
    op.drop_table('attestation_proposals')
