"""Server-side login sessions: the cookie names a row, so ending a session really ends it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import User, UserSession
from ..models.types import utcnow

# last_seen is written at most this often, so reads stay reads.
_TOUCH_EVERY = timedelta(seconds=60)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(user: User, ip: str | None, user_agent: str | None) -> str:
    """Open a session for `user` and return its secret token (commits)."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id, token_hash=_digest(token), ip=ip, user_agent=(user_agent or "")[:255]
        )
    )
    db.session.commit()
    return token


def load(user_id: str, token: str, *, touch: bool = True) -> User | None:
    """Return the user of a live session, or None (unknown, ended, idle or too old).

    touch=False (a page's timer polling, not the user) leaves the idle clock running.
    """
    if not user_id.isdigit() or not token:
        return None
    row = db.session.scalar(
        db.select(UserSession)
        .options(joinedload(UserSession.user))  # every request needs both: one statement
        .where(UserSession.token_hash == _digest(token), UserSession.user_id == int(user_id))
    )
    if row is None:
        return None
    now, cfg = utcnow(), current_app.config
    idle = now - row.last_seen_at > timedelta(seconds=cfg["SESSION_IDLE_SECONDS"])
    too_old = now - row.created_at > timedelta(seconds=cfg["SESSION_ABSOLUTE_SECONDS"])
    if idle or too_old:
        db.session.delete(row)
        db.session.commit()
        return None
    if touch and now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    user = row.user
    user.session_token = token
    return user


def end(token: str | None) -> None:
    """End one session (does not commit)."""
    if token:
        db.session.execute(db.delete(UserSession).where(UserSession.token_hash == _digest(token)))


def end_all(user: User, keep: str | None = None) -> int:
    """End every session of `user` except `keep` (does not commit); return how many ended."""
    query = db.delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        query = query.where(UserSession.token_hash != _digest(keep))
    return db.session.execute(query).rowcount or 0
