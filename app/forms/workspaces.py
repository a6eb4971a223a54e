"""Workspace, member, invitation and gateway settings forms."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

import phonenumbers
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    IntegerField,
    PasswordField,
    SelectChoice,
    StringField,
    URLField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..permissions import ROLE_ORDER, Role
from ..services import gateway_urls
from . import SafeNumberRange, SelectField


@cache
def timezone_names() -> frozenset[str]:
    """The IANA zone names, read once: available_timezones() walks the tz files (~30 ms)."""
    return frozenset(available_timezones())


def role_label(role: str) -> str:
    return {
        Role.VIEWER: _l("Viewer"),
        Role.MEMBER: _l("Member"),
        Role.ADMIN: _l("Admin"),
        Role.OWNER: _l("Owner"),
    }[Role(role)]


def _choice(role: Role) -> SelectChoice:
    return SelectChoice(role.value, role_label(role))


class WorkspaceForm(FlaskForm):
    name = StringField(_l("Workspace name"), validators=[InputRequired(), Length(max=100)])

    def validate_name(self, field):
        if not field.data.strip():
            raise ValidationError(_l("Enter a name."))


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=[SelectChoice(r.value, role_label(r)) for r in ROLE_ORDER]
    )


class InvitationForm(FlaskForm):
    # Ownership is never handed out by link: it is transferred.
    role = SelectField(_l("Role"), choices=[_choice(r) for r in ROLE_ORDER[:3]])


class TransferForm(FlaskForm):
    # Bounded: a number beyond the database's integer would fail the lookup itself (a 500).
    user_id = IntegerField(
        _l("New owner"), validators=[InputRequired(), SafeNumberRange(min=1, max=2**31 - 1)]
    )


class DeleteForm(FlaskForm):
    confirm_name = StringField(
        _l("Type the workspace name to confirm"), validators=[InputRequired()]
    )


class SettingsForm(FlaskForm):
    base_url = URLField(_l("Gateway base URL"), validators=[InputRequired(), Length(max=255)])
    family = SelectField(
        _l("API family"),
        choices=[SelectChoice("v3", "v3 (Bearer token)"), SelectChoice("http", "http (api_token)")],
    )
    timezone = StringField(_l("Account timezone"), validators=[InputRequired(), Length(max=64)])
    default_country = StringField(
        _l("Default country for phone numbers"), validators=[InputRequired(), Length(min=2, max=2)]
    )
    balance_warning_below = DecimalField(
        _l("Warn when the balance is below"),
        places=2,
        validators=[Optional(), SafeNumberRange(min=0, max=9_999_999_999)],
        description=_l("Leave empty for no warning."),
    )

    def validate_base_url(self, field):
        # The token is sent to this URL: parsed and checked against the server's policy, its
        # host name resolved now (the client checks each connection's address again).
        try:
            field.data = gateway_urls.check(field.data, resolve=True).url
        except gateway_urls.UrlRefusedError as refused:
            raise ValidationError(gateway_urls.refusal_message(refused)) from None

    def validate_timezone(self, field):
        if field.data.strip() not in timezone_names():
            raise ValidationError(_l("Enter a timezone such as Europe/Amsterdam."))
        field.data = field.data.strip()

    def validate_default_country(self, field):
        code = field.data.strip().upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(_l("Enter a two-letter country code such as US."))
        field.data = code


class TokenForm(FlaskForm):
    # PasswordField never renders a value: the token is write-only.
    token = PasswordField(_l("API token"), validators=[InputRequired(), Length(min=4, max=512)])

    def validate_token(self, field):
        # Stored stripped and sent in an HTTP header: blanks alone, or characters a header
        # cannot carry, would only fail later at every gateway call.
        token = field.data.strip()
        if len(token) < 4 or not all("!" <= char <= "~" for char in token):
            raise ValidationError(_l("Paste the API token exactly as GoTone shows it."))
