"""Sign-up, login and the two-factor step."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp, ValidationError

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid e-mail address."))
PASSWORD_MIN, PASSWORD_MAX = 8, 128


def new_password_field(label):
    """A new-password field with the ASVS rules: length only, no composition rules."""
    return PasswordField(
        label,
        validators=[
            InputRequired(),
            Length(
                min=PASSWORD_MIN, max=PASSWORD_MAX, message=_l("Use between 8 and 128 characters.")
            ),  # fmt: skip
        ],
    )


class SignupForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254), EMAIL])
    password = new_password_field(_l("Password"))
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[InputRequired(), EqualTo("password", message=_l("Passwords differ."))],
    )

    def validate_password(self, field):
        if self.email.data and field.data and field.data.lower() == self.email.data.lower():
            raise ValidationError(_l("Do not use your e-mail address as password."))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=1024)])


class TwoFactorForm(FlaskForm):
    code = StringField(_l("Code from your app, or a recovery code"),
                       validators=[InputRequired(), Length(max=32)])  # fmt: skip
