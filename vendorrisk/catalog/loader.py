"""Load and validate questionnaire templates: a template is whole and valid, or refused."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from vendorrisk.catalog.editions import CSF, DEFAULT_EDITION, EDITIONS, Edition
from vendorrisk.catalog.formats import DATE_FORMATS, TEXT_FORMATS
from vendorrisk.catalog.model import (
    Band,
    Choice,
    Column,
    Mapping,
    Question,
    Section,
    ShowIf,
    Template,
)
from vendorrisk.catalog.scs import COVER_KINDS, PACKS, SCS_AREAS
from vendorrisk.catalog.text import Text
from vendorrisk.catalog.types import QUESTION_TYPES
from vendorrisk.vocab import LOCALES

ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
VALUE_RE = re.compile(r"^[a-z0-9_]+$")
#: A crosswalk's file name starts so (catalog/crosswalk.py): not a template.
CROSSWALK_PREFIX = "crosswalk-"
#: The key of a text that names the languages in which it is our working translation (仮訳).
WORKING = "working_translation"
ITEM_RE = re.compile(r"^D(\d{1,2})-(\d{1,2})$")
#: A check item of Ver 3.0's Appendix A-1, the three principles management answers (P2-3).
PRINCIPLE_ITEM_RE = re.compile(r"^P(\d)-(\d{1,2})$")
TEMPLATE_KEYS = {
    "id",
    "edition",
    "csf_version",
    "version",
    "audience",
    "title",
    "description",
    "scoring",
    "sections",
    "pack",
}
OPTIONAL_TEMPLATE_KEYS = {"description", "edition", "csf_version", "pack"}
SECTION_KEYS = {"id", "title", "description", "questions"}
QUESTION_KEYS = {
    "id",
    "type",
    "text",
    "help",
    "weight",
    "required",
    "critical",
    "evidence",
    "mapping",
    "choices",
    "show_if",
    "format",
    "bands",
    "covered_by",
    "columns",
    "max_rows",
}
#: The `format:` values each answer type can apply.
TYPE_FORMATS = {"text": TEXT_FORMATS, "date": tuple(DATE_FORMATS)}
#: The answer type whose question declares `columns` (and may cap its rows, `max_rows`).
TABLE = "table"
COLUMN_KEYS = {"id", "type", "label", "required", "format", "choices"}
#: The types a table's column may have: each cell is read as an answer of its column's type.
COLUMN_TYPES = ("text", "date", "number", "single_choice")
#: A table's limits. Its portal form posts a field per cell (werkzeug reads 1,000 at most, the
#: rest of the section included), and its workbook answer is one cell (32,767 characters).
MAX_COLUMNS = 8
MAX_ROWS = 50
#: The rows a table question takes when it does not say (`max_rows:`).
DEFAULT_MAX_ROWS = 30
MAPPING_KEYS = {"directive", "principle", "item", "csf", "iso", "cis", "scs"}
AUDIENCES = {"supplier", "internal"}


class CatalogError(Exception):
    """A template that cannot be used; `problems` names the file and the question of each."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class _Checker:
    """Collects every problem of one file, so one run reports them all."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: What the template's mappings are checked against (its `edition:`, `csf_version:`).
        self.edition: Edition = EDITIONS[DEFAULT_EDITION]
        self.csf_version = self.edition.csf_version
        self.audience = "internal"
        self.pack = "full"
        self.problems: list[str] = []
        #: Ids of questions already reported as broken (not reported again through show_if).
        self.broken: set[str] = set()

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def keys(self, where: str, data: Any, allowed: set[str], required: set[str]) -> bool:
        if not isinstance(data, dict):
            self.fail(where, "must be a mapping")
            return False
        for key in sorted(set(data) - allowed, key=str):
            self.fail(where, f"unknown key {key!r}")
        missing = sorted(required - set(data))
        for key in missing:
            self.fail(where, f"missing key {key!r}")
        return not missing

    def text(self, where: str, data: Any, optional: bool = False) -> Text | None:
        if data is None and optional:
            return None
        if not isinstance(data, dict) or set(data) - {*LOCALES, WORKING}:
            self.fail(where, f"must be a mapping with the keys 'ja' and 'en' (and {WORKING!r})")
            return None
        for lang in LOCALES:
            if not isinstance(data.get(lang), str) or not data[lang].strip():
                self.fail(where, f"missing translation {lang!r}")
        working = data.get(WORKING, [])
        if not isinstance(working, list) or not set(working) <= set(LOCALES):
            self.fail(where, f"{WORKING} must list languages of {sorted(LOCALES)}, not {working!r}")
            working = []
        if not all(isinstance(data.get(x), str) for x in LOCALES):
            return None
        return Text(
            ja=data["ja"].strip(),
            en=data["en"].strip(),
            working=tuple(lang for lang in LOCALES if lang in working),
        )

    def flag(self, where: str, data: dict, key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            self.fail(where, f"{key!r} must be true or false")
            return default
        return value


def _mapping(c: _Checker, where: str, data: Any) -> Mapping | None:
    if isinstance(data, dict) and "principle" in data:
        return _principle_mapping(c, where, data)
    if not c.keys(f"{where}: mapping", data, MAPPING_KEYS - {"principle"}, {"directive", "item"}):
        return None
    items = c.edition.items
    directive = data.get("directive")
    if isinstance(directive, bool) or not isinstance(directive, int) or directive not in items:
        c.fail(where, f"mapping.directive must be 1 to 10, not {directive!r}")
        return None
    item = data.get("item")
    if item is not None:
        match = ITEM_RE.match(str(item))
        if not match or int(match[1]) != directive or not 1 <= int(match[2]) <= items[directive]:
            c.fail(
                where,
                f"mapping.item {item!r} is not an Appendix A item of direction {directive} "
                f"in {c.edition.label} (D{directive}-1 to D{directive}-{items[directive]})",
            )
    return _references(c, where, data, directive, item)


def _principle_mapping(c: _Checker, where: str, data: dict) -> Mapping | None:
    """An item of Appendix A-1 (Ver 3.0): one of the three principles, answered by management;
    it has no direction, and the guideline maps it to nothing."""
    if not c.keys(f"{where}: mapping", data, {"principle", "item"}, {"principle", "item"}):
        return None
    principles = c.edition.principles
    if not principles:
        c.fail(where, f"mapping.principle: {c.edition.label} has no principle items (A-1)")
        return None
    if c.audience != "internal":
        c.fail(where, "mapping.principle: principle items are for internal templates only")
    principle, item = data.get("principle"), str(data.get("item"))
    if isinstance(principle, bool) or principle not in principles:
        c.fail(where, f"mapping.principle must be 1 to {len(principles)}, not {principle!r}")
        return None
    match = PRINCIPLE_ITEM_RE.match(item)
    if not match or int(match[1]) != principle or not 1 <= int(match[2]) <= principles[principle]:
        c.fail(
            where,
            f"mapping.item {item!r} is not an item of principle {principle} in "
            f"{c.edition.label} (P{principle}-1 to P{principle}-{principles[principle]})",
        )
        return None
    return Mapping(directive=None, item=item, csf=(), iso=(), principle=principle)


def _references(
    c: _Checker, where: str, data: dict, directive: int, item: str | None
) -> Mapping | None:
    lists = {key: data.get(key) or [] for key in ("csf", "iso", "cis", "scs")}
    if not all(isinstance(value, list) for value in lists.values()):
        c.fail(where, "mapping.csf, mapping.iso and mapping.cis must be lists")
        return None
    checks = {
        "csf": lambda ident: c.edition.csf_problem(ident, c.csf_version),
        "iso": c.edition.iso_problem,
        "cis": c.edition.cis_problem,
    }
    for key, check in checks.items():
        for ref in lists[key]:
            problem = check(str(ref))
            if problem:
                c.fail(where, f"mapping.{key}: {problem}")
    for code in lists["scs"]:
        if code not in SCS_AREAS:
            c.fail(where, f"mapping.scs: {code!r} is not a ★3 area ({', '.join(SCS_AREAS)})")
    if c.pack == "standard" and not lists["scs"]:
        c.fail(
            where, "mapping.scs: every question of a standard pack names the ★3 area it evidences"
        )
    return Mapping(
        directive=directive,
        item=item,
        csf=tuple(map(str, lists["csf"])),
        iso=tuple(map(str, lists["iso"])),
        cis=tuple(map(str, lists["cis"])),
        scs=tuple(map(str, lists["scs"])),
    )


def _choices(c: _Checker, where: str, data: Any, scored: bool = True) -> tuple[Choice, ...]:
    """A question's choices, each with its score; a table column's (`scored=False`) without."""
    if not isinstance(data, list) or not data:
        c.fail(where, "choices must be a non-empty list")
        return ()
    keys = {"value", "label", "score"} if scored else {"value", "label"}
    choices = []
    for i, raw in enumerate(data, start=1):
        cw = f"{where}: choice {i}"
        if not c.keys(cw, raw, keys, keys):
            continue
        value, score = raw["value"], raw.get("score", 0)
        if not isinstance(value, str) or not VALUE_RE.match(value):
            c.fail(cw, f"value {value!r} must be lower-case letters, digits and _")
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            c.fail(cw, f"score {score!r} must be a number from 0 to 1")
            score = 0
        label = c.text(f"{cw}: label", raw["label"])
        if label:
            choices.append(Choice(value=str(value), label=label, score=float(score)))
    values = [ch.value for ch in choices]
    if len(values) != len(set(values)):
        c.fail(where, "duplicate choice value")
    return tuple(choices)


def _bands(c: _Checker, where: str, data: dict, type_name: str) -> tuple[Band, ...]:
    """A number's score bands: {min|max: N, score: S} each, the last one without a bound."""
    raw = data.get("bands")
    if raw is None:
        return ()
    if type_name != "number":
        c.fail(where, f"bands are for number questions, not {type_name}")
        return ()
    if not isinstance(raw, list) or not raw:
        c.fail(where, "bands must be a non-empty list")
        return ()
    bands = []
    for i, band in enumerate(raw, start=1):
        bw = f"{where}: band {i}"
        if not c.keys(bw, band, {"min", "max", "score"}, {"score"}):
            continue
        score, bounds = band["score"], {k: band[k] for k in ("min", "max") if k in band}
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            c.fail(bw, f"score {score!r} must be a number from 0 to 1")
            continue
        if len(bounds) > 1 or any(
            isinstance(v, bool) or not isinstance(v, int | float) for v in bounds.values()
        ):
            c.fail(bw, "give one number as min or max (or neither, for the last band)")
            continue
        last = i == len(raw)
        if last == bool(bounds):
            c.fail(bw, "every band but the last has a min or a max; the last has neither")
            continue
        bands.append(
            Band(
                float(score),
                *(Decimal(str(bounds[k])) if k in bounds else None for k in ("min", "max")),
            )
        )
    return tuple(bands)


