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
