from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from vendorrisk.i18n import choices
from vendorrisk.services.users.accounts import MIN_PASSWORD_LENGTH
from vendorrisk.vocab import Locale


class LoginForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(
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
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )
    next = HiddenField()
    submit = SubmitField(_l("Change password"))

    def validate_new(self, field):
        if field.data and field.data == self.current.data:
            raise ValidationError(_l("Choose a password different from the current one."))


class LanguageForm(FlaskForm):
    lang = SelectField(choices=choices(Locale))
    next = HiddenField()
