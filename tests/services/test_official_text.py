"""Replacing working translations (仮訳) with METI's own Japanese: `vendorrisk questionnaires
import-text` writes the template's next version, keeps the one before, and refuses a bad file
whole."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import VendorriskRunner, build_app, empty_tables
from vendorrisk.catalog import Catalog
from vendorrisk.extensions import db
from vendorrisk.models import AuditEvent
from vendorrisk.services import official_text
from vendorrisk.services.register.imports.files import Table

#: What a company would copy from the guideline's Japanese PDF (this wording is a stand-in:
#: the test needs a text that differs from the shipped working translation).
OFFICIAL_D57 = "端末やネットワークのログを収集・分析している（公式訳の例）"
OFFICIAL_D6 = "PDCAサイクルによるサイバーセキュリティ対策の継続的改善"


@pytest.fixture
def runner(tmp_path_factory, folder) -> Iterator[VendorriskRunner]:
    app: Flask = build_app(tmp_path_factory, QUESTIONNAIRE_DIR=str(folder))
    with app.app_context():
        db.create_all()
    yield VendorriskRunner(app)
    with app.app_context():  # the database may be shared (PostgreSQL): its rows go, not its tables
        with db.engine.begin() as conn:
            empty_tables(conn)
        db.engine.dispose()


def _csv(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / "official.csv"
    lines = ["項目,日本語"] + [f'{ident},"{text}"' for ident, text in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8-sig"))
    return path


def test_the_official_text_replaces_the_working_translation_in_a_new_version(
    runner, folder, tmp_path
):
    # a PDF copy breaks lines inside the sentence: joined without a space
    broken = OFFICIAL_D57[:10] + "\n" + OFFICIAL_D57[10:]
    principle = "経営者が、サイバーセキュリティリスクを重要なリスクの一つとして位置付けている"
    file = _csv(
        tmp_path,
        [("D5-7", broken), ("d6", OFFICIAL_D6), ("P1-1", principle), ("p1", "原則の見出し")],
    )
    result = runner.invoke(args=["questionnaires", "import-text", "csm-v3-internal", str(file)])
    assert result.exit_code == 0, result.output
    assert "csm-v3-internal@2" in result.output and "4 text(s) now official" in result.output

    loaded = Catalog.from_folder(folder)
    assert loaded.errors == []
    new, old = loaded.get("csm-v3-internal"), loaded.get("csm-v3-internal", 1)
    assert new.version == 2 and (folder / "csm-v3-internal@1.yaml").exists()
    d57 = next(q for q in new.questions if q.mapping.item == "D5-7")
    assert (d57.text.ja, d57.text.working) == (OFFICIAL_D57, ())
    assert d57.text.en == "Logs from terminals and networks are being collected and analyzed."
    d6 = next(s for s in new.sections if s.id == "d6")
    assert d6.title.ja == f"指示6 {OFFICIAL_D6}" and not d6.title.working
    p11 = new.question("int3-p1-01")
    assert (p11.text.ja, p11.text.working) == (principle, ())
    assert new.principle_sections[0].title.ja == "原則1 原則の見出し"
    # everything else is still marked, and the version before keeps its words
    assert sum(bool(q.text.working) for q in new.questions) == 49 - 2
    old_d57 = next(q for q in old.questions if q.mapping.item == "D5-7")
    assert old_d57.text.ja != OFFICIAL_D57 and old_d57.text.working == ("ja",)
    with runner.app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "template_text_imported")
        )
        assert event.actor_label == "cli" and "csm-v3-internal@2: 4 official" in event.summary


def test_an_excel_file_works_the_same(runner, folder, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["item", "ja"])
    sheet.append(["D5-7", OFFICIAL_D57])
    buffer = io.BytesIO()
    workbook.save(buffer)
    file = tmp_path / "official.xlsx"
    file.write_bytes(buffer.getvalue())
    result = runner.invoke(args=["questionnaires", "import-text", "csm-v3-internal", str(file)])
    assert result.exit_code == 0, result.output
    new = Catalog.from_folder(folder).get("csm-v3-internal")
    assert next(q for q in new.questions if q.mapping.item == "D5-7").text.ja == OFFICIAL_D57


def test_a_bad_file_is_refused_whole_naming_each_row(runner, folder, tmp_path):
    before = sorted(p.name for p in folder.iterdir())
    file = _csv(
        tmp_path,
        [("D5-7", OFFICIAL_D57), ("D5-11", "存在しない項目"), ("D5-7", "二度目"), ("D1-1", "")],
    )
    result = runner.invoke(
        args=["questionnaires", "import-text", "csm-v3-internal", str(file), "--locale", "ja"]
    )
    assert result.exit_code == 1
    assert "3行目: D5-11 は csm-v3-internal@1 の項目ではありません。" in result.output
    assert "4行目: D5-7 が2回あります。" in result.output
    assert "5行目: D1-1 の本文が空です。" in result.output
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing written
    assert Catalog.from_folder(folder).get("csm-v3-internal").version == 1


def test_an_unknown_template_or_file_type_is_a_clear_error(runner, tmp_path):
    file = _csv(tmp_path, [("D5-7", OFFICIAL_D57)])
    result = runner.invoke(args=["questionnaires", "import-text", "nope", str(file)])
    assert result.exit_code == 1 and "nope: no such questionnaire template" in result.output
    text = tmp_path / "official.txt"
    text.write_text("D5-7,x", encoding="utf-8")
    result = runner.invoke(args=["questionnaires", "import-text", "csm-v3-internal", str(text)])
    assert result.exit_code == 1 and "Only CSV (.csv) and Excel (.xlsx)" in result.output


def test_two_imports_at_once_write_one_version_and_keep_the_one_before(runner, folder):
    """Two admins (or the page and the CLI) import at the same moment: one writes version 2,
    the other is told to reload; version 1 is kept as it was, and every file loads."""
    template = Catalog.from_folder(folder).get("csm-v3-internal")
    start, outcomes = threading.Barrier(2), []

    def import_one(text: str) -> None:
        with runner.app.app_context():
            start.wait()
            try:
                official_text.write_version(template, {"D5-7": text}, "official.csv")
                outcomes.append("written")
            except official_text.TextImportError as exc:
                outcomes.append(" ".join(exc.problems))

    threads = [threading.Thread(target=import_one, args=(t,)) for t in ("一つ目", "二つ目")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes)[-1] == "written" and outcomes.count("written") == 1, outcomes
    assert any("written meanwhile" in o or "already exists" in o for o in outcomes), outcomes
    loaded = Catalog.from_folder(folder)
    assert loaded.errors == []
    assert loaded.get("csm-v3-internal").version == 2
    kept = loaded.get("csm-v3-internal", 1)
    assert kept.question("int3-d5-07").text.working == ("ja",)  # the 仮訳, untouched
    assert not list(folder.glob("*.new")) and not list(folder.glob(".*.new"))


def test_a_supplier_questionnaire_takes_no_official_text(runner, folder):
    template = Catalog.from_folder(folder).get("csm-v3-supplier")
    with runner.app.app_context(), pytest.raises(official_text.TextImportError) as refused:
        official_text.read_texts(
            Table("t.csv", ["項目", "日本語"], [(2, ["D1-2", "方針"])]), template
        )
    assert "supplier questionnaire" in refused.value.problems[0]
