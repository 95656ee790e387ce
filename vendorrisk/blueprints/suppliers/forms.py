import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    Email,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from vendorrisk import scoping
from vendorrisk.blueprints.common.filters import TIER_CHOICES, PlainChoices, optional_int
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.i18n import choices, current_locale, options
from vendorrisk.i18n.audit import label_of
from vendorrisk.i18n.labels import CLAUSE_LABELS, LABELS, label
from vendorrisk.models import (
    CONTRACT_CLAUSES,
    AttestationKind,
    Contact,
    Criticality,
    ScsEvaluation,
    SecurityActionLevel,
    Supplier,
    SupplierCategory,
    SupplierStatus,
    localized_name,
)
from vendorrisk.services.register import chain
from vendorrisk.services.register.suppliers import SupplierFilter
from vendorrisk.services.reporting import scope
from vendorrisk.validation import (
    is_valid_corporate_number,
    is_valid_security_action_id,
    normalize_corporate_number,
)
from vendorrisk.vocab import SCS_LEVELS, Level, Locale, Outage, Replaceability, Tier

INVALID_CORPORATE_NUMBER = _l(
    "This is not a valid corporate number (13 digits with a correct check digit)."
)


def optional_int_or_none(value):
    """A hidden field's number, or None when it is empty or not a number."""
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ModelForm(FlaskForm):
    """A form whose data (minus buttons and files) is a dict of model columns."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            if unbound_field.field_class in (StringField, TextAreaField, EmailField):
                filters = [_strip, *unbound_field.kwargs.get("filters", ())]
                options = {**options, "filters": filters}  # never mutate the class's field
            return unbound_field.bind(form=form, **options)

    def model_data(self) -> dict:
        skip = {"csrf_token", "submit"} | {f.name for f in self if isinstance(f, FileField)}
        return {name: field.data for name, field in self._fields.items() if name not in skip}


class SupplierForm(ModelForm):
    name_ja = StringField(_l("Name (Japanese)"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=200)])
    corporate_number = StringField(
        _l("Corporate number"),
        description=_l(
            "13 digits, checked with its check digit; leave empty for foreign companies."
        ),
        filters=[lambda v: normalize_corporate_number(v) or None if v else None],
    )
    category = SelectField(_l("Category"), choices=choices(SupplierCategory))
    parent_id = SelectField(
        _l("Parent company or contractor"),
        description=_l(
            "Its holding company, for a group company; the supplier that uses it, for a "
            "subcontractor. Leave it empty at the top of a chain."
        ),
        coerce=optional_int,
    )
    subcontracting_approved_on = DateField(
        _l("Subcontracting approved on"),
        description=_l(
            "For a subcontractor: the day we approved its parent's use of it. Empty while "
            "not approved or not known."
        ),
        validators=[Optional()],
    )
    status = SelectField(_l("Status"), choices=choices(SupplierStatus))
    owner_id = SelectField(_l("Owner"), coerce=optional_int, validate_choice=True)
    unit_id = SelectField(
        _l("Business unit"),
        coerce=optional_int,
        validate_choice=True,
        description=_l(
            "Only this unit's procurement and reviewers (and company-wide roles) see the "
            "supplier; none: the whole company."
        ),
    )
    criticality = SelectField(
        _l("Business criticality"), choices=choices(Criticality), default=Criticality.medium.value
    )
    services = TextAreaField(_l("Services provided"), validators=[Length(max=5000)])
    country = StringField(
        _l("Country (ISO code)"),
        default="JP",
        validators=[
            DataRequired(),
            Regexp(r"^[A-Z]{2}$", message=_l("Two capital letters, such as JP or US.")),
        ],
        filters=[lambda v: v.upper() if v else v],
    )
    website = StringField(_l("Web site"), validators=[Optional(), URL(), Length(max=300)])
    shares_personal_info = BooleanField(_l("Handles personal information we entrust to it"))
    shares_confidential_info = BooleanField(_l("Holds our confidential information on its systems"))
    has_network_access = BooleanField(_l("Has a network connection into our systems"))
    has_admin_access = BooleanField(_l("Has administrator access to our systems"))
    max_outage = SelectField(
        _l("How long could we bear its stopping?"),
        default=Outage.weeks.value,
        choices=choices(Outage),
    )
    replaceability = SelectField(
        _l("How easily could it be replaced?"),
        default=Replaceability.moderate.value,
        choices=choices(Replaceability),
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10000)])
    next_review_on = DateField(_l("Next re-check"), validators=[Optional()])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, owners=(), units=(), supplier_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.supplier_id = supplier_id
        self.owner_id.choices = options([("", "—"), *((u.id, u.label) for u in owners)])
        lang = current_locale()
        self.unit_id.choices = options(
            [
                ("", _l("— (the whole company)")),
                *((u.id, f"{u.code} {u.label(lang)}") for u in units),
            ]
        )
        self.parent_id.choices = options(
            [
                ("", "—"),
                *(
                    (sid, localized_name(ja, en, lang))
                    for sid, ja, en in chain.parent_choices(supplier_id)
                ),
            ]
        )

    def model_data(self) -> dict:
        data = super().model_data()
        data["name_en"] = data["name_en"] or ""
        return data

    def validate_corporate_number(self, field):
        if not field.data:
            field.data = None
            return
        if not is_valid_corporate_number(field.data):
            raise ValidationError(INVALID_CORPORATE_NUMBER)
        clash = db.session.scalar(  # whichever unit holds it: the number is unique
            sa.select(Supplier.id).where(
                Supplier.corporate_number == field.data, Supplier.id != (self.supplier_id or 0)
            ),
            execution_options=scoping.UNSCOPED,
        )
        if clash:
            raise ValidationError(_l("Another supplier already has this corporate number."))

    def validate_parent_id(self, field):
        try:
            chain.check_parent(self.supplier_id, field.data)
        except chain.ChainError as error:
            field.errors.clear()  # the chain's reason says more than "not a valid choice"
            raise ValidationError(str(error)) from None


class ContactForm(ModelForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
        filters=[lambda v: v.lower() if v else v],
    )
    phone = StringField(_l("Telephone"), validators=[Length(max=40)])
    department = StringField(_l("Department"), validators=[Length(max=200)])
    job_title = StringField(_l("Job title"), validators=[Length(max=200)])
    locale = SelectField(
        _l("Language for emails and the questionnaire"),
        choices=choices(Locale),
    )
    is_primary = BooleanField(_l("Primary contact for security questionnaires"))
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, supplier_id=None, contact_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.supplier_id, self.contact_id = supplier_id, contact_id

    def validate_email(self, field):
        clash = db.session.scalar(
            sa.select(Contact.id).where(
                Contact.supplier_id == self.supplier_id,
                Contact.email == field.data,
                Contact.id != (self.contact_id or 0),
            )
        )
        if clash:
            raise ValidationError(
                _l("This supplier already has a contact with this email address.")
            )


#: The SCS levels as a select shows them (★3, ★4, ★5).
SCS_STARS = tuple((level.value, f"★{level.value[-1]}") for level in SCS_LEVELS)


def _optional_select(label, pairs) -> SelectField:
    """A select that may be left at "—" (stored as None)."""
    return SelectField(label, choices=options([("", "—"), *pairs]), coerce=lambda v: v or None)


class ContractForm(ModelForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    reference = StringField(_l("Contract number"), validators=[Length(max=100)])
    starts_on = DateField(_l("Start date"), validators=[Optional()])
    ends_on = DateField(_l("End date"), validators=[Optional()])
    clause_security_requirements = BooleanField(_l("Security requirements are stated"))
    clause_incident_notification = BooleanField(_l("Incident notification duty"))
    incident_notification_hours = IntegerField(
        _l("Notification deadline (hours)"), validators=[Optional(), NumberRange(min=1, max=8760)]
    )
    clause_audit_rights = BooleanField(_l("Right to audit"))
    clause_subcontracting_approval = BooleanField(_l("Subcontracting needs our approval"))
    clause_data_return_deletion = BooleanField(_l("Return and deletion of data at the end"))
    clause_policy_compliance = BooleanField(_l("Compliance with our security policy"))
    clause_cyber_insurance = BooleanField(_l("Cyber insurance required"))
    required_scs_level = _optional_select(_l("SCS level the contract requires"), SCS_STARS)
    required_scs_by = DateField(_l("To be held by"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10000)])
    document = FileField(_l("Contract document"))
    submit = SubmitField(_l("Save"))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_required_scs_by(self, field):
        if field.data and not self.required_scs_level.data:
            raise ValidationError(_l("A date needs the level the contract requires."))

    def validate_incident_notification_hours(self, field):
        if field.data and not self.clause_incident_notification.data:
            raise ValidationError(_l("A deadline needs the incident notification duty ticked."))


class AttestationForm(ModelForm):
    kind = SelectField(_l("Kind"), choices=choices(AttestationKind))
    level = _optional_select(_l("SECURITY ACTION level"), choices(SecurityActionLevel))
    scs_level = _optional_select(_l("SCS level evaluated"), SCS_STARS)
    evaluation = _optional_select(_l("Evaluated by"), choices(ScsEvaluation))
    ledger_ref = StringField(
        _l("Entry in the scheme's register (URL or number)"),
        validators=[Optional(), Length(max=300)],
    )
    covers_service = BooleanField(_l("The certified scope covers the service it gives us"))
    name = StringField(_l("Name of the certification"), validators=[Length(max=200)])
    identifier = StringField(
        _l("Declaration ID, certificate, registration or policy number"),
        validators=[Length(max=100)],
    )
    issuer = StringField(_l("Certification body or insurer"), validators=[Length(max=200)])
    scope = TextAreaField(_l("Scope"), validators=[Length(max=5000)])
    issued_on = DateField(_l("Date of declaration or certification"), validators=[Optional()])
    expires_on = DateField(_l("Expiry date"), validators=[Optional()])
    coverage_limit_jpy = IntegerField(
        _l("Coverage limit (yen)"), validators=[Optional(), NumberRange(min=1)]
    )
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10000)])
    evidence = FileField(_l("Evidence file"))
    submit = SubmitField(_l("Save"))

    #: Fields each kind needs, beyond the kind itself.
    REQUIRED = {
        AttestationKind.security_action: ("level", "identifier", "issued_on"),
        AttestationKind.isms: ("identifier", "issuer", "scope", "expires_on"),
        AttestationKind.pmark: ("identifier", "expires_on"),
        AttestationKind.ismap: ("identifier", "expires_on"),
        AttestationKind.csms: ("identifier", "issuer", "expires_on"),
        AttestationKind.soc2: ("issuer", "issued_on"),
        AttestationKind.cyber_insurance: (
            "issuer",
            "identifier",
            "coverage_limit_jpy",
            "expires_on",
        ),
        AttestationKind.scs: ("scs_level", "evaluation", "identifier", "expires_on"),
        AttestationKind.tech_info_mgmt: ("identifier", "issuer", "expires_on"),
        AttestationKind.tisax: ("identifier", "scope", "expires_on"),
        AttestationKind.iso27701: ("identifier", "issuer", "scope", "expires_on"),
        AttestationKind.pci_dss: ("issuer", "issued_on", "expires_on"),
        AttestationKind.other: ("name",),
    }

    #: Fields shown for each kind (kind, notes and evidence always are).
    SHOWN = {
        AttestationKind.security_action: ("level", "identifier", "issued_on"),
        AttestationKind.isms: (
            "identifier",
            "issuer",
            "scope",
            "covers_service",
            "issued_on",
            "expires_on",
        ),
        AttestationKind.pmark: ("identifier", "issued_on", "expires_on"),
        AttestationKind.ismap: ("identifier", "scope", "issued_on", "expires_on"),
        AttestationKind.csms: ("identifier", "issuer", "scope", "issued_on", "expires_on"),
        AttestationKind.soc2: ("issuer", "scope", "issued_on", "expires_on"),
        AttestationKind.cyber_insurance: (
            "issuer",
            "identifier",
            "coverage_limit_jpy",
            "issued_on",
            "expires_on",
        ),
        AttestationKind.scs: (
            "scs_level",
            "evaluation",
            "identifier",
            "ledger_ref",
            "scope",
            "issued_on",
            "expires_on",
        ),
        AttestationKind.tech_info_mgmt: (
            "identifier",
            "issuer",
            "scope",
            "covers_service",
            "issued_on",
            "expires_on",
        ),
        AttestationKind.tisax: ("identifier", "issuer", "scope", "issued_on", "expires_on"),
        AttestationKind.iso27701: (
            "identifier",
            "issuer",
            "scope",
            "covers_service",
            "issued_on",
            "expires_on",
        ),
        AttestationKind.pci_dss: ("identifier", "issuer", "scope", "issued_on", "expires_on"),
        AttestationKind.other: ("name", "identifier", "issuer", "scope", "issued_on", "expires_on"),
    }
    ALWAYS = ("csrf_token", "kind", "notes", "evidence", "submit")

    def __init__(self, *args, kind_fixed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        #: The kind was chosen before the form (a button per kind, or an existing record).
        self.kind_fixed = kind_fixed and self.chosen_kind() is not None

    def chosen_kind(self) -> AttestationKind | None:
        try:
            return AttestationKind(self.kind.data)
        except ValueError:
            return None

    def fixed(self, name: str) -> bool:
        return name == "kind" and self.kind_fixed

    def shown(self, name: str) -> bool:
        """Whether a field belongs on the form for the chosen kind."""
        kind = self.chosen_kind()
        if not self.kind_fixed or kind is None:
            return True
        return name in self.ALWAYS or name in self.SHOWN[kind]

    def model_data(self) -> dict:
        """The columns, with those that do not apply to the kind emptied."""
        data = super().model_data()
        for name in data:
            if not self.shown(name):
                data[name] = (
                    ""
                    if isinstance(self[name], StringField)
                    else False
                    if isinstance(self[name], BooleanField)
                    else None
                )
        return data

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        kind = self.chosen_kind()
        if kind is None:
            return False
        if kind is not AttestationKind.scs:
            self.scs_level.data = self.evaluation.data = None
        for name in self.REQUIRED[kind]:
            field = self[name]
            if field.data in (None, ""):
                field.errors.append(_l("Required for %(kind)s.", kind=label(kind)))
                ok = False
        if kind is not AttestationKind.security_action:
            self.level.data = None
        elif self.identifier.data and not is_valid_security_action_id(self.identifier.data):
            self.identifier.errors.append(
                _l("A SECURITY ACTION declaration ID is 11 digits starting with 4 or 5.")
            )
            ok = False
        if (
            self.issued_on.data
            and self.expires_on.data
            and self.expires_on.data < self.issued_on.data
        ):
            self.expires_on.errors.append(_l("The expiry date is before the date of issue."))
            ok = False
        return ok


class FilterForm(PlainChoices, FlaskForm):
    """The supplier list's search and filters (GET: the query string is the saved filter)."""

    class Meta:
        csrf = False

    q = StringField(_l("Name or corporate number"))
    category = SelectField(
        _l("Category"), choices=options([("", _l("All categories")), *choices(SupplierCategory)])
    )
    status = SelectField(
        _l("Status"),
        choices=options(
            [("", _l("All statuses")), *choices(SupplierStatus), ("live", _l("Not offboarded"))]
        ),
    )
    owner = SelectField(_l("Owner"), coerce=optional_int)
    criticality = SelectField(
        _l("Business criticality"),
        choices=options([("", _l("Any criticality")), *choices(Criticality)]),
    )
    tier = SelectField(
        _l("Tier"),
        choices=options(TIER_CHOICES),
    )
    insurance = SelectField(
        _l("Cyber insurance"),
        choices=options(
            [("", _l("Any")), ("valid", _l("Valid")), ("missing", _l("Expired or missing"))]
        ),
    )
    isms = SelectField(
        _l("ISMS"),
        choices=options(
            [("", _l("Any")), ("valid", _l("Valid")), ("missing", _l("Expired or missing"))]
        ),
    )
    security_action = SelectField(
        _l("SECURITY ACTION"),
        choices=options(
            [
                ("", _l("Any")),
                ("none", _l("None declared")),
                ("star1", _l("★ or more")),
                ("star2", _l("★★")),
            ]
        ),
    )
    clause_missing = SelectField(
        _l("Contract clause missing"),
        choices=options([("", _l("Any")), *((c, CLAUSE_LABELS[c]) for c in CONTRACT_CLAUSES)]),
    )
    level = SelectField(
        _l("Evaluation level"),
        choices=options(
            [
                ("", _l("Any")),
                ("meets", _l("Meets the required level")),
                ("unmet", _l("Does not hold the required level")),
                ("below", _l("Below the required level")),
                ("not_running", _l("Not yet evaluated (scheme not started)")),
                ("interim", _l("Interim: ISMS covering the service")),
            ]
        ),
    )
    findings = SelectField(
        _l("Findings"),
        choices=options(
            [("", _l("Any")), ("open", _l("Has open findings")), ("none", _l("No open finding"))]
        ),
    )
    review = SelectField(
        _l("Re-check"), choices=options([("", _l("Any")), ("overdue", _l("Overdue"))])
    )
    template = SelectField(_l("Questionnaire of the latest completed assessment"))
    score = SelectField(
        _l("Latest score"),
        choices=options(
            [
                ("", _l("Any")),
                *((bucket, bucket.replace("-", "–")) for bucket in scope.SCORE_BUCKETS),
                ("none", _l("No score yet")),
                ("any", _l("Scored")),
            ]
        ),
    )
    clause = SelectField(
        _l("Contract clause present"),
        choices=options([("", _l("Any")), *((c, CLAUSE_LABELS[c]) for c in CONTRACT_CLAUSES)]),
    )
    expiring = SelectField(
        _l("Expiring"),
        choices=options(
            [
                ("", _l("Any")),
                *choices(AttestationKind),
                ("contract", _l("Contracts in force")),
            ]
        ),
    )
    group = SelectField(_l("Within the group or chain of"), coerce=optional_int)
    subcontractors = SelectField(
        _l("Subcontractors"),
        choices=options(
            [
                ("", _l("Any")),
                ("known", _l("Known (listed, or none used)")),
                ("listed", _l("At least one registered below it")),
                ("approved", _l("All approved")),
                ("assessed", _l("All assessed")),
                ("personal_abroad", _l("Personal information held abroad below it")),
            ]
        ),
    )
    within = SelectField(
        _l("Expiring within"),
        coerce=optional_int,
        choices=options(
            [("", "—"), *((str(d), _l("%(n)d days", n=d)) for d in scope.EXPIRING_DAYS)]
        ),
    )
    sort = SelectField(
        _l("Sort by"),
        choices=options(
            [
                ("name", _l("Name (A→Z)")),
                ("-name", _l("Name (Z→A)")),
                ("criticality", _l("Criticality (highest first)")),
                ("-criticality", _l("Criticality (lowest first)")),
                ("tier", _l("Tier (highest first)")),
                ("-tier", _l("Tier (lowest first)")),
                ("score", _l("Latest score (lowest first)")),
                ("-score", _l("Latest score (highest first)")),
                ("next_review", _l("Next re-check")),
                ("insurance", _l("Insurance expiry (soonest first)")),
                ("-updated", _l("Recently changed")),
            ]
        ),
    )

    #: The filters, in the order the page lists them and the heading summarises them.
    FILTERS = (
        "q",
        "category",
        "status",
        "owner",
        "criticality",
        "tier",
        "insurance",
        "isms",
        "security_action",
        "clause_missing",
        "level",
        "findings",
        "review",
        "template",
        "score",
        "clause",
        "expiring",
        "within",
        "group",
        "subcontractors",
    )

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner.choices = options([("", _l("All owners")), *((u.id, u.label) for u in owners)])
        lang = current_locale()
        templates = [t for t in catalog().current() if t.audience == "supplier"]
        self.template.choices = options(
            [("", _l("Any")), *((t.id, t.title.get(lang)) for t in templates)]
        )
        heads = [(sid, localized_name(ja, en, lang)) for sid, ja, en in chain.group_heads()]
        self.group.choices = options([("", _l("Any")), *heads])
        self._chosen: dict | None = None

    def chosen(self) -> dict:
        """The valid, non-empty values of the query string by field name; the rest is ignored."""
        if self._chosen is None:
            self.validate()
            fields = [self[name] for name in (*self.FILTERS, "sort")]
            data = {f.name: f.data for f in fields if not f.errors}
            data["q"] = (data.get("q") or "").strip()
            self._chosen = {name: value for name, value in data.items() if value not in (None, "")}
        return self._chosen

    def criteria(self) -> SupplierFilter:
        """The filter from the query string; a value that is not one of the choices is ignored."""
        values = self.chosen()
        special = ("owner", "review", "within", "group")
        text = {n: values.get(n, "") for n in self.FILTERS if n not in special}
        return SupplierFilter(
            **text,
            owner_id=values.get("owner"),
            group_id=values.get("group"),
            overdue=values.get("review") == "overdue",
            within=values.get("within") or scope.EXPIRING_DAYS[-1],
            sort=values.get("sort", "name"),
        )

    def query_args(self) -> dict:
        """The query string of this filter and order, without anything invalid (for a link)."""
        values = dict(self.chosen())
        if values.get("sort") == "name":
            del values["sort"]
        return values

    def summary(self) -> list[str]:
        """The active filters in words, e.g. "Tier: Critical"."""
        values = self.chosen()
        return [
            f"{self[name].label.text}: "
            + (values[name] if name == "q" else label_of(values[name], self[name]))
            for name in self.FILTERS
            if name in values
        ]


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete"))


class ChainReviewForm(FlaskForm):
    """Procurement has looked at a supplier its parent reported; back to the page it was on."""

    back_to = HiddenField(filters=[optional_int_or_none])
    submit = SubmitField(_l("Mark as reviewed"))


class TierForm(FlaskForm):
    """Set the tier by hand, with the reason kept in its history."""

    tier = SelectField(
        _l("Tier"),
        choices=options((tier.value, LABELS[Tier][tier]) for tier in reversed(Tier)),
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Set the tier"))


class RequiredLevelForm(FlaskForm):
    """Ask a higher SCS level than the rules do (★3 → ★4), with the reason kept in its history."""

    level = SelectField(
        _l("Level to ask for"),
        choices=options((level.value, LABELS[Level][level]) for level in SCS_LEVELS[1:]),
    )
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Ask this level"))