def _columns(
    c: _Checker, where: str, data: dict, type_name: str
) -> tuple[tuple[Column, ...], int | None]:
    """A table's columns and the most rows it takes; other types have neither."""
    if type_name != TABLE:
        for key in sorted({"columns", "max_rows"} & set(data)):
            c.fail(where, f"{key} is for table questions, not {type_name}")
        return (), None
    raw = data.get("columns")
    if not isinstance(raw, list) or not raw:
        c.fail(where, "a table question needs columns: a non-empty list")
        return (), None
    if len(raw) > MAX_COLUMNS:
        c.fail(where, f"a table has at most {MAX_COLUMNS} columns, not {len(raw)}")
    columns = [_column(c, where, item, i) for i, item in enumerate(raw, start=1)]
    ids = [column.id for column in columns if column is not None]
    for cid in sorted({cid for cid in ids if ids.count(cid) > 1}):
        c.fail(where, f"duplicate column id {cid!r}")
    rows = data.get("max_rows", DEFAULT_MAX_ROWS)
    if isinstance(rows, bool) or not isinstance(rows, int) or not 1 <= rows <= MAX_ROWS:
        c.fail(where, f"max_rows {rows!r} must be a whole number from 1 to {MAX_ROWS}")
    return tuple(column for column in columns if column is not None), rows


