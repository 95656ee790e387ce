"""Benchmark: an Excel decompression bomb posted to the portal upload and the supplier import.

The bomb is the portal workbook the app itself hands out for the supplier questionnaire, with
one sheet replaced by a million rows, nearly all alike, each with a question ID the
questionnaire does not know, and no <dimension> (the attack of issue 13, row 1): about 280 KB
zipped, 61 MB unzipped. With its first question sheet so replaced, it is posted through the
Flask app in-process to `POST /portal/q/excel` (a real sitting, on SQLite); with its first
sheet so replaced, it is read by the supplier import's `read_table` (what `POST
/suppliers/import` calls). Each run happens in a forked child, so that its figures are its own:
wall and CPU time (the machine may be shared), peak RSS growth of the process (getrusage),
with --trace peak Python allocations (tracemalloc), and what the app answered.

It also prints the size of the real portal workbook (zipped and unzipped), the figure the
portal's workbook limits (`services/assessments/workbook.py`) are set from. Not a test.
Run: .venv/bin/python bench/workbook_bomb.py [rows] [--trace]
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vendorrisk import create_app  # noqa: E402
from vendorrisk.config import BASE_DIR, TestConfig  # noqa: E402
from vendorrisk.extensions import db  # noqa: E402
from vendorrisk.models import (  # noqa: E402
    Assessment,
    AssessmentStatus,
    Contact,
    Invitation,
    Supplier,
    SupplierCategory,
)
from vendorrisk.services.assessments import portal  # noqa: E402
from vendorrisk.services.register.imports import files as imports  # noqa: E402

ROWS = 1_000_000
#: One row in this many names a different unknown question, so the file deflates like the
#: attack's (about 200 KB).
VARY_EVERY = 64
#: --trace: also follow Python's allocations with tracemalloc (slows the run several times).
TRACE = "--trace" in sys.argv


def setup(app) -> str:
    """A supplier with an in-progress assessment of the supplier questionnaire; a sitting token."""
    with app.app_context():
        db.create_all()
        supplier = Supplier(name_ja="爆弾検証株式会社", category=SupplierCategory.other)
        contact = Contact(supplier=supplier, name="計測 太郎", email="bomb@example.jp")
        assessment = Assessment(
            supplier=supplier,
            template_id="csm-v2-supplier",
            template_version=1,
            due_on=date.today() + timedelta(days=30),
            status=AssessmentStatus.in_progress,
        )
        invitation = Invitation(
            assessment=assessment,
            contact=contact,
            email=contact.email,
            token_hash="c" * 64,
            expires_at=datetime.now(UTC) + timedelta(days=60),
        )
        db.session.add_all([supplier, contact, assessment, invitation])
        db.session.flush()
        token = portal.open_sitting(invitation, "127.0.0.1", datetime.now(UTC))
        db.session.commit()
        return token


def unzipped_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(info.file_size for info in archive.infolist())


def bomb_rows(rows: int) -> bytes:
    same = b'<row><c t="inlineStr"><is><t>NO-SUCH-QUESTION</t></is></c></row>'
    out = io.BytesIO()
    for i in range(rows):
        if i % VARY_EVERY:
            out.write(same)
        else:
            out.write(b'<row><c t="inlineStr"><is><t>X%d</t></is></c></row>' % i)
    return out.getvalue()


def bomb(real: bytes, rows: int, target: str) -> bytes:
    """The real workbook with the sheet part `target` replaced by `rows` unknown-ID rows.

    xl/worksheets/sheet2.xml is the first question sheet (what the portal reads);
    xl/worksheets/sheet1.xml the first sheet (what the supplier import reads).
    """
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(real)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
    ):
        for info in source.infolist():
            if info.filename != target:
                archive.writestr(info, source.read(info))
                continue
            xml = source.read(info)
            head = xml[: xml.index(b"<sheetData>") + len(b"<sheetData>")]
            head = re.sub(rb"<dimension[^>]*/>", b"", head)  # the attacker leaves it out
            tail = xml[xml.index(b"</sheetData>") :]
            archive.writestr(target, head + bomb_rows(rows) + tail)
    return out.getvalue()


def in_child(run) -> dict:
    """Run `run()` in a forked child: its answer, wall and CPU time, peak RSS growth."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reader)
        result: dict = {}
        usage = resource.getrusage(resource.RUSAGE_SELF)
        before, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        if TRACE:
            tracemalloc.start()
        start = time.perf_counter()
        try:
            result["answer"] = run()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            result["answer"] = f"crashed: {exc!r}"
        result["seconds"] = time.perf_counter() - start
        if TRACE:
            result["traced_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["rss_mb"] = (usage.ru_maxrss - before) / 1024  # ru_maxrss is in KiB on Linux
        result["cpu"] = usage.ru_utime + usage.ru_stime - cpu
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(json.dumps(result).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        result = json.loads(pipe.read())
    os.waitpid(pid, 0)
    return result


def first_error(html: str) -> str:
    """The caption of the error table and its first problem, or the page's alert."""
    caption = re.search(r"<caption[^>]*>(.*?)</caption>", html, re.S)
    cells = re.search(r"<tbody>\s*<tr>\s*<td>.*?</td>\s*<td>.*?</td>\s*<td>(.*?)</td>", html, re.S)
    alert = re.search(r'role="alert">(.*?)<', html, re.S)
    found = [m.group(1).strip() for m in (caption, cells) if m] or [alert.group(1) if alert else ""]
    return " / ".join(found)[:200]


def report(label: str, result: dict) -> None:
    traced = f"   peak Python allocations {result['traced_mb']:7.1f} MB" if TRACE else ""
    print(
        f"{label}\n  wall {result['seconds']:6.2f} s   CPU {result['cpu']:6.2f} s"
        f"   peak RSS growth {result['rss_mb']:7.1f} MB"
        f"{traced}\n  answer: {result['answer']}"
    )


def main() -> None:
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    rows = int(numbers[0]) if numbers else ROWS
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = TestConfig()
        config.SQLALCHEMY_DATABASE_URI = f"sqlite:///{folder / 'bench.sqlite3'}"
        config.QUESTIONNAIRE_DIR = str(BASE_DIR / "questionnaires")
        config.UPLOAD_DIR = str(folder / "uploads")
        config.WTF_CSRF_ENABLED = False
        app = create_app(config)
        token = setup(app)
        client = app.test_client()
        with client.session_transaction() as session:
            session["portal"] = {"sitting": token}
        real = client.get("/portal/q/excel").get_data()
        print(
            f"real portal workbook (csm-v2-supplier): {len(real) / 1024:.0f} KB zipped, "
            f"{unzipped_size(real) / 1024:.0f} KB unzipped"
        )
        data = bomb(real, rows, "xl/worksheets/sheet2.xml")
        first = bomb(real, rows, "xl/worksheets/sheet1.xml")
        print(
            f"bomb: {rows} rows, {len(data) / 1024:.0f} KB zipped, "
            f"{unzipped_size(data) / 2**20:.1f} MB unzipped"
        )

        def upload() -> str:
            response = client.post(
                "/portal/q/excel",
                data={"workbook": (io.BytesIO(data), "bomb.xlsx")},
                content_type="multipart/form-data",
            )
            return f"{response.status_code} {first_error(response.get_data(as_text=True))}"

        def supplier_import() -> str:
            with app.test_request_context():
                try:
                    table = imports.read_table(first, "bomb.xlsx", config.MAX_UPLOAD_BYTES)
                except imports.FileRefused as refused:
                    return f"refused: {refused}"
                return f"read {len(table.rows)} rows"

        report("POST /portal/q/excel", in_child(upload))
        report("supplier import (read_table)", in_child(supplier_import))


if __name__ == "__main__":
    main()
