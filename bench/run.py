"""`make bench`: the app measured as it is served, on SQLite and on PostgreSQL, at N suppliers.

For each size and database: the data set of bench/data.py (built, or reused with --reuse), then
gunicorn with the production's four sync workers on a free loopback port (plain HTTP; the
development configuration with a real secret key, Redis for the rate limits as in production,
the portal's per-address limit raised since every simulated contact comes from 127.0.0.1; CSRF
and the origin checks stay on: the CISO logs in through the real form, contacts open their
emailed links through the real landing page). Measured, in this order:

- /rollup, /report and the supplier list (filtered, sorted, page 3): sequential, warm, the
  client's latency and the server's time (gunicorn's access log, %(D)s);
- a portal page and an answer save (autosave) the same way; then mixed portal traffic (page
  views and saves of many contacts' sittings) in an open loop at each --rates, latency from each
  request's scheduled start (bench/load.py);
- a submission, and the XLSX export of the supplier list;
- throughput (closed loop, --clients concurrent) of a static file served by the app's gunicorn,
  of the supplier list, and of a minimal Flask + Flask-SQLAlchemy app running the list's SQL
  (bench/peer.py, gunicorn with the same workers); the RSS of each app worker;
- the daily run in one process (bench/daily.py), after a catch-up run for the day before, so
  that the day measured is a day like any other.

One table is printed (figure, target, SQLite, PostgreSQL, ratio, pass/miss) and everything is
written as JSON to build/bench/<UTC time>.json; the processes' logs to build/bench/<UTC time>/.
Run: .venv/bin/python bench/run.py [--sizes 10000 30000] [--databases sqlite postgresql]
     [--keep | --reuse] [--schema models] (the models' create_all while a model is ahead of its
     migration; by default the schema is made by the migrations, as deployed). A step that fails
     (a page answering 500) is recorded in the JSON and the run goes on; the exit status is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import daily, data, load, peer  # noqa: E402
from bench.load import Client, Response, hidden_fields, summary_ms  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKERS = 4  # README's production command: gunicorn --workers 4
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/12"
LIST_URL = "/suppliers/?status=live&category=outsourcing_contractor&sort=tier&page=3"
PAGES = {"rollup": "/rollup", "report": "/report", "list": LIST_URL}
STATIC_URL = "/static/app.css"
EXPORT_URL = "/suppliers/export.xlsx"
#: The portal's biggest section (19 questions): the page measured on its own.
PORTAL_SECTION = "d5"
ACCESS_FORMAT = '%({x-bench-id}i)s %(s)s %(D)s "%(r)s"'


# -- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A gunicorn master and its workers, on one loopback port."""

    name: str
    process: subprocess.Popen
    port: int
    access_log: Path
    error_log: Path

    @classmethod
    def start(cls, name: str, app_uri: str, env: dict[str, str], logs: Path) -> Server:
        port = free_port()
        access, error = logs / f"{name}-access.log", logs / f"{name}-error.log"
        with (logs / f"{name}.out.log").open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 - the project's own gunicorn
                [str(BIN / "gunicorn"), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
                 "--access-logfile", str(access), "--access-logformat", ACCESS_FORMAT,
                 "--error-logfile", str(error), app_uri],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        server = cls(name, process, port, access, error)
        server.wait_ready()
        return server

    def wait_ready(self, path: str = "/") -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.error_log.read_text()[-3000:]}")
            if len(self.workers()) == WORKERS:
                try:
                    response = asyncio.run(load.fetch(self.port, "GET", "/static/app.css", {}))
                    if response.status < 500:
                        return
                except OSError:
                    pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} did not start in 60 s")

    def workers(self) -> list[int]:
        """The worker processes (children of the master)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return sorted(found)

    def rss_mb(self) -> list[float]:
        """VmRSS of each worker, MB."""
        sizes = []
        for pid in self.workers():
            status = Path(f"/proc/{pid}/status").read_text()
            kb = int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
            sizes.append(round(kb / 1024, 1))
        return sizes

    def server_ms(self, ids: list[str]) -> list[float]:
        """The server's time of the requests that carried these X-Bench-Id values, ms."""
        wanted, found = set(ids), {}
        for line in self.access_log.read_text(encoding="utf-8", errors="replace").splitlines():
            rid, _, rest = line.partition(" ")
            if rid in wanted:
                found[rid] = int(rest.split(" ", 2)[1]) / 1000
        return [found[i] for i in ids if i in found]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def app_env(url: str, uploads: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENDORRISK_")}
    return env | {
        "PYTHONUNBUFFERED": "1",
        "VENDORRISK_ENV": "development",
        "VENDORRISK_SECRET_KEY": secrets.token_hex(32),
        "VENDORRISK_DATABASE_URL": url,
        "VENDORRISK_TRUSTED_HOSTS": "127.0.0.1,localhost",
        "VENDORRISK_RATELIMIT_STORAGE_URI": REDIS_URL,
        # Every simulated contact comes from 127.0.0.1; the limit counts per address.
        "VENDORRISK_PORTAL_RATE_LIMIT": "100000 per minute",
        "VENDORRISK_UPLOAD_DIR": str(uploads),
        "VENDORRISK_SCHEDULER_ENABLED": "false",
    }


def flush_rate_limits() -> None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).flushdb()
    except Exception as exc:  # noqa: BLE001 - without Redis the app counts in memory
        print(f"  (Redis not flushed: {exc})")


