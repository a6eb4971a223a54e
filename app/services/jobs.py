"""Jobs and their items: claim, finish, re-queue, sweep, pace; and the runner's main loop.

Every state change of an item is one atomic UPDATE guarded by the state it expects (and the
claim token of the worker that holds it), and bumps the job's counters in the same
transaction: an item is counted once however often a task runs. The kinds of work (import,
export) live in services/imports.py and services/exports.py; this module knows none of the
gateway's rules beyond pacing and which errors stop a whole job.
"""

from __future__ import annotations

import functools
import math
import random
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Float, Integer, bindparam, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Job, JobItem, User, Workspace, WorkspacePace
from ..models import jobs as states
from ..models.types import UTCDateTime, utcnow
from . import audit

PER_PAGE = 25


class JobStateError(ValueError):
    """The job is not in a state that allows this (the message is safe to show)."""


# -- reading -----------------------------------------------------------------------------------
def get_job(workspace: Workspace, job_id: int) -> Job | None:
    """The workspace's job, or None (another workspace's job id is simply not found)."""
    return db.session.scalar(
        select(Job).where(Job.id == job_id, Job.workspace_id == workspace.id)
    )


@dataclass(frozen=True)
class JobPage:
    jobs: list[Job]
    page: int
    pages: int


def list_jobs(workspace: Workspace, page: int = 1, per_page: int = PER_PAGE) -> JobPage:
    """One page of the workspace's jobs, newest first."""
    scoped = select(Job).where(Job.workspace_id == workspace.id)
    total = db.session.scalar(select(func.count()).select_from(scoped.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(
        scoped.options(joinedload(Job.created_by))  # each row shows its author
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return JobPage(list(rows), page, pages)


def rejected_items(job_id: int, limit: int, after_seq: int = 0) -> list[JobItem]:
    """Up to `limit` of the job's rejected and failed lines after row `after_seq`, in order."""
    return list(db.session.scalars(
        select(JobItem)
        .where(JobItem.job_id == job_id, JobItem.seq > after_seq,
               JobItem.state.in_((states.ITEM_REJECTED, states.ITEM_FAILED)))
        .order_by(JobItem.seq)
        .limit(limit)
    ))  # fmt: skip


def item_counts(job_id: int) -> dict[tuple[str, str | None], int]:
    """(state, outcome) -> number of items; the authoritative recount."""
    rows = db.session.execute(
        select(JobItem.state, JobItem.outcome, func.count())
        .where(JobItem.job_id == job_id)
        .group_by(JobItem.state, JobItem.outcome)
    )
    return {(state, outcome): n for state, outcome, n in rows}


# -- life cycle seen by members ------------------------------------------------------------------
def create_job(workspace: Workspace, actor: User, kind: str, state: str, group_uid: str,
               group_name: str, **fields: Any) -> Job:  # fmt: skip
    """Add a job row (flushes, does not commit: the caller finishes its own work first)."""
    job = Job(workspace_id=workspace.id, created_by_id=actor.id, kind=kind, state=state,
              group_uid=group_uid, group_name=group_name[:255], heartbeat_at=utcnow(),
              **fields)  # fmt: skip
    db.session.add(job)
    db.session.flush()
    return job


def start(job: Job, actor: User) -> None:
    """Go on after the dry run: the queued items start flowing to the gateway (commits)."""
    now = utcnow()
    result = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.state == states.READY, Job.to_process > 0)
        .values(state=states.RUNNING, started_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise JobStateError(_("This import cannot be started now."))
    audit.record(actor, _workspace_of(job), "import.started", str(job.id), group=job.group_uid,
                 contacts=job.to_process)  # fmt: skip
    db.session.commit()


def cancel(job: Job, actor: User) -> None:
    """Stop a job: queued items become cancelled; items in flight finish (commits)."""
    now = utcnow()
    result = db.session.execute(
        update(Job)
        .where(Job.id == job.id, Job.state.not_in(states.JOB_FINAL))
        .values(state=states.CANCELLED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise JobStateError(_("This job has already finished."))
    cancel_queued(job.id)
    audit.record(actor, _workspace_of(job), f"{job.kind}.cancelled", str(job.id),
                 group=job.group_uid)  # fmt: skip
    db.session.commit()
    db.session.refresh(job)


def cancel_queued(job_id: int) -> int:
    """Cancel the job's queued items and count them (in the caller's transaction)."""
    stopped = db.session.execute(
        update(JobItem)
        .where(JobItem.job_id == job_id, JobItem.state == states.QUEUED)
        .values(state=states.ITEM_CANCELLED, outcome="cancelled")
        .execution_options(synchronize_session=False)
    ).rowcount
    if stopped:
        db.session.execute(
            update(Job).where(Job.id == job_id).values(cancelled=Job.cancelled + stopped)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
    return stopped


def stalled(job: Job) -> bool:
    """True when a working job has seen no worker for a lease: is any consumer running?"""
    if job.state not in (states.ANALYSING, states.RUNNING) or job.heartbeat_at is None:
        return False
    lease = timedelta(seconds=current_app.config["JOBS_LEASE_SECONDS"])
    return job.heartbeat_at < utcnow() - lease


def _workspace_of(job: Job) -> Workspace:
    return db.session.get(Workspace, job.workspace_id)


# -- items -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClaimedItem:
    """A claimed item as its handler needs it: plain values read once at the claim.

    Not an ORM object: those expire at every commit and would reload themselves with one
    SELECT per attribute access after each of the runner's commits.
    """

    id: int
    job_id: int
    seq: int
    phone: str | None
    first_name: str
    last_name: str
    attempts: int
    uncertain: bool
    claim: str


_CLAIMED_COLUMNS = (JobItem.id, JobItem.job_id, JobItem.seq, JobItem.phone, JobItem.first_name,
                    JobItem.last_name, JobItem.attempts, JobItem.uncertain)  # fmt: skip


def claim_items(job_id: int, limit: int = 1) -> list[ClaimedItem]:
    """Take up to `limit` of the job's next ready items for this worker, in row order, in one
    UPDATE (commits); [] when there is none.

    Each item is still handled, finished or released on its own; only the claim is shared.
    PostgreSQL skips rows another worker is claiming (SKIP LOCKED); SQLite has one writer.
    """
    lease = timedelta(seconds=current_app.config["JOBS_LEASE_SECONDS"])
    token = secrets.token_hex(8)
    table = JobItem.__table__
    # Two statements, not UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED):
    # PostgreSQL may run such a subquery again for every row it updates, and each run skips
    # the rows the last one locked: n items asked, 3n claimed. The ids are locked by the
    # SELECT, then claimed; the state guard keeps another worker's claim (SQLite: no lock,
    # a race lost means fewer rows, so look again).
    for _attempt in range(5):
        ids = db.session.scalars(
            select(JobItem.id)
            .where(JobItem.job_id == job_id, JobItem.state == states.QUEUED,
                   JobItem.not_before <= time.time())  # fmt: skip
            .order_by(JobItem.seq)
            .limit(max(1, limit))
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            db.session.commit()
            return []
        rows = db.session.execute(
            update(table)
            .where(table.c.id.in_(ids), table.c.state == states.QUEUED)
            .values(state=states.ITEM_RUNNING, claim=token, lease_until=utcnow() + lease,
                    attempts=table.c.attempts + 1)  # fmt: skip
            .returning(*(table.c[column.key] for column in _CLAIMED_COLUMNS))
        ).all()
        db.session.commit()
        if rows:
            break
    items = [ClaimedItem(*row, claim=token) for row in rows]
    return sorted(items, key=lambda item: item.seq)


def claim_item(job_id: int) -> ClaimedItem | None:
    """Take the job's next ready item for this worker (commits); None when there is none."""
    items = claim_items(job_id, 1)
    return items[0] if items else None


def finish_item(item: ClaimedItem, state: str, outcome: str, counter: str,
                reason: str | None = None, **more: int) -> bool:  # fmt: skip
    """Move a claimed item to a final state and count it on its job, once (commits; inside
    work_items the commit is the next slot's, see there).

    Returns False when this worker no longer held the item (the sweeper took it back).
    The job's state comes back from the same UPDATE: the runner learns of a stop or a
    failure without a query of its own per item.
    """
    finish_item_sql, count_sql = _finish_statements(counter, tuple(sorted(more)))
    result = db.session.execute(finish_item_sql, {
        "b_id": item.id, "b_claim": item.claim, "b_state": state, "b_outcome": outcome,
        "b_reason": reason})  # fmt: skip
    counted = result.rowcount == 1
    if counted:
        values = {"b_job": item.job_id, "b_now": utcnow()}
        values.update({f"b_{name}": amount for name, amount in more.items()})
        _seen.state = (item.job_id, db.session.execute(count_sql, values).scalar())
    if not getattr(_seen, "defer_commit", False):
        db.session.commit()
    return counted


@functools.cache
def _finish_statements(counter: str, more: tuple[str, ...]) -> tuple[Any, Any]:
    """finish_item's two UPDATEs, built once per counter: run for every item of every job."""
    items, jobs_table = JobItem.__table__, Job.__table__
    finish = (
        update(items)
        .where(items.c.id == bindparam("b_id"), items.c.claim == bindparam("b_claim"),
               items.c.state == states.ITEM_RUNNING)  # fmt: skip
        .values(state=bindparam("b_state"), outcome=bindparam("b_outcome"),
                reason=bindparam("b_reason", type_=items.c.reason.type), claim=None,
                lease_until=None)  # fmt: skip
    )
    values: dict[str, Any] = {counter: jobs_table.c[counter] + 1,
                              "heartbeat_at": bindparam("b_now", type_=UTCDateTime())}
    for name in more:
        values[name] = jobs_table.c[name] + bindparam(f"b_{name}", type_=Integer())
    count = (update(jobs_table).where(jobs_table.c.id == bindparam("b_job")).values(**values)
             .returning(jobs_table.c.state))  # fmt: skip
    return finish, count


def release_item(item: ClaimedItem, *, delay: float = 0.0, uncertain: bool | None = None,
                 attempted: bool = True) -> None:  # fmt: skip
    """Give a claimed item back to the queue, to be tried again after `delay` (commits).

    attempted=False: the gateway never saw it (rate limited), so the attempt does not count.
    """
    values: dict[str, Any] = {"state": states.QUEUED, "claim": None, "lease_until": None,
                              "not_before": time.time() + delay}  # fmt: skip
    if uncertain:
        values["uncertain"] = True
    if not attempted:
        values["attempts"] = JobItem.attempts - 1
    db.session.execute(
        update(JobItem)
        .where(JobItem.id == item.id, JobItem.claim == item.claim,
               JobItem.state == states.ITEM_RUNNING)  # fmt: skip
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def give_back(items: list[ClaimedItem]) -> None:
    """Return claimed items this runner did not start (no gateway call made) to the queue,
    their attempt uncounted; if the job stopped meanwhile, they end as its queued items did
    (commits)."""
    if not items:
        return
    for item in items:
        db.session.execute(
            update(JobItem)
            .where(JobItem.id == item.id, JobItem.claim == item.claim,
                   JobItem.state == states.ITEM_RUNNING)  # fmt: skip
            .values(state=states.QUEUED, claim=None, lease_until=None,
                    attempts=JobItem.attempts - 1)  # fmt: skip
            .execution_options(synchronize_session=False)
        )
    job_id = items[0].job_id
    state, error = db.session.execute(select(Job.state, Job.error).where(Job.id == job_id)).one()
    if state == states.CANCELLED:
        cancel_queued(job_id)
    elif state == states.FAILED:
        failed = db.session.execute(
            update(JobItem)
            .where(JobItem.job_id == job_id, JobItem.state == states.QUEUED)
            .values(state=states.ITEM_FAILED, outcome="error", reason=error)
            .execution_options(synchronize_session=False)
        ).rowcount
        if failed:
            db.session.execute(
                update(Job).where(Job.id == job_id).values(failed=Job.failed + failed)
                .execution_options(synchronize_session=False)
            )  # fmt: skip
    db.session.commit()


def fail_job(job_id: int, message: str) -> None:
    """Stop a job for good (auth refused, group gone): queued items fail with the reason."""
    db.session.rollback()
    failed = db.session.execute(
        update(JobItem)
        .where(JobItem.job_id == job_id, JobItem.state == states.QUEUED)
        .values(state=states.ITEM_FAILED, outcome="error", reason=message)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.not_in(states.JOB_FINAL))
        .values(state=states.FAILED, error=message, finished_at=utcnow(),
                failed=Job.failed + failed)  # fmt: skip
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def unfinished(job_id: int) -> tuple[int, int, float | None]:
    """(queued, running, earliest not_before of a queued item)."""
    queued, running, soonest = db.session.execute(
        select(
            func.count().filter(JobItem.state == states.QUEUED),
            func.count().filter(JobItem.state == states.ITEM_RUNNING),
            func.min(JobItem.not_before).filter(JobItem.state == states.QUEUED),
        ).where(JobItem.job_id == job_id, JobItem.state.in_((states.QUEUED, states.ITEM_RUNNING)))
    ).one()
    return queued or 0, running or 0, soonest


def complete_job(job_id: int, final_state: str = states.DONE) -> bool:
    """Mark a running job finished once no item is left (commits); True if this call did it."""
    result = db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == states.RUNNING)
        .values(state=final_state, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def beat(job_id: int, until_seconds: float = 0.0) -> None:
    """Say a worker looks after this job until now + until_seconds (commits)."""
    db.session.execute(
        update(Job).where(Job.id == job_id)
        .values(heartbeat_at=utcnow() + timedelta(seconds=until_seconds))
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    db.session.commit()


# -- sweeper -----------------------------------------------------------------------------------
def sweep() -> list[int]:
    """Re-queue items whose lease expired (marked uncertain); return the jobs to wake.

    A job is woken when it is analysing or running and no worker has shown life for
    JOBS_STALL_SECONDS (a runner's consumer died; an extra runner only finds nothing to claim),
    or was never woken (heartbeat None: its process died before it queued the runners); the
    heartbeat is moved on in the same compare-and-set, so one sweeper wakes it once.
    """
    now = utcnow()
    stall = timedelta(seconds=current_app.config["JOBS_STALL_SECONDS"])
    db.session.execute(
        update(JobItem)
        .where(JobItem.state == states.ITEM_RUNNING, JobItem.lease_until < now)
        .values(state=states.QUEUED, uncertain=True, claim=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    stale = db.session.execute(
        select(Job.id, Job.heartbeat_at).where(
            Job.state.in_((states.ANALYSING, states.RUNNING)),
            (Job.heartbeat_at.is_(None)) | (Job.heartbeat_at < now - stall),
        )
    ).all()
    woken = []
    for job_id, seen in stale:
        guard = Job.heartbeat_at.is_(None) if seen is None else Job.heartbeat_at == seen
        result = db.session.execute(
            update(Job).where(Job.id == job_id, guard).values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if result.rowcount == 1:
            woken.append(job_id)
    db.session.commit()
    return woken


def forget_heartbeat(job_id: int) -> None:
    """The sweeper could not wake the job (queue down): the next round tries again (commits)."""
    db.session.rollback()
    db.session.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=None)
                       .execution_options(synchronize_session=False))  # fmt: skip
    db.session.commit()


# -- pace --------------------------------------------------------------------------------------
def pace_of(workspace_id: int) -> int:
    """Calls per pace window for this workspace (its own setting or the server default)."""
    own = db.session.scalar(
        select(WorkspacePace.calls_per_minute).where(WorkspacePace.workspace_id == workspace_id)
    )
    return int(own or current_app.config["JOBS_PACE"])


def set_pace(workspace: Workspace, actor: User, calls: int | None) -> None:
    """Set (or with None reset to the default) the workspace's bulk pace (commits)."""
    row = _pace_row(workspace.id)
    row.calls_per_minute = calls
    audit.record(actor, workspace, "jobs.pace_changed", "pace", calls_per_minute=calls)
    db.session.commit()


def _pace_row(workspace_id: int) -> WorkspacePace:
    row = db.session.get(WorkspacePace, workspace_id)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(WorkspacePace(workspace_id=workspace_id, next_at=0.0))
        except IntegrityError:
            pass  # another worker created it meanwhile
        row = db.session.get(WorkspacePace, workspace_id)
    return row


def pace_wait(workspace_id: int) -> float:
    """Seconds until this workspace may call its gateway again (no reservation)."""
    next_at = db.session.scalar(
        select(WorkspacePace.next_at).where(WorkspacePace.workspace_id == workspace_id)
    )
    db.session.commit()
    return max(0.0, (next_at or 0.0) - time.time())


# A call reaches the gateway some time after its slot is taken (a thread switch, a busy
# interpreter, the network): tens of ms on a loaded 2-core machine, now and then more. The
# slots leave 0.1 s per window for that arrival jitter, or 2 % of the window where that is
# more (60 s: 1.2 s). With only the 2 %, a one-second window kept 20 ms, and CI saw 11 calls
# inside one second at a pace of 10 (tests/jobs/test_pacing.py).
PACE_JITTER_SECONDS = 0.1


def slot_interval(workspace_id: int) -> float:
    """Seconds between two call slots of the workspace: its window plus the jitter slack,
    divided by its pace."""
    window = current_app.config["JOBS_PACE_WINDOW"]
    slack = max(0.02 * window, PACE_JITTER_SECONDS)
    return (window + slack) / max(1, pace_of(workspace_id))


def take_slot(workspace_id: int, interval: float | None = None) -> float:
    """Take the workspace's call slot if it is due (commits): 0.0, call now. Else the seconds
    until it is due (nothing taken).

    A slot is only ever taken at the moment of the call, never reserved ahead and slept on:
    a worker that wakes up late then delays the calls after it instead of crowding them.
    Slots are (window + slack)/calls apart, so no window of that length holds more than `calls`
    calls, however many workers and hosts share the database (see `late` below).

    `interval` (from slot_interval) lets a runner that already made sure of the pace row skip
    reading the pace again for every call: one UPDATE per slot taken.
    """
    if interval is None:
        interval = slot_interval(workspace_id)
        _pace_row(workspace_id)
    now = time.time()
    # The next slot follows the one taken on its grid (next_at + interval) unless this one is
    # taken `late` or more after it was due (idle, or after a pause): then it starts anew from
    # now. Anchored at now every time, each call's few ms of lateness (a sleep's overshoot, a
    # busy interpreter) would add up and the pace would fall short of the limit. On the grid
    # a window of length W holds at most floor((W + late) / interval) + 1 calls: with late at
    # most 0.5 % of W that stays within `calls` at any pace, and the rest of the slack (see
    # slot_interval) is left for the calls' jitter on their way to the gateway.
    late = min(interval / 2, 0.005 * current_app.config["JOBS_PACE_WINDOW"])
    taken = db.session.execute(_slot_statement(), {
        "b_workspace": workspace_id, "b_now": now, "b_late": late, "b_interval": interval,
    }).rowcount  # fmt: skip
    db.session.commit()
    if taken == 1:
        return 0.0
    return max(0.001, pace_wait(workspace_id))


@functools.cache
def _slot_statement() -> Any:
    """take_slot's UPDATE, built once: it runs before every gateway call of every job."""
    table = WorkspacePace.__table__
    now, late = bindparam("b_now", type_=Float()), bindparam("b_late", type_=Float())
    interval = bindparam("b_interval", type_=Float())
    return (
        update(table)
        .where(table.c.workspace_id == bindparam("b_workspace"), table.c.next_at <= now)
        .values(next_at=case((table.c.next_at > now - late, table.c.next_at + interval),
                             else_=now + interval))  # fmt: skip
    )


def acquire_slot(workspace_id: int, max_wait: float, interval: float | None = None) -> float | None:
    """Wait (sleeping at most `max_wait` at a time) and take a call slot: None when taken,
    else the wait that was too long - the caller should come back later."""
    while True:
        wait = take_slot(workspace_id, interval)
        if wait == 0.0:
            return None
        if wait > max_wait:
            return wait
        time.sleep(wait)


def pause_pace(workspace_id: int, seconds: float) -> float:
    """The gateway said `Too Many Attempts.`: no call for its window (+ jitter) from now.

    The gateway sends no Retry-After (the client then assumes its 60 s window); the pace
    window is the same window, so the shorter of the two is waited.
    """
    seconds = min(seconds, current_app.config["JOBS_PACE_WINDOW"])
    until = time.time() + seconds * (1 + random.uniform(0, 0.2))  # noqa: S311 - jitter only
    _pace_row(workspace_id)
    db.session.execute(
        update(WorkspacePace)
        .where(WorkspacePace.workspace_id == workspace_id, WorkspacePace.next_at < until)
        .values(next_at=until)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return until - time.time()


# -- the runner ----------------------------------------------------------------------------------
Handler = Callable[[Job], "float | None"]


def run(job_id: int) -> float | None:
    """Work on a job for one time slice. Returns a delay after which to run again, or None.

    Safe to run any number of times, concurrently too: all work goes through claims.
    """
    from . import exports, imports, outbox

    job = db.session.get(Job, job_id)
    if job is None or job.final or job.state == states.READY:
        db.session.rollback()
        return None
    handlers: dict[tuple[str, str], Handler] = {
        (states.IMPORT, states.ANALYSING): imports.analyse,
        (states.IMPORT, states.RUNNING): imports.process,
        (states.EXPORT, states.RUNNING): exports.process,
        (outbox.SEND_JOB, states.RUNNING): outbox.process,
    }
    handler = handlers.get((job.kind, job.state))
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

_seen = threading.local()  # the job state the last finish_item read back, per thread


def work_items(job: Job, handle: Callable[[Any, ClaimedItem], float | None],
               client: Any) -> float | None:  # fmt: skip
    """Claim and handle the job's items, paced, for one slice; then say when to run again.

    `handle(client, item)` finishes or releases the item; it returns None, or a delay when
    the whole job must wait (the gateway said slow down).
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
    _pace_row(workspace_id)
    try:
        while time.monotonic() < slice_end:
            # The job's state as the last finished item read it back, or else asked for.
            state = known_state or _job_state(job_id)
            if state != states.RUNNING:
                return None
            now = time.monotonic()
            if now - interval_at > PACE_REFRESH_SECONDS:
                interval, interval_at = slot_interval(workspace_id), now
            if held and now - claimed_at > hold_for:
                give_back(held)
                held = []
            if not held:
                wait = pace_wait(workspace_id)
                if wait > max_wait:
                    beat(job_id, wait)
                    return wait
                batch = min(CLAIM_MAX, max(1, int(CLAIM_SECONDS / interval)))
                held, claimed_at = claim_items(job_id, batch), time.monotonic()
                if not held:
                    return _after_last_item(job)
            wait = acquire_slot(workspace_id, max_wait, interval)
            if wait is not None:
                beat(job_id, wait)
                return wait
            item = held.pop(0)
            # A finished item is committed with the next slot's UPDATE (one write transaction
            # per item, not two); a crash in between leaves it running, re-queued by the
            # sweeper as uncertain - the path every interrupted call already takes.
            _seen.state, _seen.defer_commit = None, True
            try:
                later = handle(client, item)
            finally:
                _seen.defer_commit = False
            seen = _seen.state
            known_state = seen[1] if seen and seen[0] == job_id else None
            if later is not None:
                beat(job_id, later)
                return later
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


def _job_state(job_id: int) -> str | None:
    state = db.session.scalar(select(Job.state).where(Job.id == job_id))
    db.session.commit()
    return state


def _after_last_item(job: Job) -> float | None:
    """No item ready: finish the job, wait for retries, or leave it to the workers in flight."""
    queued, running, soonest = unfinished(job.id)
    if queued:
        delay = max(0.1, (soonest or 0) - time.time())
        beat(job.id, delay)
        return delay
    if running:
        return None  # another worker holds the last items; it (or the sweeper) finishes
    from . import exports

    if job.kind == states.EXPORT:
        exports.assemble(job)
    complete_job(job.id)
    return None
