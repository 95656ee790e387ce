"""the roll-up's kept figures (issue 19): the data versions — counters a committed write moves
whenever it changes a table the roll-up's and the report's figures read ("figures"), or the
quarterly snapshots ("snapshots") — and the index that tells in two probes whether the completed
assessments use more than one questionnaire

Revision ID: a20a00000001
Revises: a19c00000003
Create Date: 2026-12-07 18:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a20a00000001'
down_revision = 'a19c00000003'
branch_labels = None
depends_on = None

COUNTERS = ('figures', 'snapshots')


def upgrade():
    versions = op.create_table('data_versions',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_data_versions'))
    )
    # A random start, as the app's own UPSERT gives a counter made anew: a worker still running
    # from before a downgrade and upgrade never takes these for versions it has kept figures of.
    op.bulk_insert(versions, [{'name': name, 'version': secrets.randbits(62)} for name in COUNTERS])
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_status_template', ['status', 'template_id'], unique=False)


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_status_template')
    op.drop_table('data_versions')