# -- HTTP steps --------------------------------------------------------------------------------

_ids = itertools.count(1)


def bench_id(label: str) -> str:
    return f"{label}-{next(_ids)}"


async def login(client: Client, email: str, password: str) -> None:
    """Through the login form, its CSRF token and one-time key."""
    page = await client.get("/auth/login")
    fields = hidden_fields(page.text, 'name="password"')
    fields |= {"email": email, "password": password}
    response = await client.post("/auth/login", fields)
    if response.status != 302 or "/auth/" in response.location:
        raise RuntimeError(f"login of {email} refused: {response.status} {response.location}")


async def timed(
    server: Server,
    label: str,
    call: Callable[[dict[str, str]], Any],
    runs: int,
    expect: Callable[[Response], bool],
    warmup: int = 3,
    warm: Callable[[int, dict[str, str]], Any] | None = None,
) -> dict[str, Any]:
    """`runs` sequential requests, after `warmup` rounds of one request per worker at once
    (each worker compiles its templates and fills its caches on its first requests; `warm`,
    given the request's place in its round, when `call` cannot run concurrently with itself)."""

    async def checked(rid: str, request: Callable[[dict[str, str]], Any]) -> Response:
        response = await request({"X-Bench-Id": rid})
        if not expect(response):
            raise RuntimeError(f"{label}: {response.status} {response.text[:500]}")
        return response

    for _ in range(warmup):
        await asyncio.gather(
            *(checked("warm", partial(warm, k) if warm else call) for k in range(WORKERS))
        )
    times, ids, size = [], [], 0
    for _ in range(runs):
        rid = bench_id(label)
        response = await checked(rid, call)
        times.append(response.seconds)
        ids.append(rid)
        size = len(response.body)
    await asyncio.sleep(0.2)  # the access log line is written after the response
    server_ms = server.server_ms(ids)
    return {
        "client_ms": summary_ms(times),
        "server_ms": summary_ms([ms / 1000 for ms in server_ms]),
        "bytes": size,
    }


def ok(response: Response) -> bool:
    return response.status == 200


# -- the portal --------------------------------------------------------------------------------


