"""covers (issue 17): a certificate or check sheet a supplier already holds (ISMS, an SCS ★
evaluation result, a 自工会/部工会 check sheet) given as the answer to the questions it covers,
reviewed by staff; each answer names the cover that gave it

Revision ID: a18a00000001
Revises: a17a00000001
Create Date: 2026-12-07 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import vendorrisk.models.base


# revision identifiers, used by Alembic.
revision = 'a18a00000001'
down_revision = 'a17a00000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('covers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('created_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('pending', 'accepted', 'rejected', name='cover_status', native_enum=False, create_constraint=True), server_default='pending', nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', vendorrisk.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.CheckConstraint("(status = 'pending') = (reviewed_at IS NULL)", name=op.f('ck_covers_reviewed_unless_pending')),
    sa.CheckConstraint("kind IN ('isms', 'scs', 'jama')", name=op.f('ck_covers_cover_kind')),
    sa.CheckConstraint("status != 'rejected' OR reason != ''", name=op.f('ck_covers_rejected_with_reason')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_covers_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_covers_contact_id_contacts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_covers_file_id_stored_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_covers_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_covers'))
    )
    with op.batch_alter_table('covers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_covers_assessment_id'), ['assessment_id'], unique=False)

    # A nullable column: existing answers were all typed (or carried over), none given by a cover.
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cover_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_answers_cover_id'), ['cover_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_answers_cover_id_covers'), 'covers', ['cover_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_answers_cover_id_covers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_answers_cover_id'))
        batch_op.drop_column('cover_id')

    with op.batch_alter_table('covers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_covers_assessment_id'))

    op.drop_table('covers')
