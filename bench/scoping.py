"""What scoped access by business unit costs a request: the same pages, in process, for a
procurement user before the company has units (no criteria), for the same user once the register
is split into four units (loader criteria on every statement), and for the CISO (unscoped).

Run: .venv/bin/python bench/scoping.py [N] [--repeat R]   (SQLite in a temporary file)
Prints the median milliseconds of each page for each caller, and the statements per request.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import data  # noqa: E402
from vendorrisk.extensions import db  # noqa: E402
from vendorrisk.models import BusinessUnit, Supplier, UnitMembership, User  # noqa: E402

PAGES = {
    "supplier list, filtered, p.3": "/suppliers/?sort=tier&criticality=high&page=3",
    "supplier page": "/suppliers/{supplier}",
    "roll-up (kept)": "/rollup",
    "report": "/report",
    "findings": "/findings/",
}


def _client(app, email: str):
    client = app.test_client()
    response = client.post("/auth/login", data={"email": email, "password": data.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def _split_into_units(app, units: int = 4) -> str:
    """Every supplier into one of `units` units by id; owner01 works for the first."""
    with app.app_context():
        made = [BusinessUnit(code=f"U{i}", name=f"部門{i}") for i in range(units)]
        db.session.add_all(made)
        db.session.flush()
        for i, unit in enumerate(made):
            db.session.execute(
                sa.update(Supplier).where(Supplier.id % units == i).values(unit_id=unit.id)
            )
        owner = db.session.scalar(sa.select(User).where(User.email.like("owner01@%")))
        db.session.add(UnitMembership(user_id=owner.id, unit_id=made[0].id))
        db.session.commit()
        email = owner.email
        db.session.remove()
    return email


def _measure(app, client, supplier_id: int, repeat: int) -> dict[str, tuple[float, int]]:
    statements = []
    counter = lambda *args: statements.append(1)  # noqa: E731
    figures = {}
    for name, path in PAGES.items():
        url = path.format(supplier=supplier_id)
        client.get(url).close()  # warm: templates, kept figures
        times = []
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        for _ in range(repeat):
            statements.clear()
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            response.close()
        sa.event.remove(engine, "before_cursor_execute", counter)
        figures[name] = (statistics.median(times), len(statements))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/scoping.sqlite3"
        built = data.build(url, args.n, upload_dir=folder)
        print(f"{args.n} suppliers built in {built['seconds']} s", flush=True)
        app = data.make_app(url, WTF_CSRF_ENABLED=False, UPLOAD_DIR=folder)
        with app.app_context():
            supplier_id = db.session.scalar(
                sa.select(Supplier.id).where(Supplier.id % 4 == 0).limit(1)
            )
            owner = db.session.scalar(sa.select(User.email).where(User.email.like("owner01@%")))
            db.session.remove()
        runs = {
            "procurement, no units": _measure(app, _client(app, owner), supplier_id, args.repeat)
        }
        owner = _split_into_units(app)
        runs["procurement, 1 of 4 units"] = _measure(
            app, _client(app, owner), supplier_id, args.repeat
        )
        runs["CISO (sees all)"] = _measure(
            app, _client(app, data.CISO_EMAIL), supplier_id, args.repeat
        )
    callers = list(runs)
    print(f"\nmedian ms (statements) over {args.repeat} requests, in process, SQLite")
    print(f"{'page':32}" + "".join(f"{c:>28}" for c in callers))
    for page in PAGES:
        cells = "".join(f"{runs[c][page][0]:>21.1f} ({runs[c][page][1]:>3})" for c in callers)
        print(f"{page:32}{cells}")


if __name__ == "__main__":
    main()
