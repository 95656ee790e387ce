"""The questionnaire catalog: YAML templates loaded and validated at start, and loaded again
when the folder changes (a version written by `import-text` or by another worker's upload)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from flask import Flask, current_app

from vendorrisk.catalog.crosswalk import Crosswalk, load_crosswalks
from vendorrisk.catalog.loader import CatalogError, load_directory, load_template
from vendorrisk.catalog.model import Question, Section, Template
from vendorrisk.catalog.text import Text

__all__ = [
    "Catalog",
    "CatalogError",
    "Question",
    "Section",
    "Template",
    "Text",
    "catalog",
    "load_template",
    "refresh",
]


class Catalog:
    """The valid templates by id and version; refused files are kept with their errors."""

    def __init__(self, templates: list[Template], errors: list[CatalogError]) -> None:
        self.errors = errors
        #: The crosswalks between templates (crosswalk-*.yaml), each valid against both.
        self.crosswalks: list[Crosswalk] = []
        self._versions: dict[str, dict[int, Template]] = {}
        for template in templates:
            versions = self._versions.setdefault(template.id, {})
            if template.version in versions:
                errors.append(
                    CatalogError(
                        template.source,
                        [
                            f"version {template.version} of {template.id!r} is also in "
                            f"{versions[template.version].source}"
                        ],
                    )
                )
                continue
            versions[template.version] = template

    @classmethod
    def from_folder(cls, folder: str | Path) -> Catalog:
        templates, errors = load_directory(Path(folder))
        loaded = cls(templates, errors)
        current = {template.id: template for template in loaded.current()}
        loaded.crosswalks, refused = load_crosswalks(Path(folder), current)
        loaded.errors.extend(refused)
        return loaded

    def current(self) -> list[Template]:
        """The newest version of each template, by id."""
        return [versions[max(versions)] for _, versions in sorted(self._versions.items())]

    def keep_missing(self, older: Catalog) -> list[str]:
        """Keep the templates and crosswalks of `older` that this load lost (a file broken or
        removed by hand): assessments and cycles made with them must still open. Returns the
        keys kept."""
        kept = []
        for template_id, versions in older._versions.items():
            mine = self._versions.setdefault(template_id, {})
            for version, template in versions.items():
                if version not in mine:
                    mine[version] = template
                    kept.append(template.key)
        ids = {c.id for c in self.crosswalks}
        for crosswalk in older.crosswalks:
            if crosswalk.id not in ids:
                self.crosswalks.append(crosswalk)
                kept.append(crosswalk.id)
        return kept

    def get(self, template_id: str, version: int | None = None) -> Template | None:
        versions = self._versions.get(template_id)
        if not versions:
            return None
        return versions.get(version) if version is not None else versions[max(versions)]


#: How often, at most, a process looks whether its questionnaire folder changed (seconds).
CHECK_SECONDS = 1.0
#: What a folder's signature is made of: each *.yaml file's path, mtime and size.
Signature = tuple[tuple[str, int, int], ...]


def signature(folder: Path) -> Signature:
    """The *.yaml files under `folder` as (path, mtime, size): another value once any file is
    added, removed, renamed or rewritten. A few stat calls, no reading."""
    found = []
    for path in folder.rglob("*.yaml"):
        try:
            stat = path.stat()
        except OSError:  # removed while listed: the next look sees the folder settled
            continue
        found.append((str(path.relative_to(folder)), stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(found))


class _Reloading:
    """One process's catalog of one folder, loaded again when the folder's signature changes.

    Each worker process holds its own: the folder is what they share, so a version written by
    one (or by the CLI) is seen by all within CHECK_SECONDS, without a restart. A thread that
    finds the check due while another is already checking goes on with the catalog it has.
    """

    def __init__(self, folder: Path, logger: logging.Logger) -> None:
        self.folder = folder
        self.logger = logger
        self._lock = threading.Lock()
        self._checked_at = time.monotonic()
        self._signature, self.loaded = self._load()

    def _load(self) -> tuple[Signature, Catalog]:
        # The signature is taken first: a file written during the load makes the next look differ.
        seen = signature(self.folder)
        loaded = Catalog.from_folder(self.folder)
        for error in loaded.errors:
            self.logger.error("questionnaire template refused: %s", error)
        return seen, loaded

    def get(self) -> Catalog:
        """The catalog, loaded again first if the check is due and the folder changed."""
        if time.monotonic() - self._checked_at < CHECK_SECONDS:
            return self.loaded
        if self._lock.acquire(blocking=False):
            try:
                self._check()
            finally:
                self._lock.release()
        return self.loaded

    def refresh(self) -> Catalog:
        """Look at the folder now, waiting for a check under way (after writing to it)."""
        with self._lock:
            self._check()
        return self.loaded

    def _check(self) -> None:
        self._checked_at = time.monotonic()
        if signature(self.folder) != self._signature:
            seen, fresh = self._load()
            kept = fresh.keep_missing(self.loaded)
            if kept:
                self.logger.error(
                    "questionnaire templates: kept the loaded %s, missing or refused in %s",
                    ", ".join(kept),
                    self.folder,
                )
            self._signature, self.loaded = seen, fresh
            self.logger.info("questionnaire templates loaded again from %s", self.folder)


def init_app(app: Flask) -> None:
    app.extensions["vendorrisk_catalog"] = _Reloading(
        Path(app.config["QUESTIONNAIRE_DIR"]), app.logger
    )


def catalog() -> Catalog:
    return current_app.extensions["vendorrisk_catalog"].get()


def refresh() -> Catalog:
    """The catalog as the folder now holds it: for the process that has just written a version."""
    return current_app.extensions["vendorrisk_catalog"].refresh()
