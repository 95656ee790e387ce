import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from vendorrisk.extensions import db
from vendorrisk.i18n import choices, options
from vendorrisk.models import Role, User

LOCALE_CHOICES = options([("", _l("Follow the browser")), ("ja", "日本語"), ("en", "English")])


class NewUserForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
        filters=[lambda v: v.strip().lower() if v else v],
    )
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(Role))
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES, coerce=lambda v: v or None)
    submit = SubmitField(_l("Create user"))

    def validate_email(self, field):
        if db.session.scalar(sa.select(User.id).where(User.email == field.data)):
            raise ValidationError(_l("A user with this email address already exists."))


class EditUserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(_l("Role"), choices=choices(Role))
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES, coerce=lambda v: v or None)
    active = BooleanField(_l("Active (may log in)"))
    submit = SubmitField(_l("Save"))


class ResetPasswordForm(FlaskForm):
    submit = SubmitField(_l("Issue a new one-time password"))


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


#: Outbox delivery states as shown (a badge with its words, never colour alone).
OUTBOX_STATUS_LABELS = {
    "pending": _l("Waiting to be sent"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}


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
