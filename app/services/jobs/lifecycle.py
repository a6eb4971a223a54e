"""A job's life cycle: created, started after the dry run, cancelled, failed, completed,
and the heartbeat that says a worker looks after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update

from ...exceptions import JobStateError
from ...extensions import db
from ...models import Job, JobItem, User, Workspace
from ...models import jobs as states
from ...models.types import utcnow
from .. import audit
from ..dml import execute_dml


def create_job(
    workspace: Workspace,
    actor: User,
    kind: str,
    state: str,
    group_uid: str,
    group_name: str,
    **fields: Any,
) -> Job:
    """Add a job row (flushes, does not commit: the caller finishes its own work first)."""
    job = Job(
        workspace_id=workspace.id,
        created_by_id=actor.id,
        kind=kind,
        state=state,
        group_uid=group_uid,
        group_name=group_name[:255],
        heartbeat_at=utcnow(),
        **fields,
    )
    db.session.add(job)
    db.session.flush()
    return job


def start(job: Job, actor: User) -> None:
    """Go on after the dry run: the queued items start flowing to the gateway (commits)."""
    now = utcnow()
    result = execute_dml(
        update(Job)
        .where(Job.id == job.id, Job.state == states.READY, Job.to_process > 0)
        .values(state=states.RUNNING, started_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise JobStateError(_("This import cannot be started now."))
    audit.record(
        actor,
        _workspace_of(job),
        "import.started",
        str(job.id),
        group=job.group_uid,
        contacts=job.to_process,
    )
    db.session.commit()


def cancel(job: Job, actor: User) -> None:
    """Stop a job: queued items become cancelled; items in flight finish (commits)."""
    now = utcnow()
    result = execute_dml(
        update(Job)
        .where(Job.id == job.id, Job.state.not_in(states.JOB_FINAL))
        .values(state=states.CANCELLED, finished_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise JobStateError(_("This job has already finished."))
    cancel_queued(job.id)
    audit.record(
        actor, _workspace_of(job), f"{job.kind}.cancelled", str(job.id), group=job.group_uid
    )
    db.session.commit()
    db.session.refresh(job)


def cancel_queued(job_id: int) -> int:
    """Cancel the job's queued items and count them (in the caller's transaction)."""
    return settle_queued(job_id, "cancelled", state=states.ITEM_CANCELLED, outcome="cancelled")


def settle_queued(job_id: int, counter: str, **values: Any) -> int:
    """Write `values` (an end state, its outcome...) to the job's queued items and add them to
    the job's `counter` column; return how many (in the caller's transaction)."""
    settled = execute_dml(
        update(JobItem)
        .where(JobItem.job_id == job_id, JobItem.state == states.QUEUED)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if settled:
        db.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values({counter: getattr(Job, counter) + settled})
            .execution_options(synchronize_session=False)
        )
    return settled


def stalled(job: Job) -> bool:
    """True when a working job has seen no worker for a lease: is any consumer running?"""
    if job.state not in (states.ANALYSING, states.RUNNING) or job.heartbeat_at is None:
        return False
    lease = timedelta(seconds=current_app.config["JOBS_LEASE_SECONDS"])
    return job.heartbeat_at < utcnow() - lease


def _workspace_of(job: Job) -> Workspace:
    return db.session.get_one(Workspace, job.workspace_id)


def fail_job(job_id: int, message: str) -> None:
    """Stop a job for good (auth refused, group gone): queued items fail with the reason."""
    db.session.rollback()
    failed = execute_dml(
        update(JobItem)
        .where(JobItem.job_id == job_id, JobItem.state == states.QUEUED)
        .values(state=states.ITEM_FAILED, outcome="error", reason=message)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.not_in(states.JOB_FINAL))
        .values(
            state=states.FAILED, error=message, finished_at=utcnow(), failed=Job.failed + failed
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def complete_job(job_id: int, final_state: str = states.DONE) -> bool:
    """Mark a running job finished once no item is left (commits); True if this call did it."""
    result = execute_dml(
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
        update(Job)
        .where(Job.id == job_id)
        .values(heartbeat_at=utcnow() + timedelta(seconds=until_seconds))
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
