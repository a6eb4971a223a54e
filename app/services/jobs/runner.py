"""The runner: one time slice of work on a job, by the handler its kind registered; the
items claimed, paced and handed to the kind one by one."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from ...extensions import db
from ...models import Job
from ...models import jobs as states
from .claims import ClaimedItem, Finished, claim_items, give_back
from .kinds import handler_for, kind_of
from .lifecycle import beat, complete_job
from .pace import acquire_slot, ensure_pace_row, pace_wait, slot_interval
from .queries import job_state, unfinished


def run(job_id: int) -> float | None:
    """Work on a job for one time slice. Returns a delay after which to run again, or None.

    Safe to run any number of times, concurrently too: all work goes through claims.
    """
    job = db.session.get(Job, job_id)
    if job is None or job.final or job.state == states.READY:
        db.session.rollback()
        return None
    handler = handler_for(job)  # registered by the job's kind (services/jobs/kinds.py)
    if handler is None:
        db.session.rollback()
        return None
    return handler(job)


# A runner claims at most this share of a second of the workspace's pace at once (1 item at
# the default 60 a minute), and never more than CLAIM_MAX: the claim's UPDATE and commit are
# shared by the batch, while each item keeps its own slot, gateway call and finishing commit.
CLAIM_SECONDS = 0.5
CLAIM_MAX = 20


# The pace setting is read again this often (a member's change applies within it).
PACE_REFRESH_SECONDS = 2.0


# Claimed items not started after this share of the lease go back to the queue and are
# claimed anew, so that the sweeper never takes back an item its runner is about to call.
HELD_LEASE_SHARE = 0.25


@dataclass(frozen=True)
class Wait:
    """A handler's answer when the whole job must wait (the gateway said slow down)."""

    seconds: float


# handle(client, item) finishes or releases the item and says what happened: the Finished of
# finish_item (the job's state read back with it), a Wait, or None (released: nothing known).
ItemHandler = Callable[[Any, ClaimedItem], "Finished | Wait | None"]


def work_items(job: Job, handle: ItemHandler, client: Any) -> float | None:
    """Claim and handle the job's items, paced, for one slice; then say when to run again.

    A handler finishes its item with finish_item(..., commit=False): the item is committed
    with the next slot's UPDATE (one write transaction per item, not two); a crash in between
    leaves it running, re-queued by the sweeper as uncertain - the path every interrupted
    call already takes.
    """
    config = current_app.config
    slice_end = time.monotonic() + config["JOBS_SLICE_SECONDS"]
    max_wait = config["JOBS_MAX_INLINE_WAIT"]
    hold_for = config["JOBS_LEASE_SECONDS"] * HELD_LEASE_SHARE
    job_id, workspace_id = job.id, job.workspace_id
    held: list[ClaimedItem] = []
    claimed_at = interval_at = 0.0
    interval = 1.0
    known_state: str | None = None
    ensure_pace_row(workspace_id)
    try:
        while time.monotonic() < slice_end:
            # The job's state as the last finished item read it back, or else asked for.
            state = known_state or job_state(job_id)
            if state != states.RUNNING:
                return None
            now = time.monotonic()
            if now - interval_at > PACE_REFRESH_SECONDS:
                interval, interval_at = slot_interval(workspace_id), now
            if held and now - claimed_at > hold_for:
                give_back(held)
                held = []
            if not held:
                paced = pace_wait(workspace_id)
                if paced > max_wait:
                    beat(job_id, paced)
                    return paced
                batch = min(CLAIM_MAX, max(1, int(CLAIM_SECONDS / interval)))
                held, claimed_at = claim_items(job_id, batch), time.monotonic()
                if not held:
                    return _after_last_item(job)
            wait = acquire_slot(workspace_id, max_wait, interval)
            if wait is not None:
                beat(job_id, wait)
                return wait
            result = handle(client, held.pop(0))
            if isinstance(result, Wait):
                beat(job_id, result.seconds)
                return result.seconds
            known_state = result.job_state if isinstance(result, Finished) else None
        return 0.0  # slice used up: queue again behind other workspaces' tasks
    finally:
        # Items claimed but not called (the slice ended, a wait, a stop, an error): back to
        # the queue now rather than after their lease.
        if sys.exc_info()[0] is None:
            db.session.commit()  # the last finished item
        else:
            db.session.rollback()
        if held:
            give_back(held)


def _after_last_item(job: Job) -> float | None:
    """No item ready: finish the job, wait for retries, or leave it to the workers in flight."""
    queued, running, soonest = unfinished(job.id)
    if queued:
        delay = max(0.1, (soonest or 0) - time.time())
        beat(job.id, delay)
        return delay
    if running:
        return None  # another worker holds the last items; it (or the sweeper) finishes
    kind = kind_of(job.kind)
    if kind is not None and kind.on_last_item is not None:
        kind.on_last_item(job)  # an export joins its parts
    complete_job(job.id)
    return None
