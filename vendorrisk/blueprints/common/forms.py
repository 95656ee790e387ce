"""Small helpers for the forms of every blueprint."""

import re

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError

#: What a name, department or job title never holds: a web address (the text is printed in mail
#: we sign) or a control character (a line break would start a paragraph of its own).
_NOT_A_NAME = re.compile(r"://|www\.|[\x00-\x1f\x7f]", re.IGNORECASE)


def one_line(value: str | None) -> str | None:
    """A filter: runs of spaces (any width) made one space, the ends trimmed."""
    return re.sub(r"\s+", " ", value).strip() if isinstance(value, str) else value


def name_like(form: FlaskForm, field) -> None:
    """A validator for a person's name, department or job title typed by someone outside."""
    if field.raw_data and _NOT_A_NAME.search(field.raw_data[0] or ""):
        raise ValidationError(_l("Enter the name only, without a web address or line breaks."))


def flash_errors(form: FlaskForm) -> None:
    """Flash every field's errors as one message (for a form posted from another page)."""
    flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "error")
