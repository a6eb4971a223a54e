"""Messages going out: claimed `queued → sending` before the gateway call, one call, the
gateway's answer settled on each row; and a request marked done once none is left.

The rules that move a message are listed in services/outbox/__init__.py.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update

from ...extensions import db
from ...gotone.client import GoToneClient
from ...gotone.errors import GoToneError, RateLimitedError
from ...gotone.types import SendResult
from ...models import Job
from ...models import jobs as job_states
from ...models.outbox import (
    ACCEPTED,
    CANCELLED,
    DONE,
    FAILED,
    QUEUED,
    SENDING,
    UNKNOWN,
    OutboxMessage,
    SendRequest,
)
from ...models.types import utcnow
from .. import account_cache
from ..dml import execute_dml

MAX_CALL = 100  # recipients per gateway call (reference §9)


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
    rows = db.session.execute(
        _claim_statement(tuple(sorted(where))),
        {
            "b_request": request_id,
            "b_now": now,
            **{f"b_{k}": v for k, v in where.items()},
        },
    ).all()
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
        .where(
            table.c.request_id == bindparam("b_request"),
            table.c.state == QUEUED,
            *[table.c[k] == bindparam(f"b_{k}") for k in keys],
        )
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
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(claimed.values()))
        .values(attempts=OutboxMessage.attempts + 1, attempted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _mark(
    claimed: dict[str, int], state: str, error: str | None, *, from_state: str = SENDING
) -> None:
    if not claimed:
        return
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(list(claimed.values())), OutboxMessage.state == from_state)
        .values(state=state, error=error, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


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
        return cls(
            request.id,
            request.workspace_id,
            request.personalised,
            request.text,
            request.type,
            request.sender_id,
            request.dlt_template_id,
            request.language,
            request.gender,
            request.media_url,
        )


class Call(enum.Enum):
    """How one gateway call ended for its claimed rows."""

    SETTLED = "settled"  # the rows hold the answer (accepted, failed or unknown)
    RETRY = "retry"  # it provably never reached the gateway: the rows may be tried again
    RATE_LIMITED = "rate_limited"  # `Too Many Attempts.`: the rows are queued again


@dataclass(frozen=True)
class CallResult:
    outcome: Call
    retry_after: float = 0.0  # RATE_LIMITED: the gateway's window, in seconds


def _call(
    client: GoToneClient,
    request: SendRequest | SendSpec,
    claimed: dict[str, int],
    text: str | None = None,
    settled: set[str | None] | None = None,
) -> CallResult:
    """One gateway call for the claimed rows; settle them, and say how it ended.

    `settled`, when given, receives the states the rows were left in (None for a row another
    worker changed meanwhile: the caller reads it again).
    """
    settled = set() if settled is None else settled
    try:
        result = client.send_sms(
            list(claimed),
            text if text is not None else request.text,
            sender_id=request.sender_id,
            type=request.type,
            dlt_template_id=request.dlt_template_id,
            language=request.language,
            gender=request.gender,
            media_url=request.media_url,
        )
    except RateLimitedError as error:
        # 429: the gateway did not process the call.
        _mark(claimed, QUEUED, None)
        return CallResult(Call.RATE_LIMITED, error.retry_after)
    except GoToneError as error:
        if error.definitely_not_received:
            return CallResult(Call.RETRY)
        state = UNKNOWN if error.may_have_been_processed else FAILED
        _mark(claimed, state, str(error))
        settled.add(state)
        return CallResult(Call.SETTLED)
    settled.update(_settle(claimed, result, request.workspace_id))
    return CallResult(Call.SETTLED)


_DIGITS = re.compile(r"\D")


def _settle(claimed: dict[str, int], result: SendResult, workspace_id: int) -> set[str | None]:
    """Write the gateway's answer on the claimed rows (commits); the states written."""
    written: set[str | None] = set()
    reports = {_DIGITS.sub("", m.to or ""): m for m in result.messages}
    errors = " ".join(result.errors)
    now = utcnow()
    for phone, mid in claimed.items():
        report = reports.get(phone)
        values: dict[str, Any]
        if report is not None:
            values = {
                "state": FAILED if report.is_failed else ACCEPTED,
                "gateway_uid": report.uid,
                "gateway_status": report.status[:255],
                "gateway_cost": None if report.cost is None else str(report.cost)[:32],
                "sent_at": now,
                "error": report.status if report.is_failed else None,
            }
        elif errors:
            mine = [e for e in result.errors if phone in _DIGITS.sub("", e)]
            values = {"state": FAILED, "error": " ".join(mine) or errors}
        elif result.scheduled:
            values = {"state": ACCEPTED, "sent_at": now}
        else:
            values = {
                "state": UNKNOWN,
                "error": _("The gateway answered without a report for this number."),
            }
        values["updated_at"] = now
        changed = execute_dml(
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
        select(func.count()).where(
            OutboxMessage.request_id == request_id, OutboxMessage.state.in_((QUEUED, SENDING))
        )
    )
    done = False
    if not pending:
        done = (
            execute_dml(
                update(SendRequest)
                .where(SendRequest.id == request_id, SendRequest.state == QUEUED)
                .values(state=DONE, finished_at=utcnow(), updated_at=utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )
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
                .values(
                    state=CANCELLED if job.state == job_states.CANCELLED else FAILED,
                    error=reason,
                    updated_at=utcnow(),
                )
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            finish_if_done(request.id)
            db.session.refresh(request)
    return request
