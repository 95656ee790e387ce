import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
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

from vendorrisk.extensions import db
from vendorrisk.i18n import choices, label, options
from vendorrisk.models import (
    AttestationKind,
    Contact,
    Criticality,
    SecurityActionLevel,
    Supplier,
    SupplierCategory,
    SupplierStatus,
)
from vendorrisk.services.suppliers import SupplierFilter
from vendorrisk.validation import (
    is_valid_corporate_number,
    is_valid_security_action_id,
    normalize_corporate_number,
)


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
    status = SelectField(_l("Status"), choices=choices(SupplierStatus))
    owner_id = SelectField(
        _l("Owner"), coerce=lambda v: int(v) if v else None, validate_choice=True
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
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10000)])
    next_review_on = DateField(_l("Next re-check"), validators=[Optional()])
    submit = SubmitField(_l("Save"))

    def __init__(self, *args, owners=(), supplier_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.supplier_id = supplier_id
        self.owner_id.choices = options([("", "—"), *((u.id, u.label) for u in owners)])

    def model_data(self) -> dict:
        data = super().model_data()
        data["name_en"] = data["name_en"] or ""
        return data

    def validate_corporate_number(self, field):
        if not field.data:
            field.data = None
            return
        if not is_valid_corporate_number(field.data):
            raise ValidationError(
                _l("This is not a valid corporate number (13 digits with a correct check digit).")
            )
        clash = db.session.scalar(
            sa.select(Supplier.id).where(
                Supplier.corporate_number == field.data, Supplier.id != (self.supplier_id or 0)
            )
        )
        if clash:
            raise ValidationError(_l("Another supplier already has this corporate number."))


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
        choices=options([("ja", "日本語"), ("en", "English")]),
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
    notes = TextAreaField(_l("Notes"), validators=[Length(max=10000)])
    document = FileField(_l("Contract document"))
    submit = SubmitField(_l("Save"))

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_incident_notification_hours(self, field):
        if field.data and not self.clause_incident_notification.data:
            raise ValidationError(_l("A deadline needs the incident notification duty ticked."))


class AttestationForm(ModelForm):
    kind = SelectField(_l("Kind"), choices=choices(AttestationKind))
    level = SelectField(
        _l("SECURITY ACTION level"),
        choices=options([("", "—"), *choices(SecurityActionLevel)]),
        coerce=lambda v: v or None,
    )
    name = StringField(_l("Name of the certification"), validators=[Length(max=200)])
    identifier = StringField(
        _l("Declaration ID, certificate or policy number"), validators=[Length(max=100)]
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
        AttestationKind.other: ("name",),
    }

    #: Fields shown for each kind (kind, notes and evidence always are).
    SHOWN = {
        AttestationKind.security_action: ("level", "identifier", "issued_on"),
        AttestationKind.isms: ("identifier", "issuer", "scope", "issued_on", "expires_on"),
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
                data[name] = "" if isinstance(self[name], StringField) else None
        return data

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        kind = self.chosen_kind()
        if kind is None:
            return False
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


class FilterForm(FlaskForm):
    """The supplier list's search and filters (GET, bookmarkable)."""

    class Meta:
        csrf = False

    q = StringField(_l("Name or corporate number"))
    category = SelectField(
        _l("Category"), choices=options([("", _l("All categories")), *choices(SupplierCategory)])
    )
    status = SelectField(
        _l("Status"), choices=options([("", _l("All statuses")), *choices(SupplierStatus)])
    )
    owner = SelectField(_l("Owner"), coerce=lambda v: int(v) if v else None)
    criticality = SelectField(
        _l("Business criticality"),
        choices=options([("", _l("Any criticality")), *choices(Criticality)]),
    )
    sort = SelectField(
        _l("Sort by"),
        choices=options(
            [
                ("name", _l("Name (A→Z)")),
                ("-name", _l("Name (Z→A)")),
                ("criticality", _l("Criticality (highest first)")),
                ("-criticality", _l("Criticality (lowest first)")),
                ("next_review", _l("Next re-check")),
                ("-updated", _l("Recently changed")),
            ]
        ),
    )

    def __init__(self, *args, owners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.owner.choices = options([("", _l("All owners")), *((u.id, u.label) for u in owners)])

    def criteria(self) -> SupplierFilter:
        """The filter from the query string; a value that is not one of the choices is ignored."""
        self.validate()

        def valid(field) -> str:
            return field.data if field.data and not field.errors else ""

        owner = (
            self.owner.data if isinstance(self.owner.data, int) and not self.owner.errors else None
        )
        return SupplierFilter(
            q=(self.q.data or "").strip(),
            category=valid(self.category),
            status=valid(self.status),
            owner_id=owner,
            criticality=valid(self.criticality),
            sort=valid(self.sort) or "name",
        )


class DeleteForm(FlaskForm):
    submit = SubmitField(_l("Delete"))