def _column(c: _Checker, where: str, data: Any, index: int) -> Column | None:
    cid = data.get("id") if isinstance(data, dict) else None
    where = f"{where}: column {cid!r}" if isinstance(cid, str) else f"{where}: column #{index}"
    if not c.keys(where, data, COLUMN_KEYS, {"id", "type", "label"}):
        return None
    before = len(c.problems)
    if not isinstance(cid, str) or not VALUE_RE.match(cid):
        c.fail(where, "id must be lower-case letters, digits and _")
    ctype = data["type"]
    if not isinstance(ctype, str) or ctype not in COLUMN_TYPES:
        c.fail(where, f"unknown column type {ctype!r} (known: {', '.join(COLUMN_TYPES)})")
        return None
    if ctype == "single_choice":
        choices = _choices(c, where, data.get("choices"), scored=False)
    else:
        choices = ()
        if "choices" in data:
            c.fail(where, f"choices are for single_choice columns, not {ctype}")
    column = Column(
        id=str(cid),
        type=ctype,
        label=c.text(f"{where}: label", data["label"]) or Text("", ""),
        required=c.flag(where, data, "required", False),
        format=_format(c, where, data, ctype),
        choices=choices,
    )
    return column if len(c.problems) == before else None


def _covered_by(c: _Checker, where: str, data: dict, scored: bool) -> tuple[str, ...]:
    raw = data.get("covered_by") or []
    if not isinstance(raw, list) or any(kind not in COVER_KINDS for kind in raw):
        c.fail(where, f"covered_by must list some of {', '.join(COVER_KINDS)}, not {raw!r}")
        return ()
    if raw and c.audience != "supplier":
        c.fail(where, "covered_by is for supplier questionnaires")
    if raw and not scored:
        c.fail(where, "covered_by is for scored questions")
    return tuple(kind for kind in COVER_KINDS if kind in raw)


