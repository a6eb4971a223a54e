"""Sending a queued request now: in this request when small (one gateway call, a few
attempts), else as a background job."""

from __future__ import annotations

import time

from flask_babel import gettext as _

from ...exceptions import ServiceUnavailableError
from ...extensions import db
from ...gotone.client import GoToneClient
from ...models import Job, Workspace
from ...models.outbox import FAILED, QUEUED, SendRequest
from ..gotone import client_for
from .delivery import Call, _call, _claim, _mark, _touch, fail_queued, finish_if_done
from .send_job import add_job, needs_job, wake_job

INLINE_ATTEMPTS = 3
INLINE_BACKOFF = (0.2, 0.5)


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
    assert job_id is not None  # add_job gave it one if it had none
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
            client = client_for(db.session.get_one(Workspace, request.workspace_id))
        except ServiceUnavailableError as error:
            fail_queued(request.id, error.message)
            return
    claimed = _claim(request.id)
    if claimed:
        for attempt in range(INLINE_ATTEMPTS):
            outcome = _call(client, request, claimed).outcome
            if outcome is Call.RATE_LIMITED:
                # `Too Many Attempts.`: nothing was processed and the rows are queued again;
                # a job sends them once the gateway's window has passed (it keeps the pace).
                start_job(request)
                return
            if outcome is not Call.RETRY:
                break
            if attempt + 1 < INLINE_ATTEMPTS:
                time.sleep(INLINE_BACKOFF[min(attempt, len(INLINE_BACKOFF) - 1)])
                _touch(claimed)
        else:
            _mark(claimed, FAILED, _("The gateway could not be reached; nothing was sent."))
    finish_if_done(request.id)
