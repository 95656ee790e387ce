"""Replacing working translations (仮訳) with the guideline's own words.

A file of item id → Japanese text (copied from METI's PDF or IPA's 可視化ツール workbook) becomes
the template's next version: each item's Japanese text is replaced and shown as official from
then on; the version before stays beside it (`<id>@<n>.yaml`), so the cycles and assessments
made with it keep their words. `D1` … `D10` name the direction titles, `P1` … `P3` the
principles of Ver 3.0's Appendix A-1.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from flask_babel import gettext as _

from vendorrisk.catalog.loader import WORKING, parse_template
from vendorrisk.catalog.model import Template
from vendorrisk.services.register.imports.files import Table

_DIRECTION_RE = re.compile(r"^D(\d{1,2})$")
#: Line breaks copied from a PDF inside a Japanese sentence: joined without a space.
_BREAK_RE = re.compile(r"\s*\n\s*")


class TextImportError(Exception):
    """The file cannot be used; `problems` says why, row by row, in the reader's language."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Imported:
    """What was written: the new version's file and how many texts became official."""

    path: Path
    template_key: str
    replaced: int


def read_texts(table: Table, template: Template) -> dict[str, str]:
    """The file's texts by id (item ids of the template, or D1 … D10 for direction titles),
    every row checked: every id known, no id twice, no empty text. Only a check sheet (an
    internal template) holds the guideline's own texts: a supplier questionnaire's questions
    are our wording, several to an item, and are never replaced."""
    if template.audience != "internal":
        raise TextImportError(
            [_("%(template)s is a supplier questionnaire: its questions are our own wording, "
               "not the guideline's.", template=template.key)]
        )  # fmt: skip
    known = {q.mapping.item for q in template.questions if q.mapping.item}
    known |= {f"D{n}" for n in template.directives()}
    known |= {f"P{q.mapping.principle}" for q in template.questions if q.mapping.principle}
    texts: dict[str, str] = {}
    problems = []
    for number, cells in table.rows:
        ident = (cells[0] if cells else "").strip().upper()
        text = _BREAK_RE.sub("", cells[1]).strip() if len(cells) > 1 else ""
        if ident not in known:
            problems.append(
                _("Row %(row)d: %(id)s is not an item of %(template)s.", row=number,
                  id=ident or "—", template=template.key)
            )  # fmt: skip
        elif ident in texts:
            problems.append(_("Row %(row)d: %(id)s appears twice.", row=number, id=ident))
        elif not text:
            problems.append(_("Row %(row)d: the text of %(id)s is empty.", row=number, id=ident))
        else:
            texts[ident] = text
    if not texts and not problems:
        problems.append(_("The file holds no texts."))
    if problems:
        raise TextImportError(problems)
    return texts


def _official(text: dict[str, Any], japanese: str) -> None:
    text["ja"] = japanese
    working = [lang for lang in text.get(WORKING, []) if lang != "ja"]
    if working:
        text[WORKING] = working
    else:
        text.pop(WORKING, None)


def _group(mapping: dict) -> tuple[str, str]:
    """The id of a section's title in the file (D5, or P2 for a principle of A-1) and the
    Japanese prefix of the title (指示5, 原則2)."""
    if mapping.get("principle"):
        return f"P{mapping['principle']}", f"原則{mapping['principle']}"
    return f"D{mapping['directive']}", f"指示{mapping['directive']}"


def _replace(data: dict, texts: dict[str, str]) -> int:
    replaced = 0
    for section in data["sections"]:
        groups = {_group(q["mapping"]) for q in section["questions"]}
        title = texts.get(next(iter(groups))[0]) if len(groups) == 1 else None
        if title is not None:
            prefix = next(iter(groups))[1]
            _official(section["title"], title if title.startswith(prefix) else f"{prefix} {title}")
            replaced += 1
        for question in section["questions"]:
            item = question["mapping"].get("item")
            if item in texts:
                _official(question["text"], texts[item])
                replaced += 1
    return replaced


def write_version(template: Template, texts: dict[str, str], source: str) -> Imported:
    """Write the template's next version with `texts` as its official Japanese; the current
    file is kept as `<id>@<version>.yaml`. Nothing is written unless the new version loads.

    One import at a time per folder (an exclusive lock), and only over the version it was read
    from: a second admin (or the CLI) importing at the same moment is told to reload, never
    writes over the version kept. The kept copy is a hard link (made at once, refused if the
    name exists) and the new file is written under a name of its own and renamed into place, so
    a worker reloading meanwhile sees the old file or the new one, whole."""
    path = Path(template.source)
    folder = path.parent
    current = folder / f"{template.id}.yaml"
    kept = folder / f"{template.id}@{template.version}.yaml"
    with _locked(folder):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if data.get("version") != template.version:
            raise TextImportError(
                [_("Version %(version)s of %(template)s was written meanwhile: reload the page "
                   "and import again.", version=data.get("version"), template=template.id)]
            )  # fmt: skip
        if path == current and kept.exists():
            raise TextImportError(
                [_("%(file)s already exists: move it away first.", file=kept.name)]
            )
        replaced = _replace(data, texts)
        data["version"] = template.version + 1
        parse_template(data, current)  # raises CatalogError: nothing is written
        header = (
            f"# {template.id} version {data['version']}: version {template.version} with the "
            f"official\n# Japanese text of {replaced} item(s) and title(s) imported from "
            f"{source}\n# (`vendorrisk questionnaires import-text`). Version "
            f"{template.version} is kept as\n# {kept.name}.\n"
        )
        body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
        handle, fresh = tempfile.mkstemp(dir=folder, prefix=f".{template.id}.", suffix=".new")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(header + body)
            if path == current:
                _keep(path, kept)
            os.replace(fresh, current)
        finally:
            Path(fresh).unlink(missing_ok=True)
    return Imported(current, f"{template.id}@{data['version']}", replaced)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on the folder's imports (a lock file the catalog does not read)."""
    with open(folder / ".import.lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _keep(path: Path, kept: Path) -> None:
    """`path` also under the name `kept`, at once; a copy renamed into place where the file
    system has no hard links."""
    try:
        os.link(path, kept)
    except FileExistsError:
        raise
    except OSError:
        handle, copy = tempfile.mkstemp(dir=path.parent, prefix=".kept.", suffix=".new")
        os.close(handle)
        try:
            shutil.copy2(path, copy)
            os.replace(copy, kept)
        finally:
            Path(copy).unlink(missing_ok=True)