@dataclass
class Sitting:
    """One contact at work in the portal: a browser, a section and its answers' versions."""

    client: Client
    section: str
    csrf: str
    versions: dict[str, int]
    value: dict[str, str]

    @classmethod
    async def open(cls, port: int, token: str, section: str) -> Sitting:
        client = Client(port)
        landing = await client.get(f"/portal/{token}")
        if landing.status != 200:
            raise RuntimeError(f"the link's page answered {landing.status}")
        fields = hidden_fields(landing.text, 'action=""')  # the form posting to the page
        exchanged = await client.post(f"/portal/{token}", fields)
        if exchanged.status != 302:
            raise RuntimeError(f"the link was not exchanged: {exchanged.status}")
        sitting = cls(client, section, "", {}, {})
        await sitting.read_section()
        return sitting

    async def read_section(self) -> Response:
        page = await self.client.get(f"/portal/q/section/{self.section}")
        if page.status != 200:
            raise RuntimeError(f"section {self.section}: {page.status}")
        fields = hidden_fields(page.text, 'id="answers"')
        self.csrf = fields["csrf_token"]
        self.versions = {k[2:]: int(v) for k, v in fields.items() if k.startswith("v-")}
        return page

    def page(self, headers: dict[str, str]):
        return self.client.get(f"/portal/q/section/{self.section}", headers)

    async def save(self, question: str, headers: dict[str, str]) -> Response:
        value = "partial" if self.value.get(question) == "yes" else "yes"
        form = {
            "question": question,
            f"v-{question}": str(self.versions.get(question, 0)),
            f"a-{question}": value,
            f"c-{question}": "",
        }
        extra = {"X-CSRFToken": self.csrf, "Accept": "application/json"} | headers
        response = await self.client.post("/portal/q/autosave", form, extra)
        if response.status in (200, 409):
            body = json.loads(response.body)
            self.versions[question] = body.get("version", self.versions.get(question, 0))
            if response.status == 200:
                self.value[question] = value
        return response


def portal_links(url: str, seed: int, when: datetime) -> tuple[list[int], list[int]]:
    """Open assessments whose emailed link (the data set's own) was never used: those still
    carrying last cycle's answers (for the traffic), and those ready to submit."""
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT a.id, i.token_hash, EXISTS (SELECT 1 FROM answers x WHERE "
                "x.assessment_id = a.id AND x.carried_over = :t) FROM assessments a "
                "JOIN invitations i ON i.assessment_id = a.id WHERE a.status IN "
                "('sent', 'in_progress') AND i.first_used_at IS NULL AND i.revoked_at IS NULL "
                "AND i.expires_at > :now ORDER BY a.id"
            ),
            {"t": True, "now": when if engine.dialect.name == "postgresql" else
             when.strftime("%Y-%m-%d %H:%M:%S.%f")},
        ).all()  # fmt: skip
    engine.dispose()
    from vendorrisk.models.mixins import hash_token

    ours = [(aid, carried) for aid, token_hash, carried in rows
            if hash_token(data.token_for(seed, aid)) == token_hash]  # fmt: skip
    return [a for a, c in ours if c], [a for a, c in ours if not c]


_SECTIONS: dict[str, list[str]] = {}


def _questions_by_section() -> dict[str, list[str]]:
    if not _SECTIONS:
        app = data.make_app("sqlite://")
        with app.app_context():
            from vendorrisk.catalog import catalog

            template = catalog().get(data.TEMPLATE)
            for s in template.sections:
                found = [q.id for q in s.questions if q.type == "yes_partial_no" and not q.show_if]
                if found:
                    _SECTIONS[s.id] = found
    return _SECTIONS


