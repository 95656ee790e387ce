"""subcontractor records (issue 18): a supplier's subcontractors (再委託先) recorded from its
answers on review; the day we approved each one as a subcontractor of its parent, and the
parent's assessment whose list last reported it

Revision ID: a19c00000003
Revises: a19b00000002
Create Date: 2026-12-07 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a19c00000003'
down_revision = 'a19b00000002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subcontracting_approved_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('reported_in_assessment_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_suppliers_reported_in_assessment_id'), ['reported_in_assessment_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_suppliers_reported_in_assessment_id_assessments'), 'assessments', ['reported_in_assessment_id'], ['id'], ondelete='SET NULL', use_alter=True)


def downgrade():
    with op.batch_alter_table('suppliers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_suppliers_reported_in_assessment_id_assessments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_suppliers_reported_in_assessment_id'))
        batch_op.drop_column('reported_in_assessment_id')
        batch_op.drop_column('subcontracting_approved_on')
