from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from vendorrisk import clock
from vendorrisk.blueprints.common.filters import ScopeFilterForm, optional_int
from vendorrisk.i18n import choices, current_locale, options
from vendorrisk.models import Criticality, Decision, Severity, SupplierCategory, SupplierStatus
from vendorrisk.services.assessments import lifecycle as assessments
from vendorrisk.services.register import suppliers
from vendorrisk.services.reporting.scope import FINDING_AGES as AGES
from vendorrisk.vocab import LOCALES, Locale


def _future(form, field):
    if field.data and field.data <= clock.today():
        raise ValidationError(_l("The due date must be in the future."))


def _default_due() -> date:
    return clock.today() + timedelta(days=30)


class SendForm(FlaskForm):
    """Send a questionnaire to one supplier's contacts (one language each)."""

    template_id = SelectField(_l("Questionnaire"))
    due_on = DateField(_l("Due date"), default=_default_due, validators=[DataRequired(), _future])
    contact_ids = SelectMultipleField(
        _l("Send to"),
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(message=_l("Choose at least one contact."))],
    )
    message = TextAreaField(_l("Message to the supplier (optional)"), validators=[Length(max=5000)])
    submit = SubmitField(_l("Send the questionnaire"))

    def __init__(self, *args, templates=(), contacts=(), suggested=None, **kwargs):
        super().__init__(*args, **kwargs)
        lang = current_locale()
        self.template_id.choices = options(
            (t.id, _l("%(title)s (%(n)d questions)", title=t.title.get(lang), n=len(t.questions)))
            for t in templates
        )
        #: The questionnaire the tier rules give the supplier's tier (chosen unless posted).
        self.suggested = suggested
        if suggested and not self.is_submitted():
            self.template_id.data = suggested
        self.contacts = list(contacts)
        self.contact_ids.choices = options(
            (c.id, f"{c.name} <{c.email}>") for c in self.contacts if c.undeliverable_at is None
        )

    def locale_for(self, contact, formdata) -> str:
        value = formdata.get(f"locale-{contact.id}") if formdata else None
        return value if value in LOCALES else contact.locale

    def recipients(self, supplier, formdata) -> list[assessments.Recipient]:
        """The chosen contacts, each with the language chosen beside it."""
        chosen = [c for c in supplier.contacts if c.id in self.contact_ids.data]
        return [assessments.Recipient(c, self.locale_for(c, formdata)) for c in chosen]


