"""The outbox's part of the periodic sweep (every consumer, app/jobs.py sweep_once).

Two kinds of send can be left behind by a process that died:
- rows `sending` whose call was cut off: the web worker or consumer died during the gateway
  call (inline sends from the form, a due scheduled send), or a job's item lease ran out.
  After the gateway's total deadline plus a margin, with no live leased job item holding
  them, they become `unknown`: the gateway may have them, so they are shown to the team and
  never resent without a member's confirmation.
- requests `queued` with queued rows and no job: their process died between storing them
  and the gateway call (an inline send, or a scheduled send just dispatched). Nothing was
  sent; they get a job (a guarded claim, see send_job.add_job), so they go out once.

Bulk sends are stored with their job in one commit (drafts.submit); a job nobody ever woke
(heartbeat None) is woken by services/jobs/claims.py sweep.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select, update

from ...extensions import db
from ...models import JobItem
from ...models import jobs as job_states
from ...models.outbox import QUEUED, SENDING, UNKNOWN, OutboxMessage, SendRequest
from ...models.types import utcnow
from ..dml import execute_dml
from .delivery import finish_if_done
from .sending import start_job

log = logging.getLogger(__name__)

# Beyond the gateway's total deadline: a busy process, a retry's backoff, clock skew between
# hosts. An inline send touches its rows before each attempt (delivery._touch).
MARGIN_SECONDS = 30.0


def stale_after() -> float:
    """Seconds after its call started that a `sending` row with no live job is abandoned."""
    configured = current_app.config.get("OUTBOX_STALE_SECONDS")
    if configured is not None:
        return float(configured)
    return float(current_app.config["GOTONE_TIMEOUT"]) + MARGIN_SECONDS


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Settle abandoned `sending` rows as unknown and give orphaned queued sends a job."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=stale_after())
    unknown = abandon_sending(now, cutoff)
    started = start_orphans(cutoff)
    return {"unknown": unknown, "started": started}


def abandon_sending(now: datetime, cutoff: datetime) -> int:
    """`sending` rows older than `cutoff` that no live job item holds → `unknown` (commits)."""
    item_seq = case(
        (SendRequest.personalised.is_(True), OutboxMessage.seq), else_=OutboxMessage.chunk
    )
    live = (
        select(JobItem.id)
        .where(
            JobItem.job_id == SendRequest.job_id,
            JobItem.seq == item_seq,
            JobItem.state == job_states.ITEM_RUNNING,
            JobItem.lease_until >= now,
        )
        .exists()
    )
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.request_id)
        .join(SendRequest, SendRequest.id == OutboxMessage.request_id)
        .where(
            OutboxMessage.state == SENDING,
            func.coalesce(OutboxMessage.attempted_at, OutboxMessage.updated_at) < cutoff,
            ~live,
        )
    ).all()
    if not rows:
        db.session.commit()
        return 0
    changed = execute_dml(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([mid for mid, _r in rows]), OutboxMessage.state == SENDING)
        .values(
            state=UNKNOWN,
            updated_at=utcnow(),
            error=_(
                "The sending process stopped during the gateway call: the gateway may "
                "or may not have received it."
            ),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    for request_id in sorted({r for _m, r in rows}):
        finish_if_done(request_id)
    if changed:
        log.warning("outbox sweep: %s message(s) left sending became unknown", changed)
    return changed


def start_orphans(cutoff: datetime) -> int:
    """Queued requests with queued rows, no job and no call in flight → a job (commits)."""
    has = OutboxMessage.request_id == SendRequest.id
    queued = select(OutboxMessage.id).where(has, OutboxMessage.state == QUEUED).exists()
    sending = select(OutboxMessage.id).where(has, OutboxMessage.state == SENDING).exists()
    orphans = db.session.scalars(
        select(SendRequest.id)
        .where(
            and_(
                SendRequest.state == QUEUED,
                SendRequest.job_id.is_(None),
                func.coalesce(SendRequest.dispatched_at, SendRequest.updated_at) < cutoff,
                queued,
                ~sending,
            )
        )
        .order_by(SendRequest.id)
    ).all()
    db.session.commit()
    started = 0
    for request_id in orphans:
        request = db.session.get(SendRequest, request_id)
        if request is None or request.job_id is not None:
            continue
        log.warning("outbox sweep: send %s was stored but never sent; starting it", request_id)
        start_job(request)
        started += 1
    return started


def periodic() -> None:
    """The hook create_app (app/wiring.py) adds to every consumer's sweep round."""
    sweep()
