"""Access to the encryption key ring; turns key problems into clear 503 answers."""

from __future__ import annotations

import logging

from flask import Flask, current_app
from flask_babel import gettext as _

from ..crypto import CryptoError, DecryptError, Keyring, UnknownKeyError
from ..exceptions import ServiceUnavailableError

log = logging.getLogger(__name__)


def load_keyring(app: Flask) -> None:
    """Parse PORTAL_ENCRYPTION_KEYS once; a problem is logged, never fatal at start-up."""
    try:
        app.extensions["portal_keyring"] = Keyring.from_config(app.config["ENCRYPTION_KEYS"])
        app.extensions["portal_keyring_error"] = None
    except CryptoError as exc:
        # Booting anyway avoids a crash loop; token pages answer 503 until this is fixed.
        app.extensions["portal_keyring"] = None
        app.extensions["portal_keyring_error"] = str(exc)
        log.error("encryption keys unusable: %s", exc)


def keyring_problem() -> str | None:
    """Return why the key ring cannot be used, or None when it is fine."""
    return current_app.extensions.get("portal_keyring_error")


def keyring() -> Keyring:
    """Return the key ring. Raises ServiceUnavailableError when it is missing or malformed."""
    ring = current_app.extensions.get("portal_keyring")
    if ring is None:
        raise ServiceUnavailableError(
            _(
                "The GoTone token cannot be used: the server's encryption key is not "
                "configured (%(problem)s). Ask the administrator.",
                problem=keyring_problem(),
            )
        )
    return ring


def decrypt(stored: str, scope: int) -> str:
    """Decrypt a stored secret. Raises ServiceUnavailableError with the reason."""
    try:
        return keyring().decrypt(stored, scope)
    except UnknownKeyError as exc:
        raise ServiceUnavailableError(
            _(
                "The GoTone token was encrypted with key '%(kid)s', which this server does not "
                "have. Ask the administrator.",
                kid=exc.kid,
            )
        ) from None
    except DecryptError:
        raise ServiceUnavailableError(
            _("The stored GoTone token cannot be decrypted. An admin can set it again.")
        ) from None


def encrypt(plaintext: str, scope: int) -> str:
    """Encrypt a secret under the primary key. Raises ServiceUnavailableError."""
    return keyring().encrypt(plaintext, scope)


def user_scope(user_id: int) -> int:
    """Associated-data scope for a user's secrets.

    The key ring binds to an integer "workspace id"; users get negative numbers so a user's
    TOTP seed can never be read as a workspace's token (ids are positive).
    """
    return -int(user_id)
