"""Reading jobs and their items: one job, a page of jobs, rejected lines, counts."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...models import Job, JobItem, Workspace
from ...models import jobs as states

PER_PAGE = 25


def get_job(workspace: Workspace, job_id: int) -> Job | None:
    """The workspace's job, or None (another workspace's job id is simply not found)."""
    return db.session.scalar(select(Job).where(Job.id == job_id, Job.workspace_id == workspace.id))


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
    return list(
        db.session.scalars(
            select(JobItem)
            .where(
                JobItem.job_id == job_id,
                JobItem.seq > after_seq,
                JobItem.state.in_((states.ITEM_REJECTED, states.ITEM_FAILED)),
            )
            .order_by(JobItem.seq)
            .limit(limit)
        )
    )


def item_counts(job_id: int) -> dict[tuple[str, str | None], int]:
    """(state, outcome) -> number of items; the authoritative recount."""
    rows = db.session.execute(
        select(JobItem.state, JobItem.outcome, func.count())
        .where(JobItem.job_id == job_id)
        .group_by(JobItem.state, JobItem.outcome)
    )
    return {(state, outcome): n for state, outcome, n in rows}


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


def job_state(job_id: int) -> str | None:
    """The job's state now (commits: the next read sees other workers' changes)."""
    state = db.session.scalar(select(Job.state).where(Job.id == job_id))
    db.session.commit()
    return state
