"""Small helpers for the forms of every blueprint."""

import re

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

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


class TokenForm(FlaskForm):
    """A new API token: what it is for, what it may do, and until when (every token expires)."""

    name = StringField(_l("What it is for"), validators=[DataRequired(), Length(max=100)])
    scope = SelectField(
        _l("It may"),
        choices=[
            SelectChoice("read", _l("Read only (GET)")),
            SelectChoice("write", _l("Read and change (as your role allows)")),
        ],
        default="read",
    )
    expires_on = DateField(
        _l("Expires on"),
        validators=[DataRequired()],
        description=_l("At most a year ahead; the token stops working at the start of that day."),
    )
    submit = SubmitField(_l("Create token"))


class RevokeTokenForm(FlaskForm):
    token_id = HiddenField(validators=[DataRequired(), Regexp(r"^\d{1,10}$")])
    submit = SubmitField(_l("Revoke"))
