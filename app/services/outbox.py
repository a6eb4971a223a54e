"""The outbox: claim a send by its idempotency key, then send each recipient at most once.

Rules that move a message (see app/models/outbox.py for the states):
- created `queued` in the same transaction that claims the request's (workspace, send_key);
- `queued → sending` by an UPDATE guarded on `queued`, committed before the gateway call, so
  two requests, tabs or task runs can never both call the gateway for one row;
- the gateway answered with a report → `accepted` (or `failed` if the report says failed);
  it refused (validation, balance, coverage, auth, rate limit) → `failed`;
- `Too Many Attempts.` → back to `queued` (an inline send becomes a job that waits out the
  gateway's window);
- the call provably never reached the gateway (`definitely_not_received`) → tried again
  (inline: up to 3 attempts; in a job: released to the queue with a delay, up to
  JOBS_MAX_ATTEMPTS) and then `failed`;
- anything else after the call started (timeout, reset, 5xx, garbled answer) → `unknown`;
  a row found still `sending` by a worker (its predecessor died mid-call) → `unknown`, and so
  does any row left `sending` past the call's deadline with no live job item (the periodic
  sweep, services/outbox_sweep.py, which also starts requests stored but never sent);
- a request that needs a job is stored with it in one commit (services/outbox_jobs.py);
- `unknown` is never sent again automatically: `resend` (a member's confirmation) creates a
  new request with one message linked by `resend_of_id`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import ServiceUnavailableError
from ..extensions import db
from ..gotone.client import GoToneClient
from ..gotone.errors import GoToneError, RateLimitedError
from ..gotone.types import SendResult
from ..models import Job, User, Workspace
from ..models import jobs as job_states
from ..models.outbox import (
    ACCEPTED,
    CANCELLED,
    DONE,
    FAILED,
    PLAIN,
    QUEUED,
    SCHEDULED,
    SENDING,
    UNKNOWN,
    OutboxMessage,
    SendRequest,
)
from ..models.types import utcnow
from . import account_cache, audit, merge
from . import jobs as jobs_service
from .compose import message_segments
from .gotone import client_for
from .outbox_jobs import SEND_JOB, add_job, wake_job  # noqa: F401 - SEND_JOB re-exported

MAX_CALL = 100  # recipients per gateway call (reference §9)
INLINE_ATTEMPTS = 3
INLINE_BACKOFF = (0.2, 0.5)
IN_FLIGHT_WAIT = 15.0  # a plain repeated POST waits this long for the first one to finish


class OutboxError(Exception):
    """A send that cannot be accepted as asked (the message is safe to show)."""


class KeyReusedError(OutboxError):
    """Same idempotency key, different payload (HTTP 422)."""


class InFlightError(OutboxError):
    """Same key and payload, and the first submit is still sending (HTTP 409)."""

    def __init__(self, message: str, request: SendRequest) -> None:
        super().__init__(message)
        self.request = request


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
            "text": self.text, "type": self.type, "sender_id": self.sender_id or "",
            "dlt": self.dlt_template_id or "", "language": self.language or "",
            "gender": self.gender or "", "media_url": self.media_url or "",
            "scheduled_for": self.scheduled_for.isoformat() if self.scheduled_for else "",
            "recipients": sorted(asdict(r).__repr__() for r in self.recipients),
        }  # fmt: skip
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()


@dataclass
class Submitted:
    request: SendRequest
    replayed: bool


# -- claiming ------------------------------------------------------------------------------------
def find(workspace: Workspace, request_id: int) -> SendRequest | None:
    return db.session.scalar(
        select(SendRequest).where(SendRequest.id == request_id,
                                  SendRequest.workspace_id == workspace.id)  # fmt: skip
    )


def find_message(workspace: Workspace, message_id: int) -> OutboxMessage | None:
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.id == message_id,
                                    OutboxMessage.workspace_id == workspace.id)  # fmt: skip
    )


def by_key(workspace: Workspace, send_key: str) -> SendRequest | None:
    return db.session.scalar(
        select(SendRequest).where(SendRequest.workspace_id == workspace.id,
                                  SendRequest.send_key == send_key)  # fmt: skip
    )


def submit(workspace: Workspace, actor: User, send_key: str, draft: Draft,
           *, wait: float = 0.0, resend_of: OutboxMessage | None = None) -> Submitted:  # fmt: skip
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
            audit.record(actor, workspace, "message.scheduled" if draft.scheduled_for else
                         ("message.resent" if resend_of else "message.sent"), str(request.id),
                         recipients=request.recipients, units=request.units, type=request.type,
                         scheduled_for=draft.scheduled_for.isoformat() if draft.scheduled_for
                         else None, resend_of=resend_of.id if resend_of else None)  # fmt: skip
            db.session.commit()
            return Submitted(request, False)
    if existing.fingerprint != fingerprint:
        raise KeyReusedError(_("This form was already used for a different message. "
                               "Open the compose page again to send another one."))  # fmt: skip
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
        select(func.count()).where(OutboxMessage.request_id == request.id,
                                   OutboxMessage.state.in_((QUEUED, SENDING)))  # fmt: skip
    )
    db.session.commit()
    return bool(pending)


def _write(workspace: Workspace, actor: User, send_key: str, fingerprint: str, draft: Draft,
           resend_of: OutboxMessage | None) -> SendRequest:  # fmt: skip
    personalised = draft.personalised
    request = SendRequest(
        workspace_id=workspace.id, created_by_id=actor.id, created_by_email=actor.email,
        send_key=send_key, fingerprint=fingerprint, type=draft.type, text=draft.text,
        personalised=personalised, sender_id=draft.sender_id or None,
        dlt_template_id=draft.dlt_template_id or None, language=draft.language or None,
        gender=draft.gender or None, media_url=draft.media_url or None, source=draft.source,
        recipients=len(draft.recipients), scheduled_for=draft.scheduled_for,
        timezone=draft.timezone, state=SCHEDULED if draft.scheduled_for else QUEUED,
        dispatched_at=None if draft.scheduled_for else utcnow(),
    )  # fmt: skip
    db.session.add(request)
    db.session.flush()
    _write_messages(request, draft.recipients, actor, resend_of)
    if request.state == QUEUED and needs_job(request):
        # Stored and runnable in one commit: a process that dies before it wakes the job
        # leaves a job the sweeper starts (its heartbeat is still None), never a lost send.
        add_job(request)
    return request


def _write_messages(request: SendRequest, recipients: list[merge.Recipient], actor: User,
                    resend_of: OutboxMessage | None = None) -> None:  # fmt: skip
    chunks = max(1, -(-len(recipients) // MAX_CALL))
    size = -(-len(recipients) // chunks)  # even chunks of at most 100
    worst = units = 0
    rows = []
    for seq, person in enumerate(recipients):
        text = merge.render(request.text, person) if request.personalised else request.text
        segments = message_segments(text, request.type).segments
        worst, units = max(worst, segments), units + segments
        rows.append({
            "request_id": request.id, "workspace_id": request.workspace_id,
            "sent_by_id": actor.id, "seq": seq, "chunk": seq // size, "phone": person.phone,
            "first_name": person.first_name[:100], "last_name": person.last_name[:100],
            "text": text, "segments": segments, "units": segments, "state": QUEUED,
            "resend_of_id": resend_of.id if resend_of else None,
            "created_at": utcnow(), "updated_at": utcnow(), "attempts": 0,
        })  # fmt: skip
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


# -- going out -----------------------------------------------------------------------------------
def needs_job(request: SendRequest) -> bool:
    return request.personalised or request.recipients > MAX_CALL


def start(request: SendRequest, client: GoToneClient | None = None) -> bool:
    """Send a queued request now: in this request when small, else as a background job.

    False when its job is stored but the queue could not be told (Redis or the queue file
    unavailable): the sweeper starts it once the queue is back; nothing is lost.
    """
    if request.state != QUEUED:
        return True
    if needs_job(request):
        return start_job(request) is not None
    send_inline(request, client)
    return True


def start_job(request: SendRequest) -> Job | None:
    """Create the request's job if it has none (commits) and wake it; None when the queue
    could not be reached (the job waits for the sweeper)."""
    if request.job_id is None:
        add_job(request)
        db.session.commit()
    job_id = request.job_id
    if not wake_job(job_id):
        return None
    return db.session.get(Job, job_id)


def send_inline(request: SendRequest, client: GoToneClient | None = None) -> None:
    """Send every queued message of a small unpersonalised request in one call (commits).

    The client comes first: without one (token cleared, keys missing) nothing is claimed and
    the queued messages fail with the reason, instead of staying `sending` for ever.
    """
    if client is None:
        try:
            client = client_for(db.session.get(Workspace, request.workspace_id))
        except ServiceUnavailableError as error:
            fail_queued(request.id, error.message)
            return
    claimed = _claim(request.id)
    if claimed:
        for attempt in range(INLINE_ATTEMPTS):
            outcome = _call(client, request, claimed)
            if outcome.startswith("rate:"):
                # `Too Many Attempts.`: nothing was processed and the rows are queued again;
                # a job sends them once the gateway's window has passed (it keeps the pace).
                start_job(request)
                return
            if outcome != "retry":
                break
            if attempt + 1 < INLINE_ATTEMPTS:
                time.sleep(INLINE_BACKOFF[min(attempt, len(INLINE_BACKOFF) - 1)])
                _touch(claimed)
        else:
            _mark(claimed, FAILED, _("The gateway could not be reached; nothing was sent."))
    finish_if_done(request.id)


def fail_queued(request_id: int, reason: str) -> None:
    """The request cannot be sent (no client): its queued messages fail with `reason`."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.request_id == request_id, OutboxMessage.state == QUEUED)
        .values(state=FAILED, error=reason, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    finish_if_done(request_id)


def _claim(request_id: int, texts: dict[str, str] | None = None, **where) -> dict[str, int]:
    """queued → sending for the request's rows (optionally one seq or chunk); phone → id.

    `texts`, when given, receives phone → rendered text from the same UPDATE (a job's
    personalised row needs its own text for the call; no second query).
    """
    now = utcnow()
    rows = db.session.execute(_claim_statement(tuple(sorted(where))), {
        "b_request": request_id, "b_now": now, **{f"b_{k}": v for k, v in where.items()},
    }).all()  # fmt: skip
    db.session.commit()
    if texts is not None:
        texts.update((phone, text) for _mid, phone, text in rows)
    return {phone: mid for mid, phone, _text in rows}


@functools.cache
def _claim_statement(keys: tuple[str, ...]) -> Any:
    """_claim's UPDATE for rows selected by `keys` (seq, chunk), built once: a job runs it for
    every message."""
    table = OutboxMessage.__table__
    now = bindparam("b_now", type_=table.c.updated_at.type)
    return (
        update(table)
        .where(table.c.request_id == bindparam("b_request"), table.c.state == QUEUED,
               *[table.c[k] == bindparam(f"b_{k}") for k in keys])  # fmt: skip
        .values(state=SENDING, attempts=table.c.attempts + 1, attempted_at=now, updated_at=now)
        .returning(table.c.id, table.c.phone, table.c.text)
    )


@functools.cache
def _settle_statement(keys: tuple[str, ...]) -> Any:
    """_settle's UPDATE of one row setting `keys`, built once per shape of answer."""
    table = OutboxMessage.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.state == SENDING)
        .values(**{k: bindparam(f"b_{k}", type_=table.c[k].type) for k in keys})
    )


