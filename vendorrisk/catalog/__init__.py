"""The questionnaire catalog: YAML templates loaded and validated at start."""

from __future__ import annotations

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

    def get(self, template_id: str, version: int | None = None) -> Template | None:
        versions = self._versions.get(template_id)
        if not versions:
            return None
        return versions.get(version) if version is not None else versions[max(versions)]


def init_app(app: Flask) -> None:
    loaded = Catalog.from_folder(app.config["QUESTIONNAIRE_DIR"])
    for error in loaded.errors:
        app.logger.error("questionnaire template refused: %s", error)
    app.extensions["vendorrisk_catalog"] = loaded


def catalog() -> Catalog:
    return current_app.extensions["vendorrisk_catalog"]
