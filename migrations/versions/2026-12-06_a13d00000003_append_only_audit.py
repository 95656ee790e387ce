"""the audit log is append-only

Revision ID: a13d00000003
Revises: a13c00000002
Create Date: 2026-12-06 03:00:00.000000

Triggers refuse UPDATE and DELETE of audit rows (and TRUNCATE on PostgreSQL), and a dedupe key
keeps refused requests to one row a minute. The SQL is a frozen copy of vendorrisk/models/audit.py
(which makes the same triggers when tests build the tables with create_all).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a13d00000003'
down_revision = 'a13c00000002'
branch_labels = None
depends_on = None

REFUSAL = "audit_events is append-only"
SQLITE_TRIGGERS = {
    "audit_events_no_update": (
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    ),
    "audit_events_no_delete": (
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    ),
}
POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{REFUSAL} (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege'; "
    "END $$"
)
POSTGRES_TRIGGER = (
    "CREATE TRIGGER audit_events_append_only "
    "BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()"
)


def upgrade():
    # A plain ADD COLUMN and CREATE INDEX: no batch copy of the table (which would drop triggers).
    op.add_column("audit_events", sa.Column("dedupe_key", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_audit_events_dedupe_key", "audit_events", ["dedupe_key"], unique=True
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for sql in SQLITE_TRIGGERS.values():
            op.execute(sql)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_audit_events_dedupe_key", table_name="audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("dedupe_key")
