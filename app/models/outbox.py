"""The outbox: every send, single or bulk, immediate or scheduled, and one row per recipient.

A `SendRequest` is what a member asked for (one submit of the compose form, claimed by its
idempotency key); an `OutboxMessage` is one recipient of it with its own state. The gateway is
called only for messages in `queued`, after the row was committed as `sending`, so a double
click, a second tab, a replayed POST or a task run twice never sends a message twice.

Message states (MESSAGE_STATES):
- queued: waiting to be sent (request due now, or its job has not reached it yet).
- sending: committed just before the gateway call; a row left here was cut off mid-call.
- accepted: the gateway answered and created a report (`gateway_uid`, `gateway_status`).
- failed: definitely not sent: the gateway refused it (invalid number, balance, coverage...),
  or the call provably never reached it and the retries ran out.
- unknown: the call may have reached the gateway (timeout, reset, 5xx, garbled answer, a
  worker died mid-call). Never resent automatically; a member may resend after checking,
  which creates a new request whose message has `resend_of_id` = this row.
- cancelled: the request was cancelled (scheduled) or its job stopped before this row went.
- missed: its scheduled time passed more than the grace period while no worker ran; not sent.

Request states (REQUEST_STATES):
- scheduled: waiting for `scheduled_for`; editable and cancellable.
- queued: due, its messages are going out (in the request, or in job `job_id`).
- done: every message reached accepted/failed/unknown/cancelled.
- cancelled: cancelled before it went out (by a member); nothing was sent.
- missed: its time passed beyond the grace period while no worker ran; nothing was sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import SQLITE_AUTOINCREMENT, UTCDateTime, utcnow
from .user import User

# Message types (the gateway's `type`).
PLAIN, VOICE, MMS = "plain", "voice", "mms"
TYPES = (PLAIN, VOICE, MMS)

# Message states.
QUEUED = "queued"
SENDING = "sending"
ACCEPTED = "accepted"
FAILED = "failed"
UNKNOWN = "unknown"
CANCELLED = "cancelled"
MISSED = "missed"
MESSAGE_STATES = (QUEUED, SENDING, ACCEPTED, FAILED, UNKNOWN, CANCELLED, MISSED)
MESSAGE_FINAL = (ACCEPTED, FAILED, UNKNOWN, CANCELLED, MISSED)

# Request states.
SCHEDULED = "scheduled"
DONE = "done"
REQUEST_STATES = (SCHEDULED, QUEUED, DONE, CANCELLED, MISSED)
REQUEST_FINAL = (DONE, CANCELLED, MISSED)


class SendRequest(db.Model):
    __tablename__ = "send_requests"
    __table_args__ = (
        UniqueConstraint("workspace_id", "send_key", name="uq_send_requests_workspace_key"),
        Index("ix_send_requests_workspace_created", "workspace_id", "created_at"),
        Index("ix_send_requests_state_scheduled", "state", "scheduled_for"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # The member who sent (or scheduled) it; kept as text too for when the account is gone.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_by_email: Mapped[str] = mapped_column(String(254), default="")
    # The compose form's idempotency key and a SHA-256 of the normalised payload.
    send_key: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(8), default=PLAIN)
    # The text as composed (merge fields not substituted); messages hold the rendered text.
    text: Mapped[str] = mapped_column(Text)
    personalised: Mapped[bool] = mapped_column(Boolean, default=False)
    sender_id: Mapped[str | None] = mapped_column(String(32))
    dlt_template_id: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    gender: Mapped[str | None] = mapped_column(String(8))
    media_url: Mapped[str | None] = mapped_column(String(2048))
    # What the recipients were chosen from, for display: {"numbers": n, "groups": [[uid, name]]}.
    source: Mapped[dict] = mapped_column(JSON, default=dict)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # Worst-case segments of one message, and the estimated units of the whole request.
    segments: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    # UTC; None = immediate. `timezone` is the workspace's zone when it was scheduled (display).
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timezone: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    # The background job sending it (bulk or personalised), else None (sent in the request).
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When it started going out (immediate: at creation; scheduled: when dispatched).
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()
    messages: Mapped[list[OutboxMessage]] = relationship(
        back_populates="request", order_by="OutboxMessage.seq", passive_deletes=True
    )

    @property
    def final(self) -> bool:
        return self.state in REQUEST_FINAL

    @property
    def editable(self) -> bool:
        return self.state == SCHEDULED


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("request_id", "phone", name="uq_outbox_messages_request_phone"),
        UniqueConstraint("request_id", "seq", name="uq_outbox_messages_request_seq"),
        Index("ix_outbox_messages_workspace_created", "workspace_id", "created_at"),
        Index("ix_outbox_messages_request_state", "request_id", "state"),
        Index("ix_outbox_messages_workspace_phone", "workspace_id", "phone"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("send_requests.id", ondelete="CASCADE"))
    # Denormalised from the request so history queries filter on one table.
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    seq: Mapped[int] = mapped_column(Integer)
    # Which gateway call (≤ 100 recipients) of an unpersonalised request carries it.
    chunk: Mapped[int] = mapped_column(Integer, default=0)
    # Normalised digits (E.164 without "+").
    phone: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    # The text this recipient gets (merge fields substituted) and its estimate.
    text: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    gateway_uid: Mapped[str | None] = mapped_column(String(64))
    # The gateway's free-text status (e.g. "Delivered"), refreshed by history through get_sms.
    gateway_status: Mapped[str | None] = mapped_column(String(255))
    gateway_cost: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # When the gateway call started (sending) and when it answered (accepted/failed).
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # This row resends an `unknown` one after a member confirmed.
    resend_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="SET NULL")
    )

    request: Mapped[SendRequest] = relationship(back_populates="messages")
    sent_by: Mapped[User | None] = relationship()


class MessageTemplate(db.Model):
    __tablename__ = "message_templates"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name", name="uq_message_templates_workspace_name"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