def _show_if(c: _Checker, where: str, data: Any, earlier: dict[str, Question]) -> ShowIf | None:
    if data is None:
        return None
    if not c.keys(f"{where}: show_if", data, {"question", "in"}, {"question", "in"}):
        return None
    target = earlier.get(data["question"]) if isinstance(data["question"], str) else None
    if target is None and data["question"] in c.broken:
        return None
    if target is None:
        c.fail(where, f"show_if refers to {data['question']!r}, which is not an earlier question")
        return None
    values = data["in"]
    if not isinstance(values, list) or not values:
        c.fail(where, "show_if.in must be a non-empty list")
        return None
    allowed = target.kind.values(target)
    for value in values:
        if value not in allowed:
            c.fail(where, f"show_if value {value!r} is not an answer of {target.id!r}")
    return ShowIf(question=target.id, values=tuple(map(str, values)))


def _format(c: _Checker, where: str, data: dict, type_name: str) -> str | None:
    fmt = data.get("format")
    if fmt is None:
        return None
    allowed = TYPE_FORMATS.get(type_name, ())
    if not isinstance(fmt, str) or fmt not in allowed:
        known = f"known for {type_name}: {', '.join(allowed)}" if allowed else "none for this type"
        c.fail(where, f"unknown format {fmt!r} ({known})")
        return None
    return fmt


