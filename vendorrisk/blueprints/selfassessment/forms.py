import unicodedata
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from vendorrisk.extensions import db
from vendorrisk.i18n import current_locale, options
from vendorrisk.i18n.labels import ITEM_STATUS_LABELS
from vendorrisk.models import ItemStatus, SelfAssessmentCycle
from vendorrisk.services.selfassessment.kpis import KPIS


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class CycleForm(FlaskForm):
    """Start a new cycle from the last one's answers."""

    name = StringField(
        _l("Name of the cycle"),
        description=_l("For example 2026年度 上期."),
        filters=[_strip],
        validators=[DataRequired(), Length(max=100)],
    )
    as_of = DateField(
        _l("As-of date"),
        description=_l("The day the answers describe."),
        validators=[DataRequired(message=_l("Enter a valid date."))],
    )
    template = SelectField(
        _l("Check sheet"),
        description=_l(
            "The edition of the guideline the cycle follows. A cycle in a newer edition starts "
            "from the last cycle through the crosswalk; items that were split, merged or are new "
            "are marked 'to be confirmed'."
        ),
        validators=[DataRequired()],
    )
    submit = SubmitField(_l("Start the cycle"))

    def __init__(self, *args, last=None, templates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.last = last
        self.template.choices = [
            (t.id, f"{t.guideline.label} — {t.title.get(current_locale())}") for t in templates
        ]
        if not self.template.data and templates:
            ids = [t.id for t in templates]
            self.template.data = last.template_id if last and last.template_id in ids else ids[0]

    def validate_name(self, field):
        taken = db.session.scalar(
            sa.select(SelfAssessmentCycle.id).where(SelfAssessmentCycle.name == field.data)
        )
        if taken is not None:
            raise ValidationError(_l("A cycle of this name already exists."))

    def validate_as_of(self, field):
        if self.last is not None and field.data and field.data <= self.last.as_of:
            raise ValidationError(
                gettext(
                    "The as-of date must be after that of the last cycle (%(date)s).",
                    date=self.last.as_of.isoformat(),
                )
            )


def _version(form, field):
    if not str(field.data or "").isdigit():
        raise ValidationError(_l("The form is out of date: reload the page."))


def _owner(value):
    return int(value) if value else None


def _status(value):
    return ItemStatus(value) if value else None


class ItemForm(FlaskForm):
    """One check item's answer; `version` is the one the form was shown with."""

    status = SelectField(
        _l("Status"),
        coerce=_status,
        choices=options(
            [("", _l("Not answered")), *((s.value, lb) for s, lb in ITEM_STATUS_LABELS.items())]
        ),
        validators=[Optional()],
    )
    owner_id = SelectField(_l("Owner"), coerce=_owner)
    target_on = DateField(_l("Target date"), validators=[Optional()])
    evidence = TextAreaField(
        _l("Evidence"),
        description=_l("What shows it: documents, records, and where they are kept."),
        filters=[_strip],
        validators=[Length(max=10000)],
    )
    upload = FileField(
        _l("Evidence file (optional)"),
        description=_l("PDF, PNG, JPEG, XLSX, DOCX, CSV or TXT; it replaces the current one."),
    )
    remove_file = BooleanField(_l("Remove the evidence file"))
    notes = TextAreaField(
        _l("Notes"),
        description=_l("Plans, or why the item does not apply."),
        filters=[_strip],
        validators=[Length(max=10000)],
    )
    version = HiddenField()
    submit = SubmitField(_l("Save"))
    submit_next = SubmitField(_l("Save and go to the next item"))

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner_id.choices = options([("", "—"), *((u.id, u.label) for u in owners)])

    def validate_version(self, field):
        _version(self, field)

    def model_data(self) -> dict:
        return {
            "status": self.status.data,
            "owner_id": self.owner_id.data,
            "target_on": self.target_on.data,
            "evidence": self.evidence.data or "",
            "notes": self.notes.data or "",
        }


class CloseForm(FlaskForm):
    confirm = BooleanField(
        _l("I understand that the answers of a closed cycle can no longer be changed."),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )
    submit = SubmitField(_l("Close the cycle"))


def parse_number(raw: str | None) -> Decimal | None:
    """A number as typed (full-width digits, thousands separators, a trailing % allowed)."""
    text = unicodedata.normalize("NFKC", raw or "").strip().replace(",", "").removesuffix("%")
    if not text:
        return None
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return Decimal("NaN")
    return number


def _kpi_validator(unit: str):
    """Check a KPI as typed, and keep its value as `field.number` (the text stays as typed)."""

    def check(form, field):
        field.number = None
        number = parse_number(field.data)
        if number is None:
            return
        if not number.is_finite():
            raise ValidationError(_l("Enter a number."))
        if unit == "percent":
            if not 0 <= number <= 100:
                raise ValidationError(_l("Enter a percentage between 0 and 100."))
            field.number = round(float(number), 1)
        else:
            if number < 0 or number != number.to_integral_value():
                raise ValidationError(_l("Enter a whole number of 0 or more."))
            field.number = float(int(number))

    return check


def _kpi_form_class():
    """The KPI form: one field per defined KPI, validated by its unit."""
    fields = {
        definition.key: StringField(definition.label, validators=[_kpi_validator(definition.unit)])
        for definition in KPIS
    }
    fields["version"] = HiddenField(validators=[_version])
    fields["submit"] = SubmitField(_l("Save the KPI values"))
    return type("KpiForm", (FlaskForm,), fields)


KpiForm = _kpi_form_class()


def kpi_values(form) -> dict:
    """The validated KPI values by key (None: left empty)."""
    return {d.key: getattr(form[d.key], "number", None) for d in KPIS}


def kpi_text(definition, value: float | None) -> str:
    """A stored KPI value as the form shows it (counts without decimals)."""
    if value is None:
        return ""
    return str(int(value)) if definition.unit == "count" else f"{value:g}"
