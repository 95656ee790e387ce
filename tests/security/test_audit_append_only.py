"""The audit log is append-only in the database, not only for lack of a route that edits it.

The attacker here has the application's own database access — a SQL injection, a compromised
worker, a careless maintenance script — and wants to erase or rewrite what the log says they
did. UPDATE, DELETE (and TRUNCATE on PostgreSQL) of audit rows must fail, whether sent as raw SQL
or through the ORM, on SQLite and PostgreSQL, with the tables made by create_all (the tests) or
by the migrations (production); the app's own operations must still write their rows.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import POSTGRES_SUITE, build_app
from tests.test_migrations import empty_database  # noqa: F401 (a fixture)
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent, Role
from vendorrisk.models.audit import AppendOnlyError

RAW_TAMPERING = [
    "UPDATE audit_events SET actor_label = 'someone else'",
    "UPDATE audit_events SET action = 'login' WHERE action = 'login_failed'",
    "DELETE FROM audit_events",
    "DELETE FROM audit_events WHERE actor_label LIKE 'procurement%'",
]


@pytest.fixture
def logged(app, auth, make_supplier):
    """What the attacker wants gone: a failed login, a login, a supplier they created."""
    auth.client.post("/auth/login", data={"email": "x@example.com", "password": "wrong"})
    auth.login(Role.procurement)
    make_supplier()
    return _snapshot(app)


def _snapshot(app) -> list[dict]:
    with app.app_context(), db.engine.connect() as conn:
        query = sa.select(AuditEvent.__table__).order_by(AuditEvent.id)
        return [dict(row) for row in conn.execute(query).mappings()]


@pytest.mark.parametrize("sql", RAW_TAMPERING)
def test_raw_sql_cannot_change_or_remove_audit_rows(app, logged, sql):
    assert {row["action"] for row in logged} >= {"login_failed", "login", "create"}
    refused = pytest.raises(sa.exc.DBAPIError, match="append-only")
    with app.app_context(), refused, db.engine.begin() as conn:
        conn.execute(sa.text(sql))
    assert _snapshot(app) == logged


@pytest.mark.parametrize("sql", RAW_TAMPERING)
def test_raw_sql_through_the_session_is_refused_too(app, logged, sql):
    with app.app_context():
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            db.session.execute(sa.text(sql))
        db.session.rollback()
    assert _snapshot(app) == logged


@pytest.mark.skipif(not POSTGRES_SUITE, reason="SQLite has no TRUNCATE")
def test_truncate_is_refused(app, logged):
    refused = pytest.raises(sa.exc.DBAPIError, match="append-only")
    with app.app_context(), refused, db.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE audit_events"))
    assert _snapshot(app) == logged


def _orm_change(row: AuditEvent) -> None:
    row.actor_label = "someone else"


def _orm_delete(row: AuditEvent) -> None:
    db.session.delete(row)


def _bulk_update(row: AuditEvent) -> None:
    db.session.execute(sa.update(AuditEvent).values(summary=""))


def _bulk_delete(row: AuditEvent) -> None:
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == row.id))


def _core_delete_in_session(row: AuditEvent) -> None:
    db.session.execute(AuditEvent.__table__.delete())


@pytest.mark.parametrize(
    "tamper", [_orm_change, _orm_delete, _bulk_update, _bulk_delete, _core_delete_in_session]
)
def test_the_orm_cannot_change_or_remove_audit_rows(app, logged, tamper):
    with app.app_context():
        row = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).first()
        with pytest.raises(AppendOnlyError):
            tamper(row)
            db.session.commit()
        db.session.rollback()
    assert _snapshot(app) == logged


def test_the_apps_own_operations_still_write_rows(app, auth, logged):
    auth.client.post(
        "/suppliers/new",
        data={
            "name_ja": "株式会社追記",
            "category": "cloud_service",
            "status": "active",
            "criticality": "high",
            "country": "JP",
        },
    )
    auth.client.get("/admin/users")  # refused: its row is written in its own transaction
    auth.logout()
    after = _snapshot(app)
    assert after[: len(logged)] == logged
    new = [row["action"] for row in after[len(logged) :]]
    assert new[0] == "create" and new[-2:] == ["access_denied", "logout"]


def _tamper(app) -> list[str]:
    """Which of UPDATE and DELETE the database let through."""
    through = []
    for sql in ("UPDATE audit_events SET summary = 'x'", "DELETE FROM audit_events"):
        try:
            with app.app_context(), db.engine.begin() as conn:
                conn.execute(sa.text(sql))
            through.append(sql.split()[0])
        except sa.exc.DBAPIError as error:
            assert "append-only" in str(error)
    return through


def test_the_migration_makes_the_same_triggers_and_takes_them_away(
    tmp_path_factory,
    empty_database,  # noqa: F811
):
    app = build_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=empty_database)
    with app.app_context():
        upgrade(revision="a13d00000003")
        with db.engine.begin() as conn:
            conn.execute(
                sa.insert(AuditEvent.__table__).values(
                    occurred_at=sa.func.now(), actor_type="system", action="backup", summary="s"
                )
            )
    assert _tamper(app) == []
    with app.app_context():
        downgrade(revision="a13c00000002")
    assert _tamper(app) == ["UPDATE", "DELETE"]
    with app.app_context():
        downgrade(revision="base")
        db.engine.dispose()
