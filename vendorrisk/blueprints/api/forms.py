"""The register's own forms check the API's input: the same rules, the same words.

A JSON body (already checked for types by its schema) becomes the form data a browser would
send — over the current values of the row for a change — and the form validates it; its errors
become a 422 problem with a pointer to each field.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

from flask_smorest import abort
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SubmitField


def _form_value(value: Any) -> str | None:
    if value is None or value is False:
        return None
    if value is True:
        return "y"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def form_data(form_class: type, body: dict[str, Any], current: Any = None) -> MultiDict:
    """The form data of `body` over the current values of `current` (a model row) if given."""
    pairs = []
    for name, unbound in vars(form_class).items():
        if not hasattr(unbound, "field_class") or unbound.field_class in (SubmitField, FileField):
            continue
        if name in body:
            value = body[name]
        elif current is not None:
            value = getattr(current, name, None)
        elif unbound.field_class is BooleanField:
            value = False
        else:
            continue  # the form's default
        text = _form_value(value)
        pairs.append(
            (name, "" if text is None and unbound.field_class is not BooleanField else text)
        )
    return MultiDict([(name, text) for name, text in pairs if text is not None])


def validated(form_class: type, body: dict[str, Any], current: Any = None, **kwargs: Any):
    """The bound, validated form; a 422 problem naming each field at fault when it is not."""
    form = form_class(formdata=form_data(form_class, body, current), meta={"csrf": False}, **kwargs)
    if not form.validate():
        abort(422, messages={"json": {name: list(errors) for name, errors in form.errors.items()}})
    return form
