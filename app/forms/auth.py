"""Sign-up, login and the two-factor step."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Regexp, ValidationError

from ..services.passwords import MAX_LENGTH as PASSWORD_MAX
from ..services.passwords import MIN_LENGTH as PASSWORD_MIN
from ..services.passwords import policy_problem

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid e-mail address."))
__all__ = ["PASSWORD_MAX", "PASSWORD_MIN", "new_password_field"]


def _policy(form, field):
    email = form.email.data if "email" in form else None
    if field.data and (problem := policy_problem(field.data, email)):
        raise ValidationError(problem)


def new_password_field(label):
    """A new-password field with the ASVS rules: a length and the common-password list."""
    return PasswordField(label, validators=[InputRequired(), _policy])


class SignupForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254), EMAIL])
    password = new_password_field(_l("Password"))
    confirm = PasswordField(
        _l("Repeat password"),
        validators=[InputRequired(), EqualTo("password", message=_l("Passwords differ."))],
    )


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(max=1024)])


class TwoFactorForm(FlaskForm):
    code = StringField(
        _l("Code from your app, or a recovery code"), validators=[InputRequired(), Length(max=32)]
    )
