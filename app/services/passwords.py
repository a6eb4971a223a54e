"""argon2id password hashing with parameters from the app config."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

# Verified against when the e-mail is unknown, so both failures take about the same time.
_DUMMY_PASSWORD = "dummy password for timing equalisation"  # noqa: S105 - not a secret


def hasher() -> PasswordHasher:
    """Return the app's PasswordHasher (built once per app from ARGON2_* settings)."""
    ext = current_app.extensions
    if "portal_hasher" not in ext:
        cfg = current_app.config
        ph = PasswordHasher(
            time_cost=cfg["ARGON2_TIME_COST"],
            memory_cost=cfg["ARGON2_MEMORY_KIB"],
            parallelism=cfg["ARGON2_PARALLELISM"],
        )
        ext["portal_hasher"] = ph
        ext["portal_dummy_hash"] = ph.hash(_DUMMY_PASSWORD)
    return ext["portal_hasher"]


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return hasher().hash(password)


def verify_password(stored: str, password: str) -> bool:
    """Check a password against its stored hash."""
    try:
        return hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Tell whether the hash was made with weaker parameters than the current ones."""
    return hasher().check_needs_rehash(stored)


def burn_dummy(password: str) -> None:
    """Spend one verification's time on a dummy hash (unknown user at login)."""
    verify_password(current_app.extensions.get("portal_dummy_hash") or _dummy(), password)


def _dummy() -> str:
    hasher()
    return current_app.extensions["portal_dummy_hash"]
