"""The template of a supplier import: every column with an example, and a sheet explaining them."""

from __future__ import annotations

import io

import pandas as pd
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from vendorrisk.services.register.imports.columns import FIELDS, allowed_values
from vendorrisk.services.reporting import exports

#: What each kind of column accepts, for the help sheet (choices list their values).
KIND_HELP = {
    "corporate_number": _l(
        "13 digits, checked with its check digit; leave empty for foreign companies."
    ),
    "bool": _l("yes / no (also はい / いいえ, 1 / 0, ○ / ×)"),
    "date": _l("YYYY-MM-DD or YYYY/MM/DD"),
    "owner": _l("The email address of an active user"),
    "email": _l("An email address"),
    "country": _l("Two capital letters, such as JP or US."),
    "url": _l("A web address starting with http:// or https://"),
}  # fmt: skip


def template_frame() -> pd.DataFrame:
    """The template: every column (English header) and one example row."""
    return pd.DataFrame([[f.example for f in FIELDS]], columns=[f.key for f in FIELDS])


def help_rows() -> list[tuple[str, str, str]]:
    """Each column of the template: its name, meaning and accepted values (current language)."""
    rows = []
    for f in FIELDS:
        if f.kind == "choice":
            accepted = ", ".join(allowed_values(f.key))
        else:
            accepted = str(KIND_HELP.get(f.kind, ""))
        rows.append((f.key, str(f.label), accepted))
    return rows


def write_template(target: io.BytesIO, fmt: str) -> None:
    """The template as CSV (UTF-8 with BOM) or XLSX (the columns, then a sheet explaining them)."""
    if fmt == "csv":
        exports.write(template_frame(), target, "csv")
        return
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        template_frame().to_excel(writer, index=False, sheet_name="suppliers")
        columns = [_("Column"), _("Meaning"), _("Accepted values")]
        help_sheet = pd.DataFrame(help_rows(), columns=columns)
        help_sheet.to_excel(writer, index=False, sheet_name=_("Help"))
