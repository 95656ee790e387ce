"""self-assessment: a cycle started in another edition keeps where each answer went; items
carried through the crosswalk are flagged for review (issue 16)

Revision ID: a16a00000001
Revises: a15b00000002
Create Date: 2026-12-07 00:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a16a00000001'
down_revision = 'a15b00000002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('self_assessment_cycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried', sa.JSON(), nullable=True))
    with op.batch_alter_table('self_assessment_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sa.String(length=20), nullable=True))
        batch_op.create_check_constraint(
            op.f('ck_self_assessment_items_review'), "review IS NULL OR review IN ('split', 'merged', 'new', 'dropped')"
        )


def downgrade():
    with op.batch_alter_table('self_assessment_items', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_self_assessment_items_review'), type_='check')
        batch_op.drop_column('review')
    with op.batch_alter_table('self_assessment_cycles', schema=None) as batch_op:
        batch_op.drop_column('carried')
