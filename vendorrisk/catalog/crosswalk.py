"""Crosswalks between editions of the guideline (対応表): where each check item of one template
went in another (`questionnaires/crosswalk-*.yaml`), validated against both templates at load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vendorrisk.catalog.loader import CROSSWALK_PREFIX as PREFIX
from vendorrisk.catalog.loader import CatalogError
from vendorrisk.catalog.model import Template

RELATIONS = ("same", "split", "merged", "moved", "new", "dropped")
#: How many items each side of a row holds, by relation: (from, to) as (min, max or None).
SHAPES = {
    "same": ((1, 1), (1, 1)),
    "moved": ((1, 1), (1, 1)),
    "merged": ((1, 1), (1, 1)),
    "split": ((1, 1), (2, None)),
    "new": ((0, 0), (1, 1)),
    "dropped": ((1, 1), (0, 0)),
}
KEYS = {"id", "from", "to", "items"}
ROW_KEYS = {"from", "to", "relation", "basis", "nearest"}


@dataclass(frozen=True)
class Row:
    source: tuple[str, ...]
    target: tuple[str, ...]
    relation: str
    basis: str = ""
    nearest: tuple[str, ...] = ()


@dataclass(frozen=True)
class Crosswalk:
    id: str
    source_template: str
    target_template: str
    rows: tuple[Row, ...]
    path: str = ""

    def targets_of(self, item: str) -> tuple[Row, ...]:
        """The rows that carry Ver 2.0's `item` somewhere (one, in a valid crosswalk)."""
        return tuple(row for row in self.rows if item in row.source)


def _items(template: Template) -> set[str]:
    return {q.mapping.item for q in template.questions if q.mapping.item}


def _ids(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return tuple(value)


def _row(n: int, raw: Any, problems: list[str], known: tuple[set[str], set[str]]):
    where = f"row {n}"
    if not isinstance(raw, dict) or not {"from", "to", "relation"} <= set(raw):
        problems.append(f"{where}: needs from, to and relation")
        return None
    for key in sorted(set(raw) - ROW_KEYS):
        problems.append(f"{where}: unknown key {key!r}")
    relation = raw["relation"]
    if relation not in RELATIONS:
        problems.append(f"{where}: relation {relation!r} must be one of {', '.join(RELATIONS)}")
        return None
    sides = [_ids(raw["from"]), _ids(raw["to"]), _ids(raw.get("nearest", []))]
    if any(side is None for side in sides):
        problems.append(f"{where}: from, to and nearest must be lists of item ids")
        return None
    source, target, nearest = sides
    for name, ids, allowed in (
        ("from", source, known[0]),
        ("to", target, known[1]),
        ("nearest", nearest, known[1]),
    ):
        for ident in ids:
            if ident not in allowed:
                problems.append(f"{where}: {name} {ident!r} is not an item of that template")
    shapes = zip(("from", "to"), (source, target), SHAPES[relation], strict=True)
    for name, ids, (low, high) in shapes:
        if len(ids) < low or (high is not None and len(ids) > high):
            count = str(low) if low == high else f"at least {low}"
            problems.append(f"{where}: a {relation!r} row has {count} {name!r} item(s)")
    return Row(source, target, relation, str(raw.get("basis") or ""), nearest)


def parse_crosswalk(data: Any, path: Path, templates: dict[str, Template]) -> Crosswalk:
    """Validate a crosswalk against its two templates; CatalogError names every problem."""
    problems: list[str] = []
    if not isinstance(data, dict) or set(data) != KEYS:
        raise CatalogError(str(path), [f"must be a mapping with the keys {sorted(KEYS)}"])
    if data["id"] != path.stem:
        problems.append(f"id: {data['id']!r} must match the file name {path.stem!r}")
    source, target = templates.get(data["from"]), templates.get(data["to"])
    for key, template in (("from", source), ("to", target)):
        if template is None:
            problems.append(f"{key}: {data[key]!r} is not a template of the catalog")
    if not isinstance(data["items"], list) or not data["items"]:
        problems.append("items: must be a non-empty list")
    if problems:
        raise CatalogError(str(path), problems)
    known = (_items(source), _items(target))
    rows = [
        row
        for n, raw in enumerate(data["items"], start=1)
        if (row := _row(n, raw, problems, known)) is not None
    ]
    seen = [ident for row in rows for ident in row.source]
    for ident in sorted(known[0], key=_order):
        if seen.count(ident) != 1:
            times = "is missing" if not seen.count(ident) else f"appears {seen.count(ident)} times"
            problems.append(f"{data['from']} item {ident} {times} (every item exactly once)")
    reached = {ident for row in rows for ident in row.target}
    for ident in sorted(known[1] - reached, key=_order):
        problems.append(f"{data['to']} item {ident} is reached by no row ('new' if it is new)")
    if problems:
        raise CatalogError(str(path), problems)
    return Crosswalk(data["id"], source.key, target.key, tuple(rows), str(path))


def _order(item: str) -> tuple[str, int, int]:
    """Principle items (P1-1, Ver 3.0's A-1) before direction items (D1-1), each in number order."""
    group, number = item[1:].split("-")
    return ("0" if item[0] == "P" else "1"), int(group), int(number)


def load_crosswalks(
    folder: Path, templates: dict[str, Template]
) -> tuple[list[Crosswalk], list[CatalogError]]:
    """Every crosswalk under `folder`, checked against the current templates by id."""
    loaded, errors = [], []
    for path in sorted(folder.rglob(f"{PREFIX}*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            loaded.append(parse_crosswalk(data, path, templates))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            errors.append(CatalogError(str(path), [f"cannot be read: {exc}"]))
        except CatalogError as exc:
            errors.append(exc)
    return loaded, errors