def _question(c: _Checker, data: Any, index: int, earlier: dict[str, Question]) -> Question | None:
    qid = data.get("id") if isinstance(data, dict) else None
    where = f"question {qid!r}" if qid else f"question #{index}"
    if not c.keys(where, data, QUESTION_KEYS, {"id", "type", "text", "weight", "mapping"}):
        return None
    before = len(c.problems)
    if not isinstance(qid, str) or not ID_RE.match(qid):
        c.fail(where, "id must be lower-case letters, digits and hyphens")
    elif qid in earlier:
        c.fail(where, "duplicate question id")
    qtype = QUESTION_TYPES.get(data["type"]) if isinstance(data["type"], str) else None
    if qtype is None:
        c.fail(where, f"unknown answer type {data['type']!r} (known: {', '.join(QUESTION_TYPES)})")
        return None
    weight = data["weight"]
    bands = _bands(c, where, data, qtype.name)
    scored = qtype.scored or bool(bands)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
        c.fail(where, f"weight {weight!r} must be a number of 0 or more")
        weight = 0
    elif scored and weight == 0:
        c.fail(where, f"a scored question ({qtype.name}) needs a weight above 0")
    elif not scored and weight != 0 and not qtype.has_choices:
        c.fail(where, f"an unscored type ({qtype.name}) must have weight 0")
    critical = c.flag(where, data, "critical", False)
    if critical and not scored:
        c.fail(where, f"only scored questions can be critical, not {qtype.name}")
    if qtype.has_choices:
        choices = _choices(c, where, data.get("choices"))
    else:
        choices = ()
        if "choices" in data:
            c.fail(where, f"choices are not allowed for {qtype.name}")
    text = c.text(f"{where}: text", data["text"])
    help_text = c.text(f"{where}: help", data.get("help"), optional=True)
    mapping = _mapping(c, where, data["mapping"])
    columns, max_rows = _columns(c, where, data, qtype.name)
    question = Question(
        id=str(qid),
        type=qtype.name,
        text=text or Text("", ""),
        help=help_text,
        weight=float(weight),
        required=c.flag(where, data, "required", True),
        critical=critical,
        evidence=c.flag(where, data, "evidence", False),
        mapping=mapping or Mapping(0, None, (), ()),
        choices=choices,
        format=_format(c, where, data, qtype.name),
        bands=bands,
        covered_by=_covered_by(c, where, data, scored),
        columns=columns,
        max_rows=max_rows,
    )
    show_if = _show_if(c, where, data.get("show_if"), earlier)
    if len(c.problems) > before:
        return None
    return Question(**{**question.__dict__, "show_if": show_if})


def _section(
    c: _Checker, data: Any, index: int, earlier: dict[str, Question], seen: set[str]
) -> Section | None:
    sid = data.get("id") if isinstance(data, dict) else None
    where = f"section {sid!r}" if sid else f"section #{index}"
    if not c.keys(where, data, SECTION_KEYS, {"id", "title", "questions"}):
        return None
    if not isinstance(sid, str) or not ID_RE.match(sid):
        c.fail(where, "id must be lower-case letters, digits and hyphens")
    elif sid in seen:
        c.fail(where, "duplicate section id")
    seen.add(str(sid))
    title = c.text(f"{where}: title", data["title"])
    description = c.text(f"{where}: description", data.get("description"), optional=True)
    raw_questions = data["questions"]
    if not isinstance(raw_questions, list) or not raw_questions:
        c.fail(where, "questions must be a non-empty list")
        return None
    questions = []
    for i, raw in enumerate(raw_questions, start=1):
        question = _question(c, raw, i, earlier)
        if question is None and isinstance(raw, dict):
            c.broken.add(str(raw.get("id")))
        if question is not None:
            earlier[question.id] = question
            questions.append(question)
    if len({q.mapping.principle is None for q in questions}) > 1:
        c.fail(where, "a section holds principle items (A-1) or direction items, not both")
    return Section(
        id=str(sid),
        title=title or Text("", ""),
        description=description,
        questions=tuple(questions),
    )


def _scoring(c: _Checker, data: Any) -> float:
    if not c.keys("scoring", data, {"critical_cap"}, {"critical_cap"}):
        return 100.0
    cap = data["critical_cap"]
    if isinstance(cap, bool) or not isinstance(cap, int | float) or not 0 <= cap <= 100:
        c.fail("scoring", f"critical_cap {cap!r} must be a number from 0 to 100")
        return 100.0
    return float(cap)


