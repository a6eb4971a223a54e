"""Account page forms: password, language, two-factor."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from . import SelectField
from .auth import new_password_field

LANGUAGES = [SelectChoice("en", "English"), SelectChoice("zh_Hans", "简体中文")]


class PasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[InputRequired()])
    new = new_password_field(_l("New password"))
    confirm = PasswordField(
        _l("Repeat new password"),
        validators=[InputRequired(), EqualTo("new", message=_l("Passwords differ."))],
    )


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=LANGUAGES)


class EnableTwoFactorForm(FlaskForm):
    code = StringField(_l("Code from your app"), validators=[InputRequired(), Length(max=12)])


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[InputRequired()])
    code = StringField(
        _l("Code from your app, or a recovery code"), validators=[InputRequired(), Length(max=32)]
    )
