"""argon2id password hashing with parameters from the app config."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _

MIN_LENGTH, MAX_LENGTH = 10, 128
_COMMON = Path(__file__).resolve().parent.parent / "common_passwords.txt"

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


@cache
def _common() -> frozenset[str]:
    lines = _COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def policy_problem(password: str, email: str | None = None) -> str | None:
    """Why a new password is refused (safe to show), or None when it may be used.

    ASVS 2.1: length and a list of known-breached passwords, no composition rules.
    """
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return _("Use between %(low)d and %(high)d characters.", low=MIN_LENGTH, high=MAX_LENGTH)
    lowered = password.lower()
    if email and lowered == email.strip().lower():
        return _("Do not use your e-mail address as password.")
    if lowered in _common() or lowered.strip() in _common():
        return _("This password is one of the most common ones. Choose another.")
    return None