def _edition(c: _Checker, data: dict) -> None:
    """The edition the template follows and the NIST CSF version its mappings use: the
    edition's, unless the template names another. A template that names no edition was written
    before editions existed: Ver 2.0's, its CSF ids checked against 1.1 as they were then."""
    edition = data.get("edition", DEFAULT_EDITION)
    if edition not in EDITIONS:
        c.fail("edition", f"{edition!r} must be one of {', '.join(EDITIONS)}")
        return
    c.edition = EDITIONS[edition]
    default = c.edition.csf_version if "edition" in data else "1.1"
    version = data.get("csf_version", default)
    if version not in CSF:
        c.fail("csf_version", f"{version!r} must be one of {', '.join(map(repr, CSF))}")
        return
    c.csf_version = version


def parse_template(data: Any, path: Path) -> Template:
    """Validate parsed YAML; raise CatalogError listing every problem."""
    c = _Checker(path)
    if not c.keys("", data, TEMPLATE_KEYS, TEMPLATE_KEYS - OPTIONAL_TEMPLATE_KEYS):
        raise CatalogError(str(path), c.problems)
    _edition(c, data)
    expected_id = path.stem.split("@")[0]
    if data["id"] != expected_id:
        c.fail("id", f"{data['id']!r} must match the file name {expected_id!r}")
    version = data["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        c.fail("version", f"{version!r} must be a whole number of 1 or more")
    if "@" in path.stem and path.stem.split("@")[1] != str(version):
        c.fail("version", f"{version!r} must match the file name {path.name!r}")
    if not isinstance(data["audience"], str) or data["audience"] not in AUDIENCES:
        c.fail("audience", f"{data['audience']!r} must be one of {sorted(AUDIENCES)}")
    c.audience = data["audience"]
    pack = data.get("pack", "full")
    if pack not in PACKS:
        c.fail("pack", f"{pack!r} must be one of {', '.join(PACKS)}")
    elif "pack" in data and c.audience != "supplier":
        c.fail("pack", "packs are for supplier questionnaires")
    else:
        c.pack = pack
    title = c.text("title", data["title"])
    description = c.text("description", data.get("description") or {"ja": "-", "en": "-"})
    cap = _scoring(c, data["scoring"])
    sections = []
    raw_sections = data["sections"]
    if not isinstance(raw_sections, list) or not raw_sections:
        c.fail("sections", "must be a non-empty list")
    else:
        earlier: dict[str, Question] = {}
        seen: set[str] = set()
        for i, raw in enumerate(raw_sections, start=1):
            section = _section(c, raw, i, earlier, seen)
            if section is not None:
                sections.append(section)
    if c.problems:
        raise CatalogError(str(path), c.problems)
    return Template(
        id=data["id"],
        edition=c.edition.id,
        csf_version=c.csf_version,
        version=version,
        audience=data["audience"],
        title=title,
        description=description,
        critical_cap=cap,
        sections=tuple(sections),
        source=str(path),
        pack=c.pack,
    )


def load_template(path: Path) -> Template:
    """Read and validate one YAML file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError(str(path), [f"cannot be read: {exc}"]) from exc
    except yaml.YAMLError as exc:
        raise CatalogError(str(path), [f"is not valid YAML: {exc}"]) from exc
    try:
        return parse_template(data, path)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # a shape no check foresaw
        raise CatalogError(
            str(path), [f"unexpected structure ({type(exc).__name__}: {exc})"]
        ) from exc


def load_directory(folder: Path) -> tuple[list[Template], list[CatalogError]]:
    """Every valid template under `folder`, and the errors of those refused."""
    templates, errors = [], []
    for path in sorted(folder.rglob("*.yaml")):
        if path.name.startswith(CROSSWALK_PREFIX):
            continue  # a crosswalk between templates (catalog/crosswalk.py), not a template
        try:
            templates.append(load_template(path))
        except CatalogError as exc:
            errors.append(exc)
    return templates, errors
