"""People, their sessions (server side, so logging out really ends them)."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import SQLITE_AUTOINCREMENT, UTCDateTime, utcnow


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(16), default="en")
    # TOTP seed, encrypted with the key ring (see services/two_factor.py); NULL = 2FA off.
    totp_secret_enc: Mapped[str | None] = mapped_column(Text)
    totp_last_counter: Mapped[int | None] = mapped_column(Integer)
    # The seed of a set-up in progress, encrypted like totp_secret_enc: kept on the server,
    # not in the (signed, readable) session cookie, until a first code proves the app has it.
    pending_totp_enc: Mapped[str | None] = mapped_column(Text)
    # sha256 of each unused recovery code, space separated.
    recovery_code_hashes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    # Flask-Login keeps this id in the cookie; it names the session row, not just the user.
    session_token = None  # set per request by services.sessions.load

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token or ''}"

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret_enc is not None


class UserSession(db.Model):
    __tablename__ = "user_sessions"
    __table_args__ = SQLITE_AUTOINCREMENT

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # Re-authentication (services/reauth.py): when the password was last typed again in this
    # session, and the wrong passwords typed there since; kept here, not in the cookie.
    reauthenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reauth_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    user: Mapped[User] = relationship(back_populates="sessions")