class CampaignForm(FlaskForm):
    """Send one questionnaire to every supplier matching a filter."""

    name = StringField(_l("Name of the bulk send"), validators=[DataRequired(), Length(max=200)])
    template_id = SelectField(_l("Questionnaire"))
    category = SelectField(
        _l("Category"),
        default="",
        choices=options([("", _l("All categories")), *choices(SupplierCategory)]),
    )
    criticality = SelectField(
        _l("Business criticality"),
        default="",
        choices=options([("", _l("Any criticality")), *choices(Criticality)]),
    )
    owner = SelectField(_l("Owner"), coerce=lambda v: int(v) if v else None, validate_choice=False)
    status = SelectField(
        _l("Status"), choices=choices(SupplierStatus), default=SupplierStatus.active.value
    )
    due_on = DateField(_l("Due date"), default=_default_due, validators=[DataRequired(), _future])
    message = TextAreaField(
        _l("Message to the suppliers (optional)"), validators=[Length(max=5000)]
    )
    preview = SubmitField(_l("Show the suppliers"))
    submit = SubmitField(_l("Send to all of them"))

    def __init__(self, *args, templates=(), owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        lang = current_locale()
        self.template_id.choices = options(
            [
                (
                    assessments.BY_TIER,
                    _l("Each supplier the questionnaire of its tier (tier rules)"),
                ),
                *((t.id, t.title.get(lang)) for t in templates),
            ]
        )
        self.owner.choices = options([("", _l("All owners")), *((u.id, u.label) for u in owners)])

    def criteria(self) -> suppliers.SupplierFilter:
        """The suppliers to send to, as the register's filter."""
        return suppliers.SupplierFilter(
            category=self.category.data or "",
            status=self.status.data or "",
            criticality=self.criticality.data or "",
            owner_id=self.owner.data,
        )


class InviteForm(FlaskForm):
    contact_id = SelectField(_l("Contact"), coerce=int)
    locale = SelectField(_l("Language"), choices=choices(Locale))
    submit = SubmitField(_l("Send a link"))


class ExtendForm(FlaskForm):
    due_on = DateField(_l("New due date"), validators=[DataRequired(), _future])
    submit = SubmitField(_l("Extend the due date"))


class ActionForm(FlaskForm):
    """A button that changes something: CSRF only."""

    submit = SubmitField()


def _live_field() -> SelectField:
    """The supplier not offboarded (`live=1`), as the roll-up counts."""
    return SelectField(
        _l("Supplier status"), choices=options([("", _l("Any")), ("1", _l("Not offboarded"))])
    )


class AssessmentFilterForm(ScopeFilterForm):
    """Status, questionnaire sent, overdue, and the supplier's category, tier, owner and status."""

    status = SelectField(_l("Status"))
    template = SelectField(_l("Questionnaire"))
    overdue = SelectField(_l("Due date"), choices=options([("", _l("Any")), ("1", _l("Overdue"))]))
    live = _live_field()

    def __init__(self, *args, statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = options([("", _l("All statuses")), *statuses])


class FindingFilterForm(ScopeFilterForm):
    """The findings list's filters (besides its status tabs), as the roll-up links to them."""

    #: The supplier's owner, not the finding's (the list's Owner column).
    owner = SelectField(_l("Supplier owner"), coerce=optional_int)
    template = SelectField(_l("Questionnaire of the latest completed assessment"))
    live = _live_field()
    severity = SelectField(
        _l("Severity"),
        choices=options([("", _l("Any severity")), *reversed(choices(Severity))]),
    )
    age = SelectField(
        _l("Days since raised"),
        choices=options(
            [("", _l("Any")), *((a, _l("%(age)s days", age=a.replace("-", "–"))) for a in AGES)]
        ),
    )
    accepted = SelectField(
        _l("Risk acceptance"),
        choices=options(
            [
                ("", _l("Any")),
                ("expired", _l("Acceptance expired")),
                ("30", _l("Expiring within 30 days")),
                ("90", _l("Expiring within 90 days")),
            ]
        ),
    )


class AskForm(FlaskForm):
    """A clarification request (確認依頼) about one answer."""

    question_id = SelectField(_l("Question"))
    body = TextAreaField(
        _l("Your question to the supplier"), validators=[DataRequired(), Length(max=10000)]
    )
    submit = SubmitField(_l("Ask the supplier"))


class ReturnForm(FlaskForm):
    question_ids = SelectMultipleField(
        _l("Questions to open again"),
        validators=[DataRequired(message=_l("Choose the questions to open again."))],
    )
    note = TextAreaField(_l("What to change"), validators=[DataRequired(), Length(max=10000)])
    submit = SubmitField(_l("Return for changes"))


class CoverRejectForm(FlaskForm):
    """Reject a certificate or check sheet given as answers: its answers are cleared."""

    reason = TextAreaField(
        _l("Reason for rejecting"),
        validators=[
            DataRequired(message=_l("Give the reason for rejecting it.")),
            Length(max=10000),
        ],
    )
    submit = SubmitField(_l("Reject and clear its answers"))


class CompleteForm(FlaskForm):
    decision = SelectField(_l("Decision"))
    note = TextAreaField(_l("Conditions or reasons"), validators=[Length(max=10000)])
    submit = SubmitField(_l("Complete the review"))


class FindingForm(FlaskForm):
    question_id = SelectField(_l("Question"), default="")
    title = StringField(_l("Finding"), validators=[DataRequired(), Length(max=300)])
    severity = SelectField(_l("Severity"))
    required_action = TextAreaField(_l("Required action"), validators=[Length(max=10000)])
    due_on = DateField(_l("Remediation due date"), validators=[Optional()])
    owner_id = SelectField(
        _l("Owner"), coerce=lambda v: int(v) if v else None, validate_choice=False
    )
    visible_to_supplier = BooleanField(
        _l("Show to the supplier, who answers with a plan"), default=True
    )
    submit = SubmitField(_l("Raise the finding"))

    def finding_data(self) -> dict:
        """The finding's fields, as the review service takes them."""
        return {
            "question_id": self.question_id.data or None,
            "title": self.title.data,
            "severity": Severity(self.severity.data),
            "required_action": self.required_action.data,
            "due_on": self.due_on.data,
            "owner_id": self.owner_id.data,
            "visible_to_supplier": self.visible_to_supplier.data,
        }


class FindingStatusForm(FlaskForm):
    status = SelectField(_l("Status"))
    submit = SubmitField(_l("Change the status"))


class AcceptRiskForm(FlaskForm):
    reason = TextAreaField(
        _l("Why the residual risk is accepted"), validators=[DataRequired(), Length(max=10000)]
    )
    until = DateField(_l("Accepted until"), validators=[DataRequired(), _future])
    submit = SubmitField(_l("Accept the risk"))


def review_forms(template, owners) -> dict[str, FlaskForm]:
    """The reviewer's forms on an assessment's page, their choices from its questionnaire."""
    lang = current_locale()
    questions = [(q.id, f"{q.id} — {q.text.get(lang)[:80]}") for q in template.questions]
    ask = AskForm(prefix="ask")
    ask.question_id.choices = options(questions)
    ret = ReturnForm(prefix="ret")
    ret.question_ids.choices = options(questions)
    done = CompleteForm(prefix="done")
    done.decision.choices = choices(Decision)
    finding = FindingForm(prefix="finding")
    finding.question_id.choices = options([("", "—"), *questions])
    finding.severity.choices = choices(Severity)
    finding.owner_id.choices = options([("", "—"), *((u.id, u.label) for u in owners)])
    return {"ask_form": ask, "return_form": ret, "complete_form": done, "finding_form": finding}
