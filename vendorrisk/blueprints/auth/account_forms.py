"""Forms of the second factor and the sessions page: each change asks for the password again."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from vendorrisk.services.users import accounts


def _code_field(label, description=None) -> StringField:
    return StringField(
        label,
        validators=[DataRequired(), Length(max=64)],
        description=description,
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"},
    )


class _Reauthenticated(FlaskForm):
    """The current password again: a stolen session alone changes nothing here (ASVS 7.5)."""

    password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )

    def validate_password(self, field):
        if not accounts.verify_password(current_user._get_current_object(), field.data or ""):
            raise ValidationError(_l("The current password is not correct."))


class LoginCodeForm(FlaskForm):
    code = _code_field(
        _l("Code from your authenticator app"),
        _l("Lost your phone? Enter one of your recovery codes instead."),
    )
    submit = SubmitField(_l("Log in"))


class EnrolForm(_Reauthenticated):
    #: The secret shown, encrypted (services.users.second_factor.seal): nothing to keep meanwhile.
    sealed = HiddenField(validators=[DataRequired(), Length(max=1000)])
    code = _code_field(_l("Code shown by the app"))
    submit = SubmitField(_l("Turn on two-step login"))


class DisableForm(_Reauthenticated):
    code = _code_field(_l("Code from your authenticator app, or a recovery code"))
    submit = SubmitField(_l("Turn off two-step login"))


class EndSessionsForm(_Reauthenticated):
    #: The button pressed: a session's number, or "others".
    end = StringField(validators=[DataRequired(), Regexp(r"^(\d{1,18}|others)$")])
