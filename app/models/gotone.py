"""Per-workspace gateway settings, with the API token encrypted at rest."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class GoToneSettings(db.Model):
    __tablename__ = "gotone_settings"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    base_url: Mapped[str] = mapped_column(String(255))
    family: Mapped[str] = mapped_column(String(8), default="v3")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    default_country: Mapped[str] = mapped_column(String(2), default="US")
    # The dashboard warns when the gateway's balance is a number below this; NULL: never.
    balance_warning_below: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # "v1:<key id>:<nonce+ciphertext>" from app.crypto, bound to workspace_id. Never plaintext.
    token_enc: Mapped[str | None] = mapped_column(Text)
    token_last4: Mapped[str | None] = mapped_column(String(4))
    token_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    token_set_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
