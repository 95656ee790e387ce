"""A statement the database refuses is a bug: the page says 500, and the log keeps the
traceback (the handler for database errors takes it before Flask would log it; under gunicorn
such a 500 once left no trace at all)."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from tests.conftest import build_app
from vendorrisk.access import public


def test_a_refused_statement_is_logged_with_its_traceback(tmp_path_factory, caplog):
    app = build_app(tmp_path_factory)

    @app.route("/broken-statement")
    @public
    def broken_statement():
        raise sa.exc.ProgrammingError("SELECT nothing", {}, Exception("column does not exist"))

    with caplog.at_level(logging.ERROR, logger="vendorrisk.errors"):
        response = app.test_client().get("/broken-statement")

    assert response.status_code == 500
    logged = [r for r in caplog.records if r.name == "vendorrisk.errors"]
    assert logged and "/broken-statement" in logged[0].getMessage()
    assert logged[0].exc_info and "column does not exist" in str(logged[0].exc_info[1])
