"""The contact form: a phone number checked and normalised before any gateway call."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, ValidationError

from ..exceptions import PhoneError
from ..services.phones import parse_phone

NAME_MAX = 100


class ContactForm(FlaskForm):
    phone = StringField(_l("Phone number"))
    first_name = StringField(_l("First name"), validators=[Length(max=NAME_MAX)])
    last_name = StringField(_l("Last name"), validators=[Length(max=NAME_MAX)])

    def __init__(self, *args, default_country: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_country = default_country

    def validate_phone(self, field):
        try:
            field.data = parse_phone(field.data, self.default_country)
        except PhoneError as error:
            raise ValidationError(str(error)) from None

    def values(self) -> dict[str, str]:
        """The cleaned values, as the contacts service takes them."""
        return {
            "phone": self.phone.data,
            "first_name": (self.first_name.data or "").strip(),
            "last_name": (self.last_name.data or "").strip(),
        }