async def portal_phase(server: Server, url: str, args, results: dict[str, Any]) -> dict:
    traffic, ready = portal_links(url, args.seed, datetime.now(UTC))
    sections = list(_questions_by_section())
    wanted = args.sittings + 1
    if len(traffic) < wanted:
        print(f"  only {len(traffic)} unused links for the portal traffic (wanted {wanted})")
    opened: list[Sitting] = []
    gate = asyncio.Semaphore(4)

    refused: list[str] = []

    async def open_one(k: int, aid: int) -> None:
        async with gate:
            section = PORTAL_SECTION if k == 0 else sections[k % len(sections)]
            try:
                sitting = await Sitting.open(server.port, data.token_for(args.seed, aid), section)
            except RuntimeError as exc:
                refused.append(f"assessment {aid}: {exc}")
            else:
                opened.append(sitting)

    await asyncio.gather(*(open_one(k, aid) for k, aid in enumerate(traffic[:wanted])))
    results["portal_sittings"] = {"opened": len(opened), "refused": refused}
    one = next(s for s in opened if s.section == PORTAL_SECTION)
    crowd = [s for s in opened if s is not one] or [one]
    by_section = _questions_by_section()
    question = by_section[PORTAL_SECTION][0]
    results["portal_page"] = await timed(server, "portal-page", one.page, args.runs * 2, ok)

    def warm_save(k: int, headers: dict[str, str]):
        other = crowd[k % len(crowd)]  # one sitting per concurrent save: no conflict
        return other.save(by_section[other.section][-1], headers)

    results["answer_save"] = await timed(
        server, "save", lambda h: one.save(question, h), args.runs * 2, ok, warm=warm_save
    )
    rng = random.Random(args.seed)  # noqa: S311 - which contact clicks next, not a secret
    plan = [
        (rng.choice(crowd), rng.random() < 0.5)
        for _ in range(int(max(args.rates) * args.seconds) + 1)
    ]

    async def mixed(i: int) -> Response:
        sitting, saves = plan[i % len(plan)]
        if saves:
            q = rng.choice(_questions_by_section()[sitting.section])
            return await sitting.save(q, {"X-Bench-Id": "mix"})
        return await sitting.page({"X-Bench-Id": "mix"})

    results["portal_mix"] = {}
    for rate in args.rates:
        run = await load.open_loop(mixed, rate, args.seconds, ok)
        results["portal_mix"][str(rate)] = run.as_dict()
        print(f"  portal mix at {rate}/s: {run.as_dict()['achieved_rps']} req/s, "
              f"p95 {run.as_dict()['latency_ms']['p95']:.0f} ms, {run.errors} errors")  # fmt: skip
        await asyncio.sleep(2)
    results["submission"] = await submissions(server, ready[: args.submissions], args.seed)
    return {"done": True}


async def submissions(server: Server, ready: list[int], seed: int) -> dict[str, Any]:
    times, ids, problems = [], [], []
    for aid in ready:
        sitting = await Sitting.open(server.port, data.token_for(seed, aid), PORTAL_SECTION)
        page = await sitting.client.get("/portal/q/submit")
        fields = hidden_fields(page.text, 'action="/portal/q/submit"')
        rid = bench_id("submit")
        response = await sitting.client.post("/portal/q/submit", fields, {"X-Bench-Id": rid})
        if response.status != 302 or not response.location.endswith("/portal/q/done"):
            problems.append(f"assessment {aid}: {response.status}")
            continue
        times.append(response.seconds)
        ids.append(rid)
    await asyncio.sleep(0.2)
    return {
        "client_ms": summary_ms(times),
        "server_ms": summary_ms([ms / 1000 for ms in server.server_ms(ids)]),
        "problems": problems,
    }


# -- one database, one size ---------------------------------------------------------------------


