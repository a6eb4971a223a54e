"""A background send's job: created with its request (one commit), woken after it, and its
handler, registered with the job engine for kind 'send'.

One job item per message of a personalised request, or per ≤100 chunk of a plain one. The
job is written in the same transaction as the request (drafts.submit), or later by the
sweeper for a request that lost its process (outbox/sweep.py); either way, waking it is only
a hint to the queue.
"""

from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from ...exceptions import ServiceUnavailableError
from ...extensions import db
from ...gotone.client import GoToneClient
from ...gotone.errors import GoToneError
from ...jobs import wake
from ...models import Job, JobItem, Workspace
from ...models import jobs as job_states
from ...models.outbox import ACCEPTED, FAILED, QUEUED, SENDING, UNKNOWN, OutboxMessage, SendRequest
from ...models.types import utcnow
from .. import jobs as jobs_service
from ..dml import execute_dml
from ..gotone import client_for
from .delivery import MAX_CALL, Call, SendSpec, _call, _claim, _mark, finish_if_done, refresh

SEND_JOB = "send"  # Job.kind of a background send

log = logging.getLogger(__name__)


def needs_job(request: SendRequest) -> bool:
    return request.personalised or request.recipients > MAX_CALL


def wake_job(job_id: int) -> bool:
    """Queue the job's runners; on success say so in its heartbeat (commits). A queue outage
    is not the send's failure: the stored job is started by the sweeper later."""
    try:
        wake(job_id, copies=current_app.config["JOBS_RUNNERS"])
    except Exception:  # redis ConnectionError, sqlite3.OperationalError of the queue file...
        log.warning(
            "send job %s: the job queue is unavailable; the sweeper will start it",
            job_id,
            exc_info=True,
        )
        return False
    try:
        jobs_service.beat(job_id)  # only spares the sweeper a second wake
    except Exception:  # the runner beats anyway; a failed beat is no failed send
        db.session.rollback()
    return True


