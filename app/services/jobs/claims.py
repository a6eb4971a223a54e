"""Items claimed by a worker for a lease: claim, finish, release, give back; and the
sweeper that takes back the items whose lease ran out.

Every state change of an item is one atomic UPDATE guarded by the state it expects (and the
claim token of the worker that holds it), and bumps the job's counters in the same
transaction: an item is counted once however often a task runs.
"""

from __future__ import annotations

import functools
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Integer, bindparam, select, update

from ...extensions import db
from ...models import Job, JobItem
from ...models import jobs as states
from ...models.types import UTCDateTime, utcnow
from ..dml import execute_dml
from .lifecycle import cancel_queued, settle_queued


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


_CLAIMED_COLUMNS = (
    JobItem.id,
    JobItem.job_id,
    JobItem.seq,
    JobItem.phone,
    JobItem.first_name,
    JobItem.last_name,
    JobItem.attempts,
    JobItem.uncertain,
)


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
            .where(
                JobItem.job_id == job_id,
                JobItem.state == states.QUEUED,
                JobItem.not_before <= time.time(),
            )
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
            .values(
                state=states.ITEM_RUNNING,
                claim=token,
                lease_until=utcnow() + lease,
                attempts=table.c.attempts + 1,
            )
            .returning(*(table.c[column.key] for column in _CLAIMED_COLUMNS))
        ).all()
        db.session.commit()
        if rows:
            break
    items = [ClaimedItem(**row._mapping, claim=token) for row in rows]
    return sorted(items, key=lambda item: item.seq)


def claim_item(job_id: int) -> ClaimedItem | None:
    """Take the job's next ready item for this worker (commits); None when there is none."""
    items = claim_items(job_id, 1)
    return items[0] if items else None


@dataclass(frozen=True)
class Finished:
    """What finish_item did. `counted` is False when this worker no longer held the item (the
    sweeper took it back); `job_state` is the job's state read back by the same UPDATE, so the
    runner learns of a stop or a failure without a query of its own per item."""

    counted: bool
    job_state: str | None = None

    def __bool__(self) -> bool:
        return self.counted


def finish_item(
    item: ClaimedItem,
    state: str,
    outcome: str,
    counter: str,
    reason: str | None = None,
    *,
    commit: bool = True,
    **more: int,
) -> Finished:
    """Move a claimed item to a final state and count it on its job, once.

    commit=False leaves the commit to the caller: a kind's handler inside work_items passes it,
    and the runner's next slot UPDATE commits the item with it (see work_items).
    """
    finish_item_sql, count_sql = _finish_statements(counter, tuple(sorted(more)))
    result = execute_dml(
        finish_item_sql,
        {
            "b_id": item.id,
            "b_claim": item.claim,
            "b_state": state,
            "b_outcome": outcome,
            "b_reason": reason,
        },
    )
    finished = Finished(False)
    if result.rowcount == 1:
        values = {"b_job": item.job_id, "b_now": utcnow()}
        values.update({f"b_{name}": amount for name, amount in more.items()})
        finished = Finished(True, db.session.execute(count_sql, values).scalar())
    if commit:
        db.session.commit()
    return finished


@functools.cache
def _finish_statements(counter: str, more: tuple[str, ...]) -> tuple[Any, Any]:
    """finish_item's two UPDATEs, built once per counter: run for every item of every job."""
    items, jobs_table = JobItem.__table__, Job.__table__
    finish = (
        update(items)
        .where(
            items.c.id == bindparam("b_id"),
            items.c.claim == bindparam("b_claim"),
            items.c.state == states.ITEM_RUNNING,
        )
        .values(
            state=bindparam("b_state"),
            outcome=bindparam("b_outcome"),
            reason=bindparam("b_reason", type_=items.c.reason.type),
            claim=None,
            lease_until=None,
        )
    )
    values: dict[str, Any] = {
        counter: jobs_table.c[counter] + 1,
        "heartbeat_at": bindparam("b_now", type_=UTCDateTime()),
    }
    for name in more:
        values[name] = jobs_table.c[name] + bindparam(f"b_{name}", type_=Integer())
    count = (
        update(jobs_table)
        .where(jobs_table.c.id == bindparam("b_job"))
        .values(**values)
        .returning(jobs_table.c.state)
    )
    return finish, count


def release_item(
    item: ClaimedItem, *, delay: float = 0.0, uncertain: bool | None = None, attempted: bool = True
) -> None:
    """Give a claimed item back to the queue, to be tried again after `delay` (commits).

    attempted=False: the gateway never saw it (rate limited), so the attempt does not count.
    """
    values: dict[str, Any] = {
        "state": states.QUEUED,
        "claim": None,
        "lease_until": None,
        "not_before": time.time() + delay,
    }
    if uncertain:
        values["uncertain"] = True
    if not attempted:
        values["attempts"] = JobItem.attempts - 1
    db.session.execute(
        update(JobItem)
        .where(
            JobItem.id == item.id, JobItem.claim == item.claim, JobItem.state == states.ITEM_RUNNING
        )
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
            .where(
                JobItem.id == item.id,
                JobItem.claim == item.claim,
                JobItem.state == states.ITEM_RUNNING,
            )
            .values(
                state=states.QUEUED, claim=None, lease_until=None, attempts=JobItem.attempts - 1
            )
            .execution_options(synchronize_session=False)
        )
    job_id = items[0].job_id
    state, error = db.session.execute(select(Job.state, Job.error).where(Job.id == job_id)).one()
    if state == states.CANCELLED:
        cancel_queued(job_id)
    elif state == states.FAILED:
        settle_queued(job_id, "failed", state=states.ITEM_FAILED, outcome="error", reason=error)
    db.session.commit()


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
        result = execute_dml(
            update(Job)
            .where(Job.id == job_id, guard)
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            woken.append(job_id)
    db.session.commit()
    return woken


def forget_heartbeat(job_id: int) -> None:
    """The sweeper could not wake the job (queue down): the next round tries again (commits)."""
    db.session.rollback()
    db.session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(heartbeat_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