def in_process(url: str, seed: int, statements: Path) -> dict[str, int]:
    """The SQL statements each measured request runs, counted through the test client (the
    list page's own, its login's aside, written to `statements` for the peer)."""
    app = data.make_app(url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    with app.app_context():
        engine = data.db.engine
    staff, contact = app.test_client(), app.test_client()
    response = staff.post("/auth/login", data={"email": data.CISO_EMAIL, "password": data.PASSWORD})
    assert response.status_code == 302, response.status_code
    traffic, _ = portal_links(url, seed, datetime.now(UTC))
    response = contact.post(f"/portal/{data.token_for(seed, traffic[-1])}")
    assert response.status_code == 302, response.status_code
    page = f"/portal/q/section/{PORTAL_SECTION}"
    question = _questions_by_section()[PORTAL_SECTION][0]

    def save():
        html = contact.get(page).get_data(as_text=True)
        version = hidden_fields(html, 'id="answers"')[f"v-{question}"]
        return lambda: contact.post(
            "/portal/q/autosave",
            data={"question": question, f"v-{question}": version, f"a-{question}": "partial"},
        )

    requests = {name: partial(staff.get, path) for name, path in PAGES.items()}
    requests |= {"portal_page": partial(contact.get, page), "answer_save": None}
    counts: dict[str, int] = {}
    for name, request in requests.items():
        request = request or save()
        request()  # warm: what a first request loads once per process is not counted
        if name == "answer_save":
            request = save()
        recorded: list[tuple[str, Any]] = []

        def record(conn, cursor, statement, parameters, context, executemany, into=recorded):
            into.append((statement, parameters))

        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            request()
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        counts[name] = len(recorded)
        if name == "list":
            peer.save_statements(statements, [r for r in recorded if "user_sessions" not in r[0]])
    with app.app_context():
        data.db.engine.dispose()
    return counts


async def attempt(results: dict[str, Any], key: str, step) -> None:
    """Run a measuring step into results[key]; a failing page is recorded and the run goes on."""
    try:
        results[key] = await step
    except (RuntimeError, OSError, TimeoutError, StopIteration, KeyError) as exc:
        results[key] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        print(f"  {key}: FAILED {results[key]['error']}")


async def http_phase(server: Server, url: str, args, results: dict[str, Any]) -> None:
    ciso = Client(server.port)
    await login(ciso, data.CISO_EMAIL, data.PASSWORD)
    results["pages"] = {}
    for name, path in PAGES.items():
        get = partial(lambda p, h: ciso.get(p, h), path)
        await attempt(results["pages"], name, timed(server, name, get, args.runs, ok))
        if "client_ms" in results["pages"][name]:
            print(f"  {name}: median {results['pages'][name]['client_ms']['median']:.1f} ms")
    # The same two pages computed afresh: before each request a committed write moves the data
    # version the kept figures hang on (as a review, a tier or a certificate changed would), so
    # the worker that answers computes the whole roll-up (and the report its top risks) again.
    engine = sa.create_engine(url, poolclass=NullPool)

    def after_change(path: str):
        async def call(headers: dict[str, str]) -> Response:
            with engine.begin() as conn:
                moved = conn.execute(
                    sa.text("UPDATE data_versions SET version = version + 1 WHERE name = 'figures'")
                )
                if not moved.rowcount:
                    conn.execute(
                        sa.text("INSERT INTO data_versions (name, version) VALUES ('figures', :v)"),
                        {"v": random.getrandbits(40)},
                    )
            return await ciso.get(path, headers)  # fmt: skip

        return call

    for name in ("rollup", "report"):
        fresh = timed(server, f"{name}_fresh", after_change(PAGES[name]), args.runs // 2, ok,
                      warmup=0)  # fmt: skip
        await attempt(results["pages"], f"{name}_fresh", fresh)
        if "client_ms" in results["pages"][f"{name}_fresh"]:
            print(f"  {name} computed after a change: median "
                  f"{results['pages'][f'{name}_fresh']['client_ms']['median']:.1f} ms")  # fmt: skip
    engine.dispose()
    await attempt(results, "portal", portal_phase(server, url, args, results))
    xlsx = partial(timed, server, "export", lambda h: ciso.get(EXPORT_URL, h), 3, warmup=0)
    await attempt(results, "export_xlsx", xlsx(lambda r: r.status == 200 and r.body[:2] == b"PK"))
    static = Client(server.port)
    results["throughput"] = {}
    for name, client, path in (("static", static, STATIC_URL), ("list", ciso, LIST_URL)):
        run = await load.closed_loop(lambda i, c=client, p=path: c.get(p), args.clients,
                                     args.throughput_seconds, ok)  # fmt: skip
        results["throughput"][name] = run.as_dict()
        await asyncio.sleep(1)
    results["rss_mb"] = server.rss_mb()


def measure(kind: str, url: str, n: int, args, folder: Path) -> dict[str, Any]:
    logs = folder / f"{kind}-{n}"
    logs.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"url": url.split("@")[-1]}
    if not args.reuse or not _has_data(url):
        print(f"{kind}, {n} suppliers: building the data set", flush=True)
        results["build"] = data.build(url, n, args.seed, str(logs / "uploads"), args.schema)
        print(f"  built in {results['build']['seconds']:.1f} s")
    flush_rate_limits()
    server = Server.start("app", "wsgi:app", app_env(url, logs / "uploads"), logs)
    try:
        asyncio.run(http_phase(server, url, args, results))
    finally:
        server.stop()
    try:
        peer_phase(url, args, logs, results)
    except (RuntimeError, AssertionError, sa.exc.SQLAlchemyError, OSError) as exc:
        results["throughput"]["peer"] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        print(f"  peer: FAILED {results['throughput']['peer']['error']}")
    results["daily"] = daily_phase(url)
    return results


