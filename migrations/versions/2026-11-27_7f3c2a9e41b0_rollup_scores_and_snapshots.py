"""roll-up: stored area scores and quarterly snapshots

Revision ID: 7f3c2a9e41b0
Revises: 3a2501ad720d
Create Date: 2026-11-27 14:00:00.000000

The area scores of assessments completed before this revision are filled in by the
rollup-snapshot job's first run (or at once with `vendorrisk rollup backfill`): they are computed
from each assessment's stored score_detail and its questionnaire template, which a migration
cannot load.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7f3c2a9e41b0'
down_revision = '3a2501ad720d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('area_scores',
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('directive_1', sa.Float(), nullable=True),
    sa.Column('directive_2', sa.Float(), nullable=True),
    sa.Column('directive_3', sa.Float(), nullable=True),
    sa.Column('directive_4', sa.Float(), nullable=True),
    sa.Column('directive_5', sa.Float(), nullable=True),
    sa.Column('directive_6', sa.Float(), nullable=True),
    sa.Column('directive_7', sa.Float(), nullable=True),
    sa.Column('directive_8', sa.Float(), nullable=True),
    sa.Column('directive_9', sa.Float(), nullable=True),
    sa.Column('directive_10', sa.Float(), nullable=True),
    sa.Column('csf_gv', sa.Float(), nullable=True),
    sa.Column('csf_id', sa.Float(), nullable=True),
    sa.Column('csf_pr', sa.Float(), nullable=True),
    sa.Column('csf_de', sa.Float(), nullable=True),
    sa.Column('csf_rs', sa.Float(), nullable=True),
    sa.Column('csf_rc', sa.Float(), nullable=True),
    sa.CheckConstraint('directive_1 BETWEEN 0 AND 100', name=op.f('ck_area_scores_directive_1_range')),
    sa.CheckConstraint('directive_2 BETWEEN 0 AND 100', name=op.f('ck_area_scores_directive_2_range')),
    sa.CheckConstraint('directive_3 BETWEEN 0 AND 100', name=op.f('ck_area_scores_directive_3_range')),
    sa.CheckConstraint('directive_4 BETWEEN 0 AND 100', name=op.f('ck_area_scores_directive_4_range')),
    sa.CheckConstraint('directive_5 BETWEEN 0 AND 100', name=op.f('ck_area_scores_directive_5_range')),
    sa.CheckConstraint('directive_6 BETWEEN 0 AND 100', name=op.f('ck_area_scores_directive_6_range')),
    sa.CheckConstraint('directive_7 BETWEEN 0 AND 100', name=op.f('ck_area_scores_directive_7_range')),
    sa.CheckConstraint('directive_8 BETWEEN 0 AND 100', name=op.f('ck_area_scores_directive_8_range')),
    sa.CheckConstraint('directive_9 BETWEEN 0 AND 100', name=op.f('ck_area_scores_directive_9_range')),
    sa.CheckConstraint('directive_10 BETWEEN 0 AND 100', name=op.f('ck_area_scores_directive_10_range')),
    sa.CheckConstraint('csf_gv BETWEEN 0 AND 100', name=op.f('ck_area_scores_csf_gv_range')),
    sa.CheckConstraint('csf_id BETWEEN 0 AND 100', name=op.f('ck_area_scores_csf_id_range')),
    sa.CheckConstraint('csf_pr BETWEEN 0 AND 100', name=op.f('ck_area_scores_csf_pr_range')),
    sa.CheckConstraint('csf_de BETWEEN 0 AND 100', name=op.f('ck_area_scores_csf_de_range')),
    sa.CheckConstraint('csf_rs BETWEEN 0 AND 100', name=op.f('ck_area_scores_csf_rs_range')),
    sa.CheckConstraint('csf_rc BETWEEN 0 AND 100', name=op.f('ck_area_scores_csf_rc_range')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_area_scores_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_area_scores_supplier_id_suppliers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('assessment_id', name=op.f('pk_area_scores'))
    )
    with op.batch_alter_table('area_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_area_scores_supplier_id'), ['supplier_id'], unique=False)

    # The roll-up's aggregates: each supplier's latest completed assessment, overdue ones, and
    # the Directive 9 facts per supplier, without a sort or a table read at ten thousand suppliers.
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_latest_completed', ['supplier_id', 'status', 'completed_at', 'id', 'template_id'], unique=False)
        batch_op.create_index('ix_assessments_status_due_on', ['status', 'due_on'], unique=False)
    with op.batch_alter_table('attestations', schema=None) as batch_op:
        batch_op.create_index('ix_attestations_supplier_kind', ['supplier_id', 'kind', 'expires_on', 'level'], unique=False)

    op.create_table('rollup_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('captured_on', sa.Date(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('tier', sa.String(length=10), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('template_id', sa.String(length=100), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('security_action', sa.SmallInteger(), nullable=False),
    sa.Column('isms_valid', sa.Boolean(), nullable=False),
    sa.Column('insurance_valid', sa.Boolean(), nullable=False),
    sa.Column('clauses', sa.SmallInteger(), nullable=False),
    sa.Column('level_met', sa.Boolean(), nullable=False),
    sa.Column('open_findings', sa.Integer(), nullable=False),
    sa.Column('review_overdue', sa.Boolean(), nullable=False),
    sa.Column('assessment_overdue', sa.Boolean(), nullable=False),
    sa.CheckConstraint('clauses BETWEEN 0 AND 7', name=op.f('ck_rollup_snapshots_clauses')),
    sa.CheckConstraint('security_action BETWEEN 0 AND 2', name=op.f('ck_rollup_snapshots_security_action')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rollup_snapshots')),
    sa.UniqueConstraint('period', 'supplier_id', name='uq_rollup_snapshots_period_supplier')
    )


def downgrade():
    op.drop_table('rollup_snapshots')
    with op.batch_alter_table('attestations', schema=None) as batch_op:
        batch_op.drop_index('ix_attestations_supplier_kind')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_status_due_on')
        batch_op.drop_index('ix_assessments_latest_completed')

    with op.batch_alter_table('area_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_area_scores_supplier_id'))

    op.drop_table('area_scores')
