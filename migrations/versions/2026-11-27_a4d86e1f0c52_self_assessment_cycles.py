"""self-assessment: Appendix A cycles (PDCA), their items and KPI values

Revision ID: a4d86e1f0c52
Revises: 7f3c2a9e41b0
Create Date: 2026-11-27 13:07:02.935396

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a4d86e1f0c52'
down_revision = '7f3c2a9e41b0'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('self_assessment_cycles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('template_id', sa.String(length=100), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=False),
    sa.Column('copied_from_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('open_flag', sa.Boolean(), nullable=True),
    sa.Column('d9_snapshot', sa.JSON(), nullable=True),
    sa.Column('kpi_version', sa.Integer(), nullable=False),
    sa.Column('created_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(closed_at IS NULL AND open_flag IS NOT NULL) OR (closed_at IS NOT NULL AND open_flag IS NULL)', name=op.f('ck_self_assessment_cycles_open_or_closed')),
    sa.CheckConstraint('open_flag IS NULL OR open_flag', name=op.f('ck_self_assessment_cycles_open_flag_true')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_self_assessment_cycles_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['copied_from_id'], ['self_assessment_cycles.id'], name=op.f('fk_self_assessment_cycles_copied_from_id_self_assessment_cycles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_self_assessment_cycles_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_assessment_cycles')),
    sa.UniqueConstraint('name', name=op.f('uq_self_assessment_cycles_name')),
    sa.UniqueConstraint('open_flag', name=op.f('uq_self_assessment_cycles_open_flag'))
    )
    with op.batch_alter_table('self_assessment_cycles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_assessment_cycles_as_of'), ['as_of'], unique=False)

    op.create_table('self_assessment_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=100), nullable=False),
    sa.Column('status', sa.Enum('done', 'partly', 'not_done', 'not_applicable', name='self_assessment_status', native_enum=False, create_constraint=True), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=False),
    sa.Column('evidence_file_id', sa.Integer(), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('target_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['self_assessment_cycles.id'], name=op.f('fk_self_assessment_items_cycle_id_self_assessment_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['evidence_file_id'], ['stored_files.id'], name=op.f('fk_self_assessment_items_evidence_file_id_stored_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_self_assessment_items_owner_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_self_assessment_items_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_assessment_items')),
    sa.UniqueConstraint('cycle_id', 'question_id', name='uq_self_assessment_items_question')
    )
    with op.batch_alter_table('self_assessment_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_assessment_items_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_self_assessment_items_evidence_file_id'), ['evidence_file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_self_assessment_items_owner_id'), ['owner_id'], unique=False)

    op.create_table('self_assessment_kpis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=50), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.CheckConstraint('value >= 0', name=op.f('ck_self_assessment_kpis_value')),
    sa.ForeignKeyConstraint(['cycle_id'], ['self_assessment_cycles.id'], name=op.f('fk_self_assessment_kpis_cycle_id_self_assessment_cycles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_self_assessment_kpis')),
    sa.UniqueConstraint('cycle_id', 'key', name='uq_self_assessment_kpis_key')
    )
    with op.batch_alter_table('self_assessment_kpis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_self_assessment_kpis_cycle_id'), ['cycle_id'], unique=False)



def downgrade():
    with op.batch_alter_table('self_assessment_kpis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_assessment_kpis_cycle_id'))

    op.drop_table('self_assessment_kpis')
    with op.batch_alter_table('self_assessment_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_assessment_items_owner_id'))
        batch_op.drop_index(batch_op.f('ix_self_assessment_items_evidence_file_id'))
        batch_op.drop_index(batch_op.f('ix_self_assessment_items_cycle_id'))

    op.drop_table('self_assessment_items')
    with op.batch_alter_table('self_assessment_cycles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_self_assessment_cycles_as_of'))

    op.drop_table('self_assessment_cycles')