def peer_phase(url: str, args, logs: Path, results: dict[str, Any]) -> None:
    """The minimal peer on the list page's own SQL, under the same closed loop."""
    statements = logs / "list-statements.json"
    results["queries"] = in_process(url, args.seed, statements)
    print("  queries per request: " + ", ".join(f"{k} {v}" for k, v in results["queries"].items()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VENDORRISK_")} | {
        "BENCH_PEER_DATABASE_URL": url,
        "BENCH_PEER_STATEMENTS": str(statements),
    }
    floor = Server.start("peer", "bench.peer:create_app()", env, logs)
    try:

        async def peer_load() -> None:
            client = Client(floor.port)
            sample = await client.get("/")
            results["peer_bytes"] = len(sample.body)
            run = await load.closed_loop(
                lambda i: client.get("/"), args.clients, args.throughput_seconds, ok
            )
            results["throughput"]["peer"] = run.as_dict()

        asyncio.run(peer_load())
    finally:
        floor.stop()


def daily_phase(url: str) -> dict[str, Any]:
    app = data.make_app(url)
    with app.app_context():
        when = daily.morning()
        before = daily.run_daily(when - timedelta(days=1))
        result = daily.run_daily(when)
        result["day_before"] = {"seconds": before["seconds"], "mails_total": before["mails_total"]}
        daily.print_daily("  daily run", result)
        data.db.engine.dispose()
    return result


def _has_data(url: str) -> bool:
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return bool(conn.scalar(sa.text("SELECT count(*) FROM suppliers")))
    except sa.exc.SQLAlchemyError:
        return False
    finally:
        engine.dispose()


# -- databases -----------------------------------------------------------------------------------


def database_url(kind: str, n: int, seed: int, folder: Path) -> str:
    if kind == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder / f'bench-{n}-{seed}.sqlite3'}"
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/vendorrisk_bench_{n}_{seed}"


