from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from vendorrisk.i18n import choices
from vendorrisk.services.users import passwords
from vendorrisk.services.users.accounts import MIN_PASSWORD_LENGTH
from vendorrisk.vocab import Locale


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


def _new_password_field() -> PasswordField:
    return PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            ),
        ],
    )


def _confirm_field() -> PasswordField:
    return PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


class _ForAccount(FlaskForm):
    """A form that sets the password of `account`: the policy is checked for that user."""

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account

    def validate_new(self, field):
        problem = passwords.problem(field.data or "", self.account.email, self.account.name)
        if problem is not None:
            raise ValidationError(problem)


class ChangePasswordForm(_ForAccount):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = _new_password_field()
    confirm = _confirm_field()
    next = HiddenField()
    submit = SubmitField(_l("Change password"))

    def validate_new(self, field):
        if field.data and field.data == self.current.data:
            raise ValidationError(_l("Choose a password different from the current one."))
        super().validate_new(field)


class NewPasswordForm(_ForAccount):
    """The new password set through a reset link."""

    new = _new_password_field()
    confirm = _confirm_field()
    submit = SubmitField(_l("Set the password"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    submit = SubmitField(_l("Send the link"))


class LanguageForm(FlaskForm):
    lang = SelectField(choices=choices(Locale))
    next = HiddenField()