def _touch(claimed: dict[str, int]) -> None:
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(claimed.values()))
        .values(attempts=OutboxMessage.attempts + 1, attempted_at=utcnow())
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    db.session.commit()


def _mark(claimed: dict[str, int], state: str, error: str | None, *,
          from_state: str = SENDING) -> None:  # fmt: skip
    if not claimed:
        return
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(claimed.values())), OutboxMessage.state == from_state)
        .values(state=state, error=error, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _call(client: GoToneClient, request: SendRequest | SendSpec, claimed: dict[str, int],
          text: str | None = None, settled: set[str] | None = None) -> str:  # fmt: skip
    """One gateway call for the claimed rows; settle them. Returns done | retry | rate:<s>.

    `settled`, when given, receives the states the rows were left in (None for a row another
    worker changed meanwhile: the caller reads it again).
    """
    settled = set() if settled is None else settled
    try:
        result = client.send_sms(
            list(claimed), text if text is not None else request.text,
            sender_id=request.sender_id, type=request.type,
            dlt_template_id=request.dlt_template_id, language=request.language,
            gender=request.gender, media_url=request.media_url,
        )  # fmt: skip
    except RateLimitedError as error:
        # 429: the gateway did not process the call.
        _mark(claimed, QUEUED, None)
        return f"rate:{error.retry_after}"
    except GoToneError as error:
        if error.definitely_not_received:
            return "retry"
        state = UNKNOWN if error.may_have_been_processed else FAILED
        _mark(claimed, state, str(error))
        settled.add(state)
        return "done"
    settled.update(_settle(claimed, result, request.workspace_id))
    return "done"


_DIGITS = re.compile(r"\D")


def _settle(claimed: dict[str, int], result: SendResult, workspace_id: int) -> set[str | None]:
    """Write the gateway's answer on the claimed rows (commits); the states written."""
    written: set[str | None] = set()
    reports = {_DIGITS.sub("", m.to or ""): m for m in result.messages}
    errors = " ".join(result.errors)
    now = utcnow()
    for phone, mid in claimed.items():
        report = reports.get(phone)
        if report is not None:
            values = {"state": FAILED if report.is_failed else ACCEPTED,
                      "gateway_uid": report.uid, "gateway_status": report.status[:255],
                      "gateway_cost": None if report.cost is None else str(report.cost)[:32],
                      "sent_at": now,
                      "error": report.status if report.is_failed else None}  # fmt: skip
        elif errors:
            mine = [e for e in result.errors if phone in _DIGITS.sub("", e)]
            values = {"state": FAILED, "error": " ".join(mine) or errors}
        elif result.scheduled:
            values = {"state": ACCEPTED, "sent_at": now}
        else:
            values = {"state": UNKNOWN,
                      "error": _("The gateway answered without a report for this number.")}
        values["updated_at"] = now
        changed = db.session.execute(
            _settle_statement(tuple(sorted(values))),
            {"b_id": mid, **{f"b_{k}": v for k, v in values.items()}},
        ).rowcount
        written.add(values["state"] if changed == 1 else None)
    db.session.commit()
    if ACCEPTED in written:
        # The gateway charged for it: the next balance shown is read again. Explicit, since
        # these are Core UPDATEs that no ORM attribute listener sees.
        account_cache.invalidate(workspace_id)
    return written


def finish_if_done(request_id: int) -> bool:
    """Mark the request done once none of its messages is queued or sending (commits)."""
    pending = db.session.scalar(
        select(func.count()).where(OutboxMessage.request_id == request_id,
                                   OutboxMessage.state.in_((QUEUED, SENDING)))  # fmt: skip
    )
    done = False
    if not pending:
        done = db.session.execute(
            update(SendRequest)
            .where(SendRequest.id == request_id, SendRequest.state == QUEUED)
            .values(state=DONE, finished_at=utcnow(), updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount == 1
    db.session.commit()
    return done


def refresh(request: SendRequest) -> SendRequest:
    """Settle a request whose job ended (cancelled/failed) with messages never sent."""
    if request.state == QUEUED and request.job_id is not None:
        job = db.session.get(Job, request.job_id)
        if job is not None and job.final:
            reason = job.error or _("The job was stopped before this message went out.")
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.request_id == request.id, OutboxMessage.state == QUEUED)
                .values(state=CANCELLED if job.state == job_states.CANCELLED else FAILED,
                        error=reason, updated_at=utcnow())  # fmt: skip
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            finish_if_done(request.id)
            db.session.refresh(request)
    return request


# -- the job handler -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SendSpec:
    """What a job's gateway calls need of their request, read once per slice (an ORM row
    would reload itself after each of the runner's commits)."""

    id: int
    workspace_id: int
    personalised: bool
    text: str
    type: str
    sender_id: str | None
    dlt_template_id: str | None
    language: str | None
    gender: str | None
    media_url: str | None

    @classmethod
    def of(cls, request: SendRequest) -> SendSpec:
        return cls(request.id, request.workspace_id, request.personalised, request.text,
                   request.type, request.sender_id, request.dlt_template_id, request.language,
                   request.gender, request.media_url)  # fmt: skip


def process(job: Job) -> float | None:
    """Work on a send job for one slice (registered in services/jobs.run for kind 'send')."""
    request = db.session.scalar(select(SendRequest).where(SendRequest.job_id == job.id))
    if request is None:
        jobs_service.fail_job(job.id, _("The send of this job no longer exists."))
        return None
    request_id = request.id
    spec = SendSpec.of(request)
    workspace = db.session.get(Workspace, job.workspace_id)
    try:
        client = client_for(workspace)
    except (GoToneError, ServiceUnavailableError) as error:
        # No token, or this consumer cannot decrypt it: the job fails with the reason shown
        # on its page and the send's (as imports do), rather than running for ever.
        jobs_service.fail_job(job.id, str(error))
        refresh(db.session.get(SendRequest, request_id))
        return None

    def handle(client: GoToneClient, item: jobs_service.ClaimedItem) -> float | None:
        return _handle_item(client, spec, item)

    delay = jobs_service.work_items(job, handle, client)
    db.session.expire_all()
    request = db.session.get(SendRequest, request_id)
    refresh(request)
    finish_if_done(request_id)
    return delay


def _handle_item(client: GoToneClient, request: SendSpec,
                 item: jobs_service.ClaimedItem) -> float | None:  # fmt: skip
    request_id = request.id
    where = {"seq": item.seq} if request.personalised else {"chunk": item.seq}
    if item.attempts > 1 or item.uncertain:
        # An earlier attempt of this item was cut off: rows it left `sending` (its worker
        # died mid-call) may have reached the gateway. A first attempt has none to find.
        stale = dict(db.session.execute(
            select(OutboxMessage.phone, OutboxMessage.id).where(
                OutboxMessage.request_id == request_id, OutboxMessage.state == SENDING,
                *[getattr(OutboxMessage, k) == v for k, v in where.items()])
        ).all())  # fmt: skip
        _mark(stale, UNKNOWN, _("The worker stopped during the gateway call."))
    texts: dict[str, str] = {}
    claimed = _claim(request_id, texts if request.personalised else None, **where)
    if not claimed:
        # Nothing left to send: an earlier attempt settled the rows and its worker died
        # before it counted the item. Count it as the rows ended.
        ended = set(db.session.scalars(select(OutboxMessage.state).where(
            OutboxMessage.request_id == request_id,
            *[getattr(OutboxMessage, k) == v for k, v in where.items()])))  # fmt: skip
        if ended <= {ACCEPTED}:
            jobs_service.finish_item(item, job_states.ITEM_DONE, "sent", "created")
        else:
            jobs_service.finish_item(item, job_states.ITEM_FAILED, "error", "failed")
        return None
    text = next(iter(texts.values())) if request.personalised else None
    settled: set[str | None] = set()
    outcome = _call(client, request, claimed, text, settled)
    if outcome.startswith("rate:"):
        wait = jobs_service.pause_pace(request.workspace_id, float(outcome[5:]))
        jobs_service.release_item(item, attempted=False)
        return wait
    if outcome == "retry":
        if item.attempts < current_app.config["JOBS_MAX_ATTEMPTS"]:
            _mark(claimed, QUEUED, None)
            jobs_service.release_item(item, delay=min(60.0, 2.0 ** item.attempts))
            return None
        _mark(claimed, FAILED, _("The gateway could not be reached; nothing was sent."))
        settled = {None}
    if None in settled:  # some row was not ours to settle: read what it became
        settled = set(db.session.scalars(select(OutboxMessage.state).where(
            OutboxMessage.id.in_(list(claimed.values())))))  # fmt: skip
        db.session.commit()
    if settled <= {ACCEPTED}:
        jobs_service.finish_item(item, job_states.ITEM_DONE, "sent", "created")
    else:
        jobs_service.finish_item(item, job_states.ITEM_FAILED, "error", "failed")
    return None


# -- resend after a member's confirmation --------------------------------------------------------
def resend(workspace: Workspace, actor: User, message: OutboxMessage) -> Submitted:
    """Send an `unknown` message again as a new request linked to it (idempotent per row)."""
    if message.state != UNKNOWN:
        raise OutboxError(_("Only a message whose outcome is unknown can be resent."))
    # The client first: without a token nothing is written, so the resend key stays unused.
    client = client_for(workspace)
    original = message.request
    draft = Draft(text=message.text, type=original.type,
                  recipients=[merge.Recipient(message.phone)], sender_id=original.sender_id,
                  dlt_template_id=original.dlt_template_id, language=original.language,
                  gender=original.gender, media_url=original.media_url,
                  source={"resend_of": message.id})  # fmt: skip
    submitted = submit(workspace, actor, f"resend-{message.id}", draft, resend_of=message,
                       wait=IN_FLIGHT_WAIT)  # fmt: skip
    if not submitted.replayed:
        start(submitted.request, client)
    return submitted


def messages_of(request: SendRequest, limit: int | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.request_id == request.id,
                                        OutboxMessage.workspace_id == request.workspace_id)
    query = query.order_by(OutboxMessage.seq)
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def counts(request: SendRequest) -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.state, func.count()).where(OutboxMessage.request_id == request.id)
        .group_by(OutboxMessage.state)
    )  # fmt: skip
    return {state: n for state, n in rows}
