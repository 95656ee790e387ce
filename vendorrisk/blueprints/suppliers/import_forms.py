"""Forms of the supplier import: the upload, and the column mapping built from the file's header."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SubmitField

from vendorrisk.i18n import options
from vendorrisk.services.register.imports import columns


class UploadForm(FlaskForm):
    file = FileField(
        _l("CSV or Excel file"),
        validators=[FileRequired(_l("Choose a file to import."))],
        description=_l(
            "CSV (UTF-8 or Shift_JIS) or Excel (.xlsx, first sheet), with the column names in "
            "the first row."
        ),
    )
    submit = SubmitField(_l("Upload and preview"))


def _field_choices() -> list:
    return options([("", _l("Ignore this column")), *((f.key, f.label) for f in columns.FIELDS)])


class MappingForm(FlaskForm):
    """One select per column of the file (the field it holds, or ignore), and the import options."""

    skip_invalid = BooleanField(_l("Import the valid rows and skip the invalid ones"))
    preview = SubmitField(_l("Update the preview"))
    submit = SubmitField(_l("Import"))

    width = 0

    @classmethod
    def for_columns(cls, headers: Sequence[str], guessed: Sequence[str | None]) -> MappingForm:
        """The form for a file's header, each select preset to the field guessed from it."""
        bound = type("BoundMappingForm", (cls,), {"width": len(headers)})
        for i, header in enumerate(headers):
            select = SelectField(header, choices=_field_choices(), default=guessed[i] or "")
            setattr(bound, f"column_{i}", select)
        return bound()

    def columns(self) -> list[SelectField]:
        return [self[f"column_{i}"] for i in range(self.width)]

    def mapping(self) -> list[str | None]:
        return [select.data or None for select in self.columns()]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        first: dict[str, SelectField] = {}
        for select in self.columns():
            if select.data and select.data in first:
                # Eager: a lazy string is markup to Jinja, and the header comes from the file.
                select.errors.append(
                    _(
                        "Already chosen for the column “%(column)s”.",
                        column=first[select.data].label.text,
                    )
                )
                ok = False
            first.setdefault(select.data, select)
        if ok:
            try:
                columns.check_mapping(self.mapping())
            except columns.MappingRefused as exc:
                self.form_errors.append(str(exc))
                ok = False
        return ok
