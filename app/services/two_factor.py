"""Optional TOTP two-factor authentication with single-use recovery codes."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import pyotp

from ..exceptions import ServiceUnavailableError
from ..extensions import db
from ..models import User
from . import audit, keys, passwords, sessions

RECOVERY_CODES = 10
ISSUER = "GoTone Portal"


def new_secret() -> str:
    """Return a fresh base32 TOTP seed."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    """Return the otpauth:// URI an authenticator app imports."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def begin(user: User) -> str:
    """Start a set-up: a new seed, kept encrypted on the server; return it (commits)."""
    secret = new_secret()
    user.pending_totp_enc = keys.encrypt(secret, keys.user_scope(user.id))
    db.session.commit()
    return secret


def pending_secret(user: User) -> str | None:
    """The seed of the user's set-up in progress, or None.

    A seed this server cannot decrypt any more (its key was rotated out: `flask secrets
    rotate` leaves set-ups in progress alone) counts as none: the user starts again.
    """
    if not user.pending_totp_enc:
        return None
    try:
        return keys.decrypt(user.pending_totp_enc, keys.user_scope(user.id))
    except ServiceUnavailableError:
        return None


def _hash_code(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def _matching_counter(secret: str, code: str, last: int | None) -> int | None:
    """Return the time step `code` belongs to (±1 step), unless already used."""
    totp = pyotp.TOTP(secret)
    code = code.strip().replace(" ", "")
    now = totp.timecode(datetime.now())
    typed = code.encode()  # compare_digest refuses str with non-ASCII characters (a 500)
    for counter in (now - 1, now, now + 1):
        if secrets.compare_digest(totp.generate_otp(counter).encode(), typed):
            # Each time step is accepted once: a code seen on the wire cannot be replayed.
            return counter if last is None or counter > last else None
    return None


def enable(
    user: User, secret: str, code: str, *, keep_session: str | None = None
) -> list[str] | None:
    """Turn 2FA on when `code` matches `secret`; return the recovery codes (commits).

    With keep_session (the caller's own session), the user's other sessions end: one opened
    before the new factor, perhaps by whoever made it necessary, must not outlive it.
    """
    counter = _matching_counter(secret, code, None)
    if counter is None:
        return None
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    user.totp_secret_enc = keys.encrypt(secret, keys.user_scope(user.id))
    user.pending_totp_enc = None
    user.totp_last_counter = counter
    user.recovery_code_hashes = " ".join(_hash_code(c) for c in codes)
    ended = sessions.end_all(user, keep=keep_session) if keep_session else 0
    audit.record(user, None, "account.2fa_enabled", user.email, sessions_ended=ended)
    db.session.commit()
    return codes


def verify(user: User, code: str) -> bool:
    """Check a TOTP code or an unused recovery code at login (commits what it consumes).

    Both are consumed by a conditional UPDATE whose row count decides: of several requests
    carrying the same code at once, exactly one sees its row changed (the others find the
    step already taken or the code list already changed), on SQLite and PostgreSQL alike.
    """
    secret = keys.decrypt(user.totp_secret_enc or "", keys.user_scope(user.id))
    counter = _matching_counter(secret, code, user.totp_last_counter)
    if counter is not None:
        taken = db.session.execute(
            db.update(User)
            .where(User.id == user.id)
            .where((User.totp_last_counter.is_(None)) | (User.totp_last_counter < counter))
            .values(totp_last_counter=counter)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        db.session.refresh(user)
        return taken == 1
    stored = user.recovery_code_hashes or ""
    hashes = stored.split()
    digest = _hash_code(code)
    if digest not in hashes:
        return False
    hashes.remove(digest)
    left = " ".join(hashes)
    # Compare-and-set on the whole list: a concurrent use of any code changes it.
    taken = db.session.execute(
        db.update(User)
        .where(User.id == user.id, User.recovery_code_hashes == stored)
        .values(recovery_code_hashes=left)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        db.session.rollback()
        db.session.refresh(user)
        # Another code was used meanwhile: this one may still be unused, try once more.
        return digest in (user.recovery_code_hashes or "").split() and verify(user, code)
    audit.record(user, None, "account.recovery_code_used", user.email, left=len(hashes))
    db.session.commit()
    db.session.refresh(user)
    return True


def disable(user: User, password: str, code: str, keep_session: str | None) -> bool:
    """Turn 2FA off after password and code check; end the user's other sessions (commits)."""
    if not passwords.verify_password(user.password_hash, password) or not verify(user, code):
        return False
    user.totp_secret_enc = None
    user.totp_last_counter = None
    user.recovery_code_hashes = None
    ended = sessions.end_all(user, keep=keep_session)
    audit.record(user, None, "account.2fa_disabled", user.email, sessions_ended=ended)
    db.session.commit()
    return True