def add_job(request: SendRequest) -> None:
    """Add the request's job (one item per message, or per ≤100 chunk) in the caller's
    transaction; the request's job_id is set only if it had none (two sweepers, one job)."""
    keys = db.session.execute(
        select(OutboxMessage.seq, OutboxMessage.chunk, OutboxMessage.phone)
        .where(OutboxMessage.request_id == request.id, OutboxMessage.state == QUEUED)
        .order_by(OutboxMessage.seq)
    ).all()
    items: list[tuple[int, str | None]]
    if request.personalised:
        items = [(seq, phone) for seq, _chunk, phone in keys]
    else:
        items = [(chunk, None) for chunk in sorted({chunk for _s, chunk, _p in keys})]
    # heartbeat None: no runner was ever queued for it; the sweeper wakes such a job at once.
    job = Job(
        workspace_id=request.workspace_id,
        created_by_id=request.created_by_id,
        kind=SEND_JOB,
        state=job_states.RUNNING,
        group_uid="",
        group_name=_("Send #%(id)s", id=request.id)[:255],
        to_process=len(items),
        started_at=utcnow(),
        heartbeat_at=None,
        options={"request_id": request.id},
    )
    db.session.add(job)
    db.session.flush()
    if items:
        db.session.execute(
            JobItem.__table__.insert(),
            [
                {
                    "job_id": job.id,
                    "seq": seq,
                    "state": job_states.QUEUED,
                    "phone": phone,
                    "raw_phone": "",
                    "first_name": "",
                    "last_name": "",
                    "attempts": 0,
                    "uncertain": False,
                    "not_before": 0.0,
                }
                for seq, phone in items
            ],
        )
    taken = (
        execute_dml(
            update(SendRequest)
            .where(SendRequest.id == request.id, SendRequest.job_id.is_(None))
            .values(job_id=job.id)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if taken:
        set_committed_value(request, "job_id", job.id)
    else:  # another sweeper gave it a job meanwhile (never inside submit): drop this one
        db.session.rollback()
        db.session.refresh(request)


def process(job: Job) -> float | None:
    """Work on a send job for one slice (registered with the job engine for kind 'send')."""
    request = db.session.scalar(select(SendRequest).where(SendRequest.job_id == job.id))
    if request is None:
        jobs_service.fail_job(job.id, _("The send of this job no longer exists."))
        return None
    request_id = request.id
    spec = SendSpec.of(request)
    workspace = db.session.get_one(Workspace, job.workspace_id)
    try:
        client = client_for(workspace)
    except (GoToneError, ServiceUnavailableError) as error:
        # No token, or this consumer cannot decrypt it: the job fails with the reason shown
        # on its page and the send's (as imports do), rather than running for ever.
        jobs_service.fail_job(job.id, str(error))
        refresh(db.session.get_one(SendRequest, request_id))
        return None

    def handle(
        client: GoToneClient, item: jobs_service.ClaimedItem
    ) -> jobs_service.Finished | jobs_service.Wait | None:
        return _handle_item(client, spec, item)

    delay = jobs_service.work_items(job, handle, client)
    db.session.expire_all()
    request = db.session.get_one(SendRequest, request_id)
    refresh(request)
    finish_if_done(request_id)
    return delay


def _handle_item(
    client: GoToneClient, request: SendSpec, item: jobs_service.ClaimedItem
) -> jobs_service.Finished | jobs_service.Wait | None:
    """One message (personalised) or chunk sent for one item; a finished item is committed by
    the runner's next slot (commit=False)."""
    request_id = request.id
    where = {"seq": item.seq} if request.personalised else {"chunk": item.seq}
    if item.attempts > 1 or item.uncertain:
        # An earlier attempt of this item was cut off: rows it left `sending` (its worker
        # died mid-call) may have reached the gateway. A first attempt has none to find.
        stale = dict(
            db.session.execute(
                select(OutboxMessage.phone, OutboxMessage.id).where(
                    OutboxMessage.request_id == request_id,
                    OutboxMessage.state == SENDING,
                    *[getattr(OutboxMessage, k) == v for k, v in where.items()],
                )
            ).all()
        )
        _mark(stale, UNKNOWN, _("The worker stopped during the gateway call."))
    texts: dict[str, str] = {}
    claimed = _claim(request_id, texts if request.personalised else None, **where)
    if not claimed:
        # Nothing left to send: an earlier attempt settled the rows and its worker died
        # before it counted the item. Count it as the rows ended.
        ended = set(
            db.session.scalars(
                select(OutboxMessage.state).where(
                    OutboxMessage.request_id == request_id,
                    *[getattr(OutboxMessage, k) == v for k, v in where.items()],
                )
            )
        )
        return _finish(item, ended)
    text = next(iter(texts.values())) if request.personalised else None
    settled: set[str | None] = set()
    call = _call(client, request, claimed, text, settled)
    if call.outcome is Call.RATE_LIMITED:
        wait = jobs_service.pause_pace(request.workspace_id, call.retry_after)
        jobs_service.release_item(item, attempted=False)
        return jobs_service.Wait(wait)
    if call.outcome is Call.RETRY:
        if item.attempts < current_app.config["JOBS_MAX_ATTEMPTS"]:
            _mark(claimed, QUEUED, None)
            jobs_service.release_item(item, delay=min(60.0, 2.0**item.attempts))
            return None
        _mark(claimed, FAILED, _("The gateway could not be reached; nothing was sent."))
        settled = {None}
    if None in settled:  # some row was not ours to settle: read what it became
        settled = set(
            db.session.scalars(
                select(OutboxMessage.state).where(OutboxMessage.id.in_(list(claimed.values())))
            )
        )
        db.session.commit()
    return _finish(item, settled)


def _finish(
    item: jobs_service.ClaimedItem, ended: AbstractSet[str | None]
) -> jobs_service.Finished:
    """Count the item as its rows ended: sent when every one was accepted."""
    if ended <= {ACCEPTED}:
        return jobs_service.finish_item(item, job_states.ITEM_DONE, "sent", "created", commit=False)
    return jobs_service.finish_item(item, job_states.ITEM_FAILED, "error", "failed", commit=False)


# The engine runs sends through this registration (create_app imports this module).
jobs_service.register(jobs_service.JobKind(SEND_JOB, {job_states.RUNNING: process}))
