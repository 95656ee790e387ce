"""Portal requests parsed into plain data; the questionnaire form is built from the template."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from vendorrisk.catalog import Question
from vendorrisk.catalog.scs import COVER_KINDS
from vendorrisk.services.assessments.portal import Posted


def field_names(question: Question) -> dict[str, str]:
    return {
        "value": f"a-{question.id}",
        "comment": f"c-{question.id}",
        "version": f"v-{question.id}",
        "files": f"f-{question.id}",
    }


def posted_answers(form: MultiDict, questions: list[Question]) -> dict[str, Posted]:
    """The answers of the questions present in the form (file questions carry only files)."""
    posted = {}
    for q in questions:
        names = field_names(q)
        if names["version"] not in form:
            continue
        value = q.kind.from_form(form, names["value"])
        try:
            version = int(form.get(names["version"], "0"))
        except ValueError:
            version = -1
        posted[q.id] = Posted(value=value, comment=form.get(names["comment"], ""), version=version)
    return posted


class CoverForm(FlaskForm):
    """A certificate or check sheet the supplier already holds, given as answers (issue 17)."""

    kind = SelectField(_l("What you are attaching"), validate_choice=False)
    file = FileField(
        _l("File (PDF, PNG, JPEG, XLSX, DOCX, CSV or TXT)"),
        validators=[FileRequired(_l("Choose the file to upload."))],
    )
    scope = TextAreaField(
        _l("Scope and period of validity"),
        validators=[
            DataRequired(_l("State the scope and the period of validity.")),
            Length(max=2000),
        ],
        description=_l(
            "As the certificate or check sheet states them, for example: scope: IT Services "
            "Division at the head office (including the maintenance work for us); valid until "
            "31 March 2028."
        ),
    )
    submit = SubmitField(_l("Attach and answer the questions it covers"))

    def __init__(self, *args, kinds=(), locale=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [(kind, COVER_KINDS[kind].get(locale)) for kind in kinds]

    def validate_kind(self, field) -> None:
        if field.data not in dict(field.choices):
            raise ValidationError(_l("Choose one of the certificates or check sheets listed."))
