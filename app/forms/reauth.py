"""The forms whose changes ask for the member's password again (services/reauth.py).

Kept apart from forms/workspaces.py: each is that module's form plus the password field, and
for the gateway settings an optional new token (a new URL or family clears the old one).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import Length, Optional

from .workspaces import DeleteForm, SettingsForm, TokenForm


def _password_field(element_id: str) -> PasswordField:
    # Optional here: whether it is needed depends on the change and on the session's window,
    # which services.reauth decides. Length caps what argon2 is asked to hash. The settings
    # page holds three of these forms: each field gets its own element id (the name stays).
    return PasswordField(
        _l("Your password"), validators=[Optional(), Length(max=1024)], id=element_id
    )


class GatewaySettingsForm(SettingsForm):
    # A new URL or family clears the stored token: the new gateway's token may come along.
    new_token = PasswordField(
        _l("API token for the new gateway (optional)"),
        validators=[Optional(), Length(min=4, max=512)],
    )
    password = _password_field("settings-password")

    def validate_new_token(self, field):
        if field.data:
            TokenForm.validate_token(self, field)
            field.data = field.data.strip()


class ReplaceTokenForm(TokenForm):
    password = _password_field("token-password")


class ConfirmDeleteForm(DeleteForm):
    password = _password_field("delete-password")
