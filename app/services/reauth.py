"""Re-authentication: the member types their password again before a change that could send
the workspace's gateway token elsewhere or destroy the workspace (changing the gateway URL or
API family, replacing the token, deleting the workspace).

A stolen session cookie alone is then not enough for these. After the right password the
session may do such changes for a short window (REAUTH_SECONDS, 5 minutes by default) without
asking again. The window is kept on the server-side session row (services/sessions.py), not
in the cookie, so it ends with the session. Wrong passwords are counted on that row too: at
MAX_FAILURES the session is ended, so a stolen cookie cannot be used to guess the password.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from ..exceptions import ReauthError
from ..extensions import db
from ..models import User, UserSession
from ..models.types import utcnow
from . import audit, passwords
from .sessions import _digest as session_digest

DEFAULT_WINDOW_SECONDS = 300
MAX_FAILURES = 5


def _window() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("REAUTH_SECONDS", DEFAULT_WINDOW_SECONDS)))


def _row(user: User) -> UserSession | None:
    token = getattr(user, "session_token", None)
    if not token:
        return None
    return db.session.scalar(
        db.select(UserSession).where(
            UserSession.token_hash == session_digest(token), UserSession.user_id == user.id
        )
    )


def window_open(user: User) -> bool:
    """Tell whether this session typed the password again within the window."""
    row = _row(user)
    at = row.reauthenticated_at if row is not None else None
    return at is not None and utcnow() - at < _window()


def confirm(user: User, password: str | None) -> None:
    """Pass when the window is open or `password` is the member's; open the window then.

    Raises ReauthError (nothing changed but the failure count) otherwise. Commits.
    """
    row = _row(user)
    if row is None:  # no server-side session (cannot happen for a logged-in member)
        raise ReauthError(_("Sign in again to make this change."), signed_out=True)
    now = utcnow()
    if row.reauthenticated_at is not None and now - row.reauthenticated_at < _window():
        return
    if not password:
        raise ReauthError(_("Enter your password to confirm this change."))
    if passwords.verify_password(user.password_hash, password):
        row.reauthenticated_at, row.reauth_failures = now, 0
        db.session.commit()
        return
    # Counted in the database in one statement: concurrent wrong guesses all count.
    db.session.execute(
        db.update(UserSession)
        .where(UserSession.id == row.id)
        .values(reauth_failures=UserSession.reauth_failures + 1)
    )
    failures = db.session.scalar(
        db.select(UserSession.reauth_failures).where(UserSession.id == row.id)
    )
    audit.record(user, None, "reauth.failed", user.email)
    if failures is not None and failures >= MAX_FAILURES:
        db.session.delete(row)
        audit.record(user, None, "reauth.signed_out", user.email)
        db.session.commit()
        raise ReauthError(
            _("Too many wrong passwords: you have been signed out. Sign in again."),
            signed_out=True,
        )
    db.session.commit()
    raise ReauthError(_("That is not your password. Nothing was changed."))
