"""Drafts and submit: claim a send by its idempotency key and write its messages, queued,
in one commit (with its job when it needs one); and reading requests back."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ...exceptions import InFlightError, KeyReusedError, OutboxError
from ...extensions import db
from ...models import User, Workspace
from ...models.outbox import PLAIN, QUEUED, SCHEDULED, SENDING, OutboxMessage, SendRequest
from ...models.types import utcnow
from .. import audit, merge
from ..segments import message_segments
from .delivery import MAX_CALL
from .send_job import add_job, needs_job

IN_FLIGHT_WAIT = 15.0  # a plain repeated POST waits this long for the first one to finish


@dataclass
class Draft:
    """A normalised send: what the fingerprint covers."""

    text: str
    recipients: list[merge.Recipient]
    type: str = PLAIN
    sender_id: str | None = None
    dlt_template_id: str | None = None
    language: str | None = None
    gender: str | None = None
    media_url: str | None = None
    scheduled_for: datetime | None = None
    timezone: str | None = None
    source: dict = field(default_factory=dict)

    @property
    def personalised(self) -> bool:
        return merge.has_fields(self.text)

    def fingerprint(self) -> str:
        payload = {
            "text": self.text,
            "type": self.type,
            "sender_id": self.sender_id or "",
            "dlt": self.dlt_template_id or "",
            "language": self.language or "",
            "gender": self.gender or "",
            "media_url": self.media_url or "",
            "scheduled_for": self.scheduled_for.isoformat() if self.scheduled_for else "",
            "recipients": sorted(asdict(r).__repr__() for r in self.recipients),
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()


@dataclass
class Submitted:
    request: SendRequest
    replayed: bool


def find(workspace: Workspace, request_id: int) -> SendRequest | None:
    return db.session.scalar(
        select(SendRequest).where(
            SendRequest.id == request_id, SendRequest.workspace_id == workspace.id
        )
    )


def find_message(workspace: Workspace, message_id: int) -> OutboxMessage | None:
    return db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.workspace_id == workspace.id
        )
    )


def by_key(workspace: Workspace, send_key: str) -> SendRequest | None:
    return db.session.scalar(
        select(SendRequest).where(
            SendRequest.workspace_id == workspace.id, SendRequest.send_key == send_key
        )
    )


def submit(
    workspace: Workspace,
    actor: User,
    send_key: str,
    draft: Draft,
    *,
    wait: float = 0.0,
    resend_of: OutboxMessage | None = None,
) -> Submitted:
    """Claim the key and write the request with one queued message per recipient (commits).

    Same key + payload: the existing request (replayed=True) — or InFlightError while its
    inline send is still running after `wait` seconds. Same key, other payload: KeyReusedError.
    """
    if not draft.recipients:
        raise OutboxError(_("Add at least one recipient."))
    fingerprint = draft.fingerprint()
    existing = by_key(workspace, send_key)
    if existing is None:
        try:
            request = _write(workspace, actor, send_key, fingerprint, draft, resend_of)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            existing = by_key(workspace, send_key)
            if existing is None:  # pragma: no cover - the claim failed for another reason
                raise
        else:
            audit.record(
                actor,
                workspace,
                "message.scheduled"
                if draft.scheduled_for
                else ("message.resent" if resend_of else "message.sent"),
                str(request.id),
                recipients=request.recipients,
                units=request.units,
                type=request.type,
                scheduled_for=draft.scheduled_for.isoformat() if draft.scheduled_for else None,
                resend_of=resend_of.id if resend_of else None,
            )
            db.session.commit()
            return Submitted(request, False)
    if existing.fingerprint != fingerprint:
        raise KeyReusedError(
            _(
                "This form was already used for a different message. "
                "Open the compose page again to send another one."
            )
        )
    deadline = time.monotonic() + wait
    while _in_flight(existing):
        if time.monotonic() >= deadline:
            raise InFlightError(_("This message is already being sent."), existing)
        time.sleep(0.2)
        db.session.expire_all()
    return Submitted(existing, True)


def _in_flight(request: SendRequest) -> bool:
    """An inline send (no job) whose messages are still queued or sending."""
    db.session.refresh(request)
    if request.state != QUEUED or request.job_id is not None:
        return False
    pending = db.session.scalar(
        select(func.count()).where(
            OutboxMessage.request_id == request.id, OutboxMessage.state.in_((QUEUED, SENDING))
        )
    )
    db.session.commit()
    return bool(pending)


def _write(
    workspace: Workspace,
    actor: User,
    send_key: str,
    fingerprint: str,
    draft: Draft,
    resend_of: OutboxMessage | None,
) -> SendRequest:
    personalised = draft.personalised
    request = SendRequest(
        workspace_id=workspace.id,
        created_by_id=actor.id,
        created_by_email=actor.email,
        send_key=send_key,
        fingerprint=fingerprint,
        type=draft.type,
        text=draft.text,
        personalised=personalised,
        sender_id=draft.sender_id or None,
        dlt_template_id=draft.dlt_template_id or None,
        language=draft.language or None,
        gender=draft.gender or None,
        media_url=draft.media_url or None,
        source=draft.source,
        recipients=len(draft.recipients),
        scheduled_for=draft.scheduled_for,
        timezone=draft.timezone,
        state=SCHEDULED if draft.scheduled_for else QUEUED,
        dispatched_at=None if draft.scheduled_for else utcnow(),
    )
    db.session.add(request)
    db.session.flush()
    _write_messages(request, draft.recipients, actor, resend_of)
    if request.state == QUEUED and needs_job(request):
        # Stored and runnable in one commit: a process that dies before it wakes the job
        # leaves a job the sweeper starts (its heartbeat is still None), never a lost send.
        add_job(request)
    return request


def _write_messages(
    request: SendRequest,
    recipients: list[merge.Recipient],
    actor: User,
    resend_of: OutboxMessage | None = None,
) -> None:
    chunks = max(1, -(-len(recipients) // MAX_CALL))
    size = -(-len(recipients) // chunks)  # even chunks of at most 100
    worst = units = 0
    rows = []
    for seq, person in enumerate(recipients):
        text = merge.render(request.text, person) if request.personalised else request.text
        segments = message_segments(text, request.type).segments
        worst, units = max(worst, segments), units + segments
        rows.append(
            {
                "request_id": request.id,
                "workspace_id": request.workspace_id,
                "sent_by_id": actor.id,
                "seq": seq,
                "chunk": seq // size,
                "phone": person.phone,
                "first_name": person.first_name[:100],
                "last_name": person.last_name[:100],
                "text": text,
                "segments": segments,
                "units": segments,
                "state": QUEUED,
                "resend_of_id": resend_of.id if resend_of else None,
                "created_at": utcnow(),
                "updated_at": utcnow(),
                "attempts": 0,
            }
        )
    db.session.execute(OutboxMessage.__table__.insert(), rows)
    request.segments, request.units = worst, units


def rewrite_messages(request: SendRequest, actor: User) -> None:
    """A scheduled request's text changed: render its queued messages again (flushes)."""
    people = [merge.Recipient(m.phone, m.first_name, m.last_name) for m in request.messages]
    db.session.execute(
        OutboxMessage.__table__.delete().where(OutboxMessage.request_id == request.id)
    )
    request.personalised = merge.has_fields(request.text)
    _write_messages(request, people, actor)
    db.session.expire(request, ["messages"])


def messages_of(request: SendRequest, limit: int | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(
        OutboxMessage.request_id == request.id, OutboxMessage.workspace_id == request.workspace_id
    )
    query = query.order_by(OutboxMessage.seq)
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def counts(request: SendRequest) -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.state, func.count())
        .where(OutboxMessage.request_id == request.id)
        .group_by(OutboxMessage.state)
    )
    return {state: n for state, n in rows}
