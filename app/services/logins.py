"""The steps of a login, each throttled, audited and committed: the password, then (when the
account has it) the second factor. The web layer keeps what belongs to the request: the
session cookie, the pending second factor and the answers (app/blueprints/auth.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..models import User
from . import accounts, audit, sessions, throttle
from . import two_factor as totp


@dataclass(frozen=True)
class Attempt:
    """What one step came to. Signed in: `user` with its new session's `token` (also set as
    user.session_token). Password right, a code is due: `user` and `second_factor`. Too many
    attempts: `wait` (seconds). A wrong answer: none of these."""

    user: User | None = None
    token: str | None = None
    second_factor: bool = False
    wait: int | None = None


def _signed_in(user: User, ip: str | None, agent: str | None, **details) -> Attempt:
    token = sessions.create(user, ip, agent)
    # A per-request attribute, not a column: the model declares it `= None` without a type
    # (an annotation would make the declarative mapping treat it as a column).
    user.session_token = token  # type: ignore[assignment]
    audit.record(user, None, "login.succeeded", user.email, **details)
    db.session.commit()
    return Attempt(user, token)


def with_password(email: str, password: str, ip: str | None, agent: str | None) -> Attempt:
    """The first step. One answer for an unknown e-mail and a wrong password."""
    # Counted before the check, atomically: concurrent guesses cannot all pass.
    if (wait := throttle.reserve(email, ip)) is not None:
        return Attempt(wait=wait)
    user = accounts.authenticate(email, password)
    if user is None:
        audit.record(None, None, "login.failed", accounts.normalise_email(email)[:254])
        db.session.commit()
        return Attempt()
    if user.two_factor_enabled:
        throttle.release(email, ip)  # the codes guessed next still count
        return Attempt(user, second_factor=True)
    throttle.succeeded(email, ip)
    return _signed_in(user, ip, agent)


def with_code(user: User, code: str, ip: str | None, agent: str | None) -> Attempt:
    """The second step, for a user whose password was right a moment ago."""
    if (wait := throttle.reserve(user.email, ip, second_factor=True)) is not None:
        return Attempt(wait=wait)
    if totp.verify(user, code):
        throttle.succeeded(user.email, ip, second_factor=True)
        return _signed_in(user, ip, agent, second_factor=True)
    audit.record(user, None, "login.failed", user.email, second_factor=True)
    db.session.commit()
    return Attempt()


def log_out(user: User) -> None:
    """End every session of this user, including copies of this cookie."""
    sessions.end_all(user)
    audit.record(user, None, "logout", user.email)
    db.session.commit()
