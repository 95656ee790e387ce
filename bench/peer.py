"""The floor the supplier list is measured against: a minimal Flask + Flask-SQLAlchemy app.

It runs the very SQL statements the list page ran (recorded by bench/run.py from the page
itself, parameters and all, in BENCH_PEER_STATEMENTS) on the same database, and answers an HTML
table of the page's rows with the other results as a select list: what any Flask app showing
that list must at least do, without the app's login, access rules, forms, layout or labels.
Served by gunicorn with the same workers as the app:
    BENCH_PEER_DATABASE_URL=... BENCH_PEER_STATEMENTS=file.json gunicorn 'bench.peer:create_app()'
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask import Flask, render_template_string
from flask_sqlalchemy import SQLAlchemy

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>取引先一覧</title></head>
<body><h1>取引先一覧</h1>
<form>{% for rows in others %}<select>{% for row in rows %}<option value="{{ row[0] }}">
{{ row[1:] | join(' ') }}</option>{% endfor %}</select>{% endfor %}</form>
<table><thead><tr>{% for name in names %}<th>{{ name }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr>{% for value in row %}<td>{{ value }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></body></html>
"""


def encode(value: Any) -> Any:
    """A statement parameter as JSON (dates and datetimes tagged, to be given back as such)."""
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    if isinstance(value, date):
        return {"__date__": value.isoformat()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(data: dict[str, Any]) -> Any:
    if "__datetime__" in data:
        return datetime.fromisoformat(data["__datetime__"])
    if "__date__" in data:
        return date.fromisoformat(data["__date__"])
    return data


def save_statements(path: Path, statements: list[tuple[str, Any]]) -> None:
    """Write recorded (statement, parameters) pairs for the peer; the main one (LIMIT) last."""
    main = [s for s in statements if " LIMIT " in s[0]]
    others = [s for s in statements if " LIMIT " not in s[0]]
    data = [
        {"sql": sql, "params": list(params) if isinstance(params, tuple) else params}
        for sql, params in [*others, *main[-1:]]
    ]
    path.write_text(json.dumps(data, default=encode, ensure_ascii=False), encoding="utf-8")


def load_statements(path: str) -> list[tuple[str, Any]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"), object_hook=decode)
    return [(s["sql"], tuple(s["params"]) if isinstance(s["params"], list) else s["params"])
            for s in data]  # fmt: skip


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["BENCH_PEER_DATABASE_URL"]
    db = SQLAlchemy(app)
    statements = load_statements(os.environ["BENCH_PEER_STATEMENTS"])

    @app.get("/")
    def page() -> str:
        conn = db.session.connection()
        others = [conn.exec_driver_sql(sql, params).all() for sql, params in statements[:-1]]
        result = conn.exec_driver_sql(*statements[-1])
        names, rows = list(result.keys()), result.all()
        db.session.rollback()
        return render_template_string(PAGE, names=names, rows=rows, others=others)

    return app
