"""Accounts: sign up, authenticate, change password, language."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..exceptions import EmailTakenError
from ..extensions import db
from ..models import User
from . import audit, passwords, sessions


def normalise_email(email: str) -> str:
    """Return the canonical form used for lookups (trimmed, lower case)."""
    return email.strip().lower()


def find_user(email: str) -> User | None:
    """Return the user with this e-mail address, or None."""
    return db.session.scalar(db.select(User).where(User.email == normalise_email(email)))


def create_user(email: str, password: str, locale: str = "en") -> User:
    """Create an account (commits). Raises EmailTakenError."""
    email = normalise_email(email)
    if find_user(email) is not None:
        raise EmailTakenError(email)
    user = User(email=email, password_hash=passwords.hash_password(password), locale=locale)
    db.session.add(user)
    db.session.flush()
    audit.record(user, None, "account.created", email)
    db.session.commit()
    return user


def sign_up(email: str, password: str) -> User | None:
    """Create an account unless the address has one; the caller answers both alike.

    Without e-mail there is no confirmation link that could tell only the address's owner
    "you already have an account", so the portal tells nobody: the same page, the same
    redirect, about the same time (a taken address still spends one hash), and nobody is
    signed in by the sign-up itself. The owner of a taken address is told in the audit log.
    What remains is that the visitor can try to sign in with the password they chose: that
    costs a throttled login per probe, after a sign-up limited per source.
    """
    existing = find_user(email)
    if existing is not None:
        passwords.hash_password(password)  # the time a new account's hash takes
        audit.record(existing, None, "account.signup_refused", existing.email)
        db.session.commit()
        return None
    try:
        return create_user(email, password)
    except (EmailTakenError, IntegrityError):  # the same address signed up at this moment
        db.session.rollback()
        return None


def authenticate(email: str, password: str) -> User | None:
    """Return the user when the password matches; None otherwise, in about the same time."""
    user = find_user(email)
    if user is None:
        passwords.burn_dummy(password)
        return None
    if not passwords.verify_password(user.password_hash, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        db.session.commit()
    return user


def change_password(user: User, current: str, new: str, keep_session: str | None) -> bool:
    """Set a new password, end the other sessions (commits); False if `current` is wrong."""
    if not passwords.verify_password(user.password_hash, current):
        return False
    user.password_hash = passwords.hash_password(new)
    ended = sessions.end_all(user, keep=keep_session)
    audit.record(user, None, "account.password_changed", user.email, sessions_ended=ended)
    db.session.commit()
    return True


def set_locale(user: User, locale: str) -> None:
    """Store the user's interface language (commits)."""
    user.locale = locale
    db.session.commit()
