"""The Alembic migrations build the schema from empty to head and back, matching the models."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from tests.conftest import build_app
from vendorrisk.extensions import db

PG_URL = os.environ.get("VENDORRISK_TEST_DATABASE_URL", "")


def _fresh_postgres() -> Iterator[str]:
    server = sa.engine.make_url(PG_URL)
    name = f"vr_migrations_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def empty_database(tmp_path) -> Iterator[str]:
    if PG_URL.startswith("postgresql"):
        yield from _fresh_postgres()
    else:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_from_empty_to_head_and_back(tmp_path_factory, empty_database):
    app = build_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=empty_database)
    with app.app_context():
        upgrade()
        expected = {t.name for t in db.metadata.sorted_tables}
        assert expected <= _tables(empty_database)
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        result = app.test_cli_runner().invoke(args=["db", "check"])
        assert result.exit_code == 0, result.output
        downgrade(revision="base")
        assert _tables(empty_database) - {"alembic_version"} == set()
        upgrade()
        assert expected <= _tables(empty_database)
        db.engine.dispose()


def test_scs_levels_move_to_attestations_and_children_survive(tmp_path_factory, empty_database):
    """a17a: each supplier's SCS level becomes an SCS attestation (★3 self-assessed, ★4 by a
    third party) and back; rebuilding the suppliers table on SQLite keeps its attestations (the
    migration turns foreign keys off, so the drop does not cascade)."""
    app = build_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=empty_database)
    supplier = (
        "INSERT INTO suppliers (name_ja, name_en, category, status, criticality, services, "
        "country, website, shares_personal_info, shares_confidential_info, has_network_access, "
        "has_admin_access, notes, max_outage, replaceability, scs_level, scs_expires_on, "
        "created_at, updated_at) VALUES (:name, '', 'other', 'active', 'low', '', 'JP', '', "
        "false, false, false, false, '', 'weeks', 'easy', :level, :until, :at, :at)"
    )
    isms = (
        "INSERT INTO attestations (supplier_id, kind, name, identifier, issuer, scope, notes, "
        "expires_on, created_at, updated_at) SELECT id, 'isms', '', 'IS 1', '', '', '', "
        ":until, :at, :at FROM suppliers"
    )
    at = "2026-01-05 00:00:00"
    with app.app_context():
        upgrade(revision="a16a00000001")
        with db.engine.begin() as conn:
            for name, level in (("三星", "star3"), ("四星", "star4"), ("無し", None)):
                until = "2028-03-31" if level else None
                conn.execute(
                    sa.text(supplier), {"name": name, "level": level, "until": until, "at": at}
                )
            conn.execute(sa.text(isms), {"until": "2027-06-30", "at": at})
            conn.execute(  # a submitted questionnaire stating a renewed SCS evaluation …
                sa.text(
                    "INSERT INTO assessments (supplier_id, template_id, template_version, "
                    "status, due_on, message, review_note, created_at, updated_at) SELECT id, "
                    "'csm-v2-supplier', 1, 'submitted', '2026-02-01', '', '', :at, :at "
                    "FROM suppliers WHERE name_ja = '四星'"
                ),
                {"at": at},
            )
            conn.execute(  # … and the proposal it made while the level lived on the supplier
                sa.text(
                    "INSERT INTO attestation_proposals (supplier_id, kind, fields, status, "
                    "reason, assessment_id, created_at) SELECT supplier_id, 'scs', :fields, "
                    "'pending', '', id, :at FROM assessments"
                ),
                {"fields": '{"expires_on": "2029-03-31"}', "at": at},
            )
        upgrade(revision="a17a00000001")
        with db.engine.connect() as conn:
            linked = conn.execute(
                sa.text(
                    "SELECT a.kind, a.scs_level FROM attestation_proposals p "
                    "JOIN attestations a ON a.id = p.attestation_id WHERE p.kind = 'scs'"
                )
            ).all()
            assert [tuple(r) for r in linked] == [("scs", "star4")]  # it renews that evaluation
            conn.execute(  # a renewal asked by link of an SCS evaluation, then a downgrade
                sa.text(
                    "INSERT INTO evidence_requests (attestation_id, contact_id, email, locale, "
                    "token_hash, expires_at, created_at) SELECT a.id, NULL, 'x@example.jp', "
                    "'ja', :hash, :at, :at FROM attestations a "
                    "WHERE a.kind = 'scs' AND a.scs_level = 'star4'"
                ),
                {"hash": "e" * 64, "at": at},
            )
            conn.commit()
            rows = conn.execute(
                sa.text(
                    "SELECT s.name_ja, a.kind, a.scs_level, a.evaluation, a.expires_on "
                    "FROM attestations a JOIN suppliers s ON s.id = a.supplier_id "
                    "ORDER BY s.id, a.kind"
                )
            ).all()
        found = [(n, k, lv, ev, str(e) if e else None) for n, k, lv, ev, e in rows]
        assert found == [
            ("三星", "isms", None, None, "2027-06-30"),
            ("三星", "scs", "star3", "self", "2028-03-31"),
            ("四星", "isms", None, None, "2027-06-30"),
            ("四星", "scs", "star4", "third_party", "2028-03-31"),
            ("無し", "isms", None, None, "2027-06-30"),
        ]
        downgrade(revision="a16a00000001")
        with db.engine.connect() as conn:
            back = conn.execute(
                sa.text("SELECT name_ja, scs_level, scs_expires_on FROM suppliers ORDER BY id")
            ).all()
            kinds = conn.execute(sa.text("SELECT kind FROM attestations ORDER BY id")).scalars()
            assert [str(k) for k in kinds] == ["isms", "isms", "isms"]
            requests = conn.execute(sa.text("SELECT count(*) FROM evidence_requests")).scalar()
            proposal = conn.execute(
                sa.text("SELECT kind, attestation_id FROM attestation_proposals")
            ).all()
            assert requests == 0  # went with the SCS evaluation it asked to renew
            assert [tuple(p) for p in proposal] == [("scs", None)]  # back to the supplier
        assert [(n, lv, str(e) if e else None) for n, lv, e in back] == [
            ("三星", "star3", "2028-03-31"),
            ("四星", "star4", "2028-03-31"),
            ("無し", None, None),
        ]
        db.engine.dispose()


def test_offboarding_goes_back_to_active_and_its_rows_go_on_downgrade(
    tmp_path_factory, empty_database
):
    """a19b: a supplier whose checklist was open is `active` again, an offboarded one stays so;
    the checklists, their steps, links and certificates' rows go; upgrading again works."""
    app = build_app(tmp_path_factory, SQLALCHEMY_DATABASE_URI=empty_database)
    supplier = (
        "INSERT INTO suppliers (name_ja, name_en, category, status, criticality, services, "
        "country, website, shares_personal_info, shares_confidential_info, has_network_access, "
        "has_admin_access, notes, max_outage, replaceability, created_at, updated_at) VALUES "
        "(:name, '', 'other', :status, 'low', '', 'JP', '', false, false, false, false, '', "
        "'weeks', 'easy', :at, :at)"
    )
    at = "2027-03-01 00:00:00"
    with app.app_context():
        upgrade(revision="a19b00000002")
        with db.engine.begin() as conn:
            for name, status in (("手続中", "offboarding"), ("終了済", "offboarded")):
                conn.execute(sa.text(supplier), {"name": name, "status": status, "at": at})
            conn.execute(
                sa.text(
                    "INSERT INTO stored_files (storage_key, original_name, content_type, size, "
                    "sha256, created_at) VALUES ('k1', 'cert.pdf', 'application/pdf', 1, 'x', :at)"
                ),
                {"at": at},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO offboardings (supplier_id, reason, note, started_at, "
                    "exception_reason) SELECT id, 'retired', '', :at, '' FROM suppliers"
                ),
                {"at": at},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO offboarding_steps (offboarding_id, key, note, stored_file_id) "
                    "SELECT id, 'erasure_certificate', '', (SELECT id FROM stored_files) "
                    "FROM offboardings"
                )
            )
        downgrade(revision="-1")
        with db.engine.connect() as conn:
            statuses = conn.execute(
                sa.text("SELECT name_ja, status FROM suppliers ORDER BY id")
            ).all()
            files_left = conn.execute(sa.text("SELECT count(*) FROM stored_files")).scalar()
        assert [tuple(row) for row in statuses] == [("手続中", "active"), ("終了済", "offboarded")]
        assert files_left == 0
        assert {"offboardings", "offboarding_steps", "erasure_requests"}.isdisjoint(
            _tables(empty_database)
        )
        upgrade()
        db.engine.dispose()
