"""A background send's job: created with its request (one commit), woken after it.

One job item per message of a personalised request, or per ≤100 chunk of a plain one
(services/outbox.py handles them). The job is written in the same transaction as the
request (outbox.submit), or later by the sweeper for a request that lost its process
(services/outbox_sweep.py); either way, waking it is only a hint to the queue.
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import Job, JobItem
from ..models import jobs as job_states
from ..models.outbox import QUEUED, OutboxMessage, SendRequest
from ..models.types import utcnow
from . import jobs as jobs_service

SEND_JOB = "send"  # Job.kind of a background send

log = logging.getLogger(__name__)


def wake_job(job_id: int) -> bool:
    """Queue the job's runners; on success say so in its heartbeat (commits). A queue outage
    is not the send's failure: the stored job is started by the sweeper later."""
    from ..jobs import wake

    try:
        wake(job_id, copies=current_app.config["JOBS_RUNNERS"])
    except Exception:  # redis ConnectionError, sqlite3.OperationalError of the queue file...
        log.warning("send job %s: the job queue is unavailable; the sweeper will start it",
                    job_id, exc_info=True)  # fmt: skip
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
    if request.personalised:
        items = [(seq, phone) for seq, _chunk, phone in keys]
    else:
        items = [(chunk, None) for chunk in sorted({chunk for _s, chunk, _p in keys})]
    # heartbeat None: no runner was ever queued for it; the sweeper wakes such a job at once.
    job = Job(workspace_id=request.workspace_id, created_by_id=request.created_by_id,
              kind=SEND_JOB, state=job_states.RUNNING, group_uid="",
              group_name=_("Send #%(id)s", id=request.id)[:255], to_process=len(items),
              started_at=utcnow(), heartbeat_at=None,
              options={"request_id": request.id})  # fmt: skip
    db.session.add(job)
    db.session.flush()
    if items:
        db.session.execute(JobItem.__table__.insert(), [
            {"job_id": job.id, "seq": seq, "state": job_states.QUEUED, "phone": phone,
             "raw_phone": "", "first_name": "", "last_name": "", "attempts": 0,
             "uncertain": False, "not_before": 0.0}
            for seq, phone in items
        ])  # fmt: skip
    taken = db.session.execute(
        update(SendRequest).where(SendRequest.id == request.id, SendRequest.job_id.is_(None))
        .values(job_id=job.id).execution_options(synchronize_session=False)
    ).rowcount == 1  # fmt: skip
    if taken:
        set_committed_value(request, "job_id", job.id)
    else:  # another sweeper gave it a job meanwhile (never inside submit): drop this one
        db.session.rollback()
        db.session.refresh(request)
