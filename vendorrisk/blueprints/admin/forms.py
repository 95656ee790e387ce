from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from vendorrisk.extensions import db
from vendorrisk.i18n import choices, current_locale, options
from vendorrisk.i18n.labels import LABELS, OUTBOX_STATUS_LABELS
from vendorrisk.mail.sender import FIELDS
from vendorrisk.models import Role, User
from vendorrisk.services.users import units
from vendorrisk.vocab import Locale, Tier

LOCALE_CHOICES = options(
    [("", _l("Follow the browser")), *((lc.value, name) for lc, name in LABELS[Locale].items())]
)


class UnitsField(SelectMultipleField):
    """The business units a user works for (choices set by the view: units.all_units())."""

    def __init__(self, **kwargs):
        super().__init__(
            _l("Business units"),
            coerce=int,
            description=_l(
                "Procurement and reviewers see only the suppliers of their units (and those of "
                "no unit). Admins, the CISO and auditors see every supplier unless given units."
            ),
            **kwargs,
        )

    def set_units(self, all_units, locale: str) -> None:
        self.choices = [
            (u.id, f"{u.code} {u.label(locale)}" + ("" if u.active else " (-)")) for u in all_units
        ]


class NewUserForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
        filters=[lambda v: v.strip().lower() if v else v],
    )
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(Role))
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES, coerce=lambda v: v or None)
    units = UnitsField()
    submit = SubmitField(_l("Create user"))

    def validate_email(self, field):
        if db.session.scalar(sa.select(User.id).where(User.email == field.data)):
            raise ValidationError(_l("A user with this email address already exists."))


class EditUserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(Role))
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES, coerce=lambda v: v or None)
    active = BooleanField(_l("Active (may log in)"))
    units = UnitsField()
    submit = SubmitField(_l("Save"))


class UnitForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("Short and stable, as the purchasing system or ERP names the unit."),
        validators=[
            DataRequired(),
            Length(max=40),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", message=_l("Letters, digits, - _ and . only.")),
        ],
        filters=[lambda v: v.strip() if v else v],
    )
    name = StringField(_l("Name (Japanese)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Length(max=200)])
    active = BooleanField(_l("Active (takes new suppliers and members)"), default=True)
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, unit_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit_id = unit_id

    def validate_code(self, field):
        if units.code_taken(field.data, self.unit_id):
            raise ValidationError(_l("Another business unit already has this code."))

    def fields(self) -> dict:
        return {
            "code": self.code.data,
            "name": self.name.data.strip(),
            "name_en": (self.name_en.data or "").strip(),
            "active": self.active.data,
        }


class ResetPasswordForm(FlaskForm):
    submit = SubmitField(_l("Issue a new one-time password"))


class UnlockLoginsForm(FlaskForm):
    submit = SubmitField(_l("Unlock logins"))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = SelectField(
        _l("Action"),
        choices=options(
            [
                ("", _l("All actions")),
                ("create", _l("Created")),
                ("update", _l("Changed")),
                ("delete", _l("Deleted")),
                ("login", _l("Logged in")),
                ("logout", _l("Logged out")),
                ("login_failed", _l("Failed login")),
                ("login_throttled", _l("Login delayed after failures")),
                ("access_denied", _l("Access refused")),
                ("csrf_refused", _l("Form refused (expired or sent from another site)")),
                ("rate_limited", _l("Rate limit reached")),
                ("input_refused", _l("Input refused")),
            ]
        ),
    )
    object_type = SelectField(
        _l("Object"),
        choices=options(
            [
                ("", _l("All objects")),
                ("suppliers", _l("Suppliers")),
                ("contacts", _l("Contacts")),
                ("contracts", _l("Contracts")),
                ("attestations", _l("Certifications and declarations")),
                ("users", _l("Users")),
                ("stored_files", _l("Files")),
            ]
        ),
    )
    actor = StringField(_l("Who (email)"))


class OutboxFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"), choices=options([("", _l("All")), *OUTBOX_STATUS_LABELS.items()])
    )


class DeliverOutboxForm(FlaskForm):
    submit = SubmitField(_l("Deliver pending mail now"))


class RetryMessageForm(FlaskForm):
    submit = SubmitField(_l("Send again"))


def tier_rules_form(rules, templates, formdata=None, seen=""):
    """The tier rules as a form: points per factor, thresholds, score bounds, cadences; `seen`
    is the fingerprint of the stored rules shown (services.settings)."""
    from wtforms import DecimalField, IntegerField
    from wtforms.validators import InputRequired, NumberRange

    from vendorrisk.i18n.labels import risk_reason, tier_name

    class TierRulesForm(FlaskForm):
        seen = HiddenField()
        submit = SubmitField(_l("Save the rules"))

    def number(label, low, high, integer=True):
        kind = IntegerField if integer else DecimalField
        return kind(label, validators=[InputRequired(), NumberRange(min=low, max=high)])

    for key in rules.points:
        setattr(TierRulesForm, f"points__{key}", number(risk_reason(key), 0, 20))
    for level in list(Tier)[1:]:
        setattr(
            TierRulesForm,
            f"threshold__{level}",
            number(_l("Points for inherent risk %(level)s", level=tier_name(level)), 0, 100),
        )
    TierRulesForm.poor_score_below = number(
        _l("A score below this raises the tier"), 0, 100, integer=False
    )
    TierRulesForm.good_score_from = number(
        _l("A score of this or more lowers the tier"), 0, 100, integer=False
    )
    TierRulesForm.unscored_raise = BooleanField(_l("Raise the tier until a first score exists"))
    # The edition first: choosing Ver 3.0's questionnaire moves that tier's next re-checks to it.
    template_choices = options(
        (t.id, f"{t.guideline.label} — {t.title.get(current_locale())}") for t in templates
    )
    for level in reversed(Tier):
        setattr(
            TierRulesForm,
            f"cadence__{level}",
            number(_l("Months between re-checks: %(tier)s", tier=tier_name(level)), 1, 60),
        )
        setattr(
            TierRulesForm,
            f"template__{level}",
            SelectField(
                _l("Questionnaire for %(tier)s", tier=tier_name(level)), choices=template_choices
            ),
        )
    data = {f"points__{k}": v for k, v in rules.points.items()}
    data |= {f"threshold__{k}": v for k, v in rules.inherent_thresholds.items()}
    data |= {f"cadence__{k}": v for k, v in rules.cadence_months.items()}
    data |= {f"template__{k}": v for k, v in rules.template_by_tier.items()}
    data |= {
        "poor_score_below": rules.poor_score_below,
        "good_score_from": rules.good_score_from,
        "unscored_raise": rules.unscored_raise,
        "seen": seen,
    }
    return TierRulesForm(formdata=formdata, data=data)


def rules_from_form(form) -> dict:
    """The form's values in the shape TierRules.from_dict reads."""
    out = {"points": {}, "inherent_thresholds": {}, "cadence_months": {}, "template_by_tier": {}}
    sections = {
        "points": "points",
        "threshold": "inherent_thresholds",
        "cadence": "cadence_months",
        "template": "template_by_tier",
    }
    for name, field in form._fields.items():
        if "__" in name:
            section, key = name.split("__", 1)
            out[sections[section]][key] = field.data
    out["poor_score_below"] = float(form.poor_score_below.data)
    out["good_score_from"] = float(form.good_score_from.data)
    out["unscored_raise"] = bool(form.unscored_raise.data)
    return out


class RunJobForm(FlaskForm):
    submit = SubmitField(_l("Run now"))


def _day_list(form, field):
    try:
        days = [int(part) for part in field.data.replace("、", ",").split(",") if part.strip()]
    except ValueError:
        raise ValidationError(_l("Whole numbers of days, separated by commas.")) from None
    if not days or any(d < 0 or d > 365 for d in days):
        raise ValidationError(_l("Whole numbers of days from 0 to 365, separated by commas."))
    field.days = tuple(sorted(set(days), reverse=True))


class SchemeForm(FlaskForm):
    """The SCS evaluation scheme: when evaluations began, and the interim equivalent until then."""

    started_on = DateField(
        _l("Day the scheme started evaluating (empty: not yet)"), validators=[Optional()]
    )
    interim = SelectField(
        _l("Until then, count as the equivalent"),
        choices=options(
            [
                ("isms", _l("ISMS certification whose scope covers the service")),
                ("none", _l("Nothing (show every supplier as not yet evaluated)")),
            ]
        ),
    )
    seen = HiddenField()
    submit = SubmitField(_l("Save the scheme settings"))


class ScheduleForm(FlaskForm):
    """Offsets of the reminders and alerts, and the digest day."""

    reminder_days_before = StringField(
        _l("Reminders: days before the due date"), validators=[DataRequired(), _day_list]
    )
    overdue_every_days = IntegerField(
        _l("Overdue reminders: every how many days"),
        validators=[InputRequired(), NumberRange(min=1, max=60)],
    )
    escalate_after_days = IntegerField(
        _l("Escalate to the CISO after how many days overdue"),
        validators=[InputRequired(), NumberRange(min=1, max=120)],
    )
    expiry_days_before = StringField(
        _l("Expiry alerts: days before the expiry date"), validators=[DataRequired(), _day_list]
    )
    digest_weekday = SelectField(
        _l("Weekly digest on"),
        coerce=int,
        choices=options(
            [
                (0, _l("Monday")),
                (1, _l("Tuesday")),
                (2, _l("Wednesday")),
                (3, _l("Thursday")),
                (4, _l("Friday")),
                (5, _l("Saturday")),
                (6, _l("Sunday")),
            ]
        ),
    )
    #: The fingerprint of the stored schedule shown (services.settings).
    seen = HiddenField()
    submit = SubmitField(_l("Save the schedule"))

    def settings_data(self) -> dict:
        return {
            "reminder_days_before": list(self.reminder_days_before.days),
            "overdue_every_days": self.overdue_every_days.data,
            "escalate_after_days": self.escalate_after_days.data,
            "expiry_days_before": list(self.expiry_days_before.days),
            "digest_weekday": self.digest_weekday.data,
        }


#: A telephone number as people write it: digits, hyphens, +, parentheses and spaces.
PHONE = r"^\+?[0-9()\- ]*[0-9][0-9()\- ]*$"


def _https_only(form, field):
    """The announcement page is where a supplier checks a mail: never a plain-http page."""
    value = (field.data or "").strip()
    parsed = urlsplit(value)
    if value and (parsed.scheme != "https" or not parsed.hostname or " " in value):
        raise ValidationError(_l("Enter a web address starting with https://."))


def _text(label, max_length: int = 200, required: bool = False) -> StringField:
    first = DataRequired() if required else Optional()
    return StringField(label, validators=[first, Length(max=max_length)], filters=[_strip])


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SenderProfileForm(FlaskForm):
    """Who writes to suppliers (依頼元): shown in every supplier letter and on the portal."""

    company_ja = _text(_l("Company name (Japanese)"), required=True)
    company_en = _text(_l("Company name (English)"))
    department_ja = _text(_l("Department (Japanese)"))
    department_en = _text(_l("Department (English)"))
    person_ja = _text(_l("Person in charge (Japanese)"))
    person_en = _text(_l("Person in charge (English)"))
    phone = StringField(
        _l("Telephone (for suppliers to check a mail is genuine)"),
        validators=[
            Optional(),
            Length(max=30),
            Regexp(PHONE, message=_l("Use digits, hyphens, +, parentheses and spaces only.")),
        ],
        filters=[_strip],
    )
    email = EmailField(
        _l("Email address"),
        validators=[
            Optional(),
            Email(
                check_deliverability=False,
                message=_l("Enter a valid email address, such as name@example.co.jp."),
            ),
            Length(max=254),
        ],
        filters=[_strip],
    )
    announcement_url = URLField(
        _l("Page announcing the supplier survey (https://)"),
        validators=[Optional(), Length(max=500), _https_only],
        filters=[_strip],
    )
    #: The fingerprint of the stored profile shown (mail.sender).
    seen = HiddenField()
    submit = SubmitField(_l("Save the sender profile"))

    def profile_data(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in FIELDS}


class ServiceAccountForm(FlaskForm):
    """A service account: a name for the system it stands for, an address, a role."""

    email = EmailField(
        _l("Email address (of the team running the system)"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
        filters=[lambda v: v.strip().lower() if v else v],
    )
    name = StringField(_l("System"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(Role), default=Role.procurement.value)
    submit = SubmitField(_l("Create service account"))

    def validate_email(self, field):
        if db.session.scalar(sa.select(User.id).where(User.email == field.data)):
            raise ValidationError(_l("A user with this email address already exists."))