def create_pg(url: str, reuse: bool) -> None:
    name = url.rsplit("/", 1)[1]
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and reuse:
            return
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def drop_data(url: str) -> None:
    """The data set gone: its PostgreSQL database, or its SQLite file."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    name = url.rsplit("/", 1)[1]
    engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


# -- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    get: Callable[[dict[str, Any]], float | None]
    #: The target: a bound and its direction ("<=" or ">="), or None.
    bound: float | None = None
    direction: str = "<="
    #: Sizes the target holds at (None: every size); databases it is judged on.
    sizes: tuple[int, ...] | None = None
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    #: PostgreSQL within 1.5× of SQLite is part of the target (latencies and times).
    ratio_bound: float | None = 1.5


def _dig(*path: str) -> Callable[[dict[str, Any]], float | None]:
    def get(result: dict[str, Any]) -> float | None:
        value: Any = result
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value

    return get


def figures(rates: list[int]) -> list[Figure]:
    listed = [
        Figure("build", "data set build", "s", _dig("build", "seconds"), 60, sizes=(10_000,),
               ratio_bound=None),
        Figure("rollup", "/rollup, median", "ms", _dig("pages", "rollup", "client_ms", "median"),
               300),
        Figure("report", "/report, median", "ms", _dig("pages", "report", "client_ms", "median"),
               300),
        Figure("rollup_fresh", "/rollup computed after a change, median", "ms",
               _dig("pages", "rollup_fresh", "client_ms", "median")),
        Figure("report_fresh", "/report computed after a change, median", "ms",
               _dig("pages", "report_fresh", "client_ms", "median")),
        Figure("list", "supplier list filtered+sorted p.3, median", "ms",
               _dig("pages", "list", "client_ms", "median"), 30),
        Figure("portal_page", "portal page, server median", "ms",
               _dig("portal_page", "server_ms", "median"), 10),
        Figure("answer_save", "answer save, server median", "ms",
               _dig("answer_save", "server_ms", "median"), 10),
    ]  # fmt: skip
    for rate in rates:
        listed += [
            Figure(f"mix{rate}", f"portal mix offered {rate}/s: achieved", "req/s",
                   _dig("portal_mix", str(rate), "achieved_rps"),
                   round(rate * 0.97, 1) if rate == 200 else None, ">=",
                   databases=("sqlite",), ratio_bound=None),
            Figure(f"mix{rate}p95", f"portal mix offered {rate}/s: p95 from schedule", "ms",
                   _dig("portal_mix", str(rate), "latency_ms", "p95"), ratio_bound=None),
        ]  # fmt: skip
    listed += [
        Figure("submission", "submission, server median", "ms",
               _dig("submission", "server_ms", "median"), ratio_bound=None),
        Figure("export", "XLSX export of the supplier list, median", "ms",
               _dig("export_xlsx", "client_ms", "median"), ratio_bound=None),
        Figure("daily", "daily run (catch-up run the day before)", "s", _dig("daily", "seconds"),
               10, sizes=(10_000,)),
        Figure("rss", "RSS per worker, largest", "MB",
               lambda r: max(r["rss_mb"]) if r.get("rss_mb") else None, ratio_bound=None),
        Figure("static", "floor: static file (closed loop)", "req/s",
               _dig("throughput", "static", "achieved_rps"), ratio_bound=None),
        Figure("peer", "floor: minimal Flask peer, same SQL", "req/s",
               _dig("throughput", "peer", "achieved_rps"), ratio_bound=None),
        Figure("list_tput", "supplier list (closed loop)", "req/s",
               _dig("throughput", "list", "achieved_rps"), ratio_bound=None),
        Figure("list_vs_peer", "supplier list ÷ peer throughput", "×", _list_vs_peer, 0.5, ">=",
               ratio_bound=None),
    ]  # fmt: skip
    return listed


def _list_vs_peer(result: dict[str, Any]) -> float | None:
    mine, floor = _dig("throughput", "list", "achieved_rps")(result), _dig(
        "throughput", "peer", "achieved_rps")(result)  # fmt: skip
    return round(mine / floor, 2) if mine and floor else None


def judge(figure: Figure, n: int, values: dict[str, float | None]) -> str:
    """ "pass", or "MISS" with what missed (the target, PostgreSQL's ratio); "" with no target."""
    if figure.bound is None or (figure.sizes and n not in figure.sizes):
        return ""
    judged = {db: v for db, v in values.items() if db in figure.databases and v is not None}
    if not judged:
        return ""
    missed = [
        db
        for db, v in judged.items()
        if not (v <= figure.bound if figure.direction == "<=" else v >= figure.bound)
    ]
    sqlite, pg = values.get("sqlite"), values.get("postgresql")
    if figure.ratio_bound and sqlite and pg and pg / sqlite > figure.ratio_bound:
        missed.append(f"PG/SQLite > {figure.ratio_bound:g}")
    return "MISS: " + ", ".join(missed) if missed else "pass"


def table(report: dict[str, Any], rates: list[int]) -> list[dict[str, Any]]:
    rows = []
    for n, by_db in report["results"].items():
        for figure in figures(rates):
            values = {db: figure.get(result) for db, result in by_db.items()}
            if all(v is None for v in values.values()):
                continue
            sqlite, pg = values.get("sqlite"), values.get("postgresql")
            applies = figure.bound is not None and (not figure.sizes or int(n) in figure.sizes)
            target = f"{figure.direction} {figure.bound:g} {figure.unit}" if applies else ""
            if applies and figure.databases != ("sqlite", "postgresql"):
                target += f" ({', '.join(figure.databases)})"
            rows.append({
                "size": int(n), "figure": figure.label, "unit": figure.unit, "target": target,
                "sqlite": sqlite, "postgresql": pg,
                "ratio": round(pg / sqlite, 2) if sqlite and pg else None,
                "verdict": judge(figure, int(n), values),
            })  # fmt: skip
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    def cell(value: float | None) -> str:
        if value is None:
            return "—"
        return (
            f"{value:,.0f}"
            if abs(value) >= 100
            else f"{value:,.1f}"
            if abs(value) >= 10
            else f"{value:.2f}"
        )

    header = (
        f"{'N':>6}  {'figure':<48} {'target':<22} {'SQLite':>10} {'PostgreSQL':>11} "
        f"{'PG/SQLite':>9}  verdict"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        label = f"{r['figure']} ({r['unit']})"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "—"
        print(f"{r['size']:>6}  {label:<48} {r['target']:<22} {cell(r['sqlite']):>10} "
              f"{cell(r['postgresql']):>11} {ratio:>9}  {r['verdict']}")  # fmt: skip


# -- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description="the benchmark, through gunicorn on loopback")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000])
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])  # fmt: skip
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the data sets an earlier --keep run left, as it left them (answers "
        "saved, links used, the day's mails already sent)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the data sets (PostgreSQL databases, SQLite files)",
    )
    parser.add_argument(
        "--schema",
        choices=("migrations", "models"),
        default="migrations",
        help="how the schema is made: the migrations (as deployed), or the models' create_all",
    )
    parser.add_argument("--runs", type=int, default=20, help="sequential requests per page")
    parser.add_argument("--rates", type=int, nargs="+", default=[100, 150, 200])
    parser.add_argument("--seconds", type=float, default=15, help="of each open-loop rate")
    parser.add_argument("--sittings", type=int, default=200, help="contacts in the portal mix")
    parser.add_argument("--submissions", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8, help="of the closed-loop runs")
    parser.add_argument("--throughput-seconds", type=float, default=10)
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "bench")
    args = parser.parse_args()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = args.output / stamp
    folder.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "started": stamp,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "workers": WORKERS},
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "results": {},
    }  # fmt: skip
    for n in args.sizes:
        report["results"][str(n)] = {}
        for kind in args.databases:
            url = database_url(kind, n, args.seed, args.output / "data")
            if kind == "postgresql":
                create_pg(url, args.reuse)
            try:
                report["results"][str(n)][kind] = measure(kind, url, n, args, folder)
            finally:
                if not (args.keep or args.reuse):
                    drop_data(url)
            _write(args.output / f"{stamp}.json", report, args.rates)
    report["table"] = table(report, args.rates)
    _write(args.output / f"{stamp}.json", report, args.rates)
    print()
    print_table(report["table"])
    print(f"\nwritten: {args.output / f'{stamp}.json'} (logs in {folder})")
    failed = list(_errors(report["results"]))
    if failed:
        print("failed steps:\n  " + "\n  ".join(failed))
        sys.exit(1)


def _errors(tree: Any, path: str = "") -> Any:
    """Every step that failed ({"error": ...}) in the results, by its path."""
    if isinstance(tree, dict):
        if "error" in tree:
            yield f"{path}: {tree['error']}"
        for key, value in tree.items():
            yield from _errors(value, f"{path}/{key}")


def _write(path: Path, report: dict[str, Any], rates: list[int]) -> None:
    report["table"] = table(report, rates)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str), "utf-8")


if __name__ == "__main__":
    main()
