"""Where a job's files live: a folder only that job can name, inside its workspace's folder.

    <JOBS_DIR>/<workspace id>/<job id>-<files token>/   upload, parts/, export.csv

The token is random and kept on the job row, so a job never reads a folder another job left
behind, even one with the same id (SQLite handed deleted ids out again before revision 0005;
a restored or reset database does it too). Deleting a workspace removes its whole folder.
Jobs from before 0005 have no token: their folder is <JOBS_DIR>/<job id>, as it was.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Job


def _root() -> Path:
    return Path(current_app.config["JOBS_DIR"])


def workspace_dir(workspace_id: int) -> Path:
    return _root() / str(int(workspace_id))


def job_dir(job: Job) -> Path:
    if job.files_token is None:
        return _root() / str(int(job.id))  # legacy (before revision 0005)
    return workspace_dir(job.workspace_id) / f"{int(job.id)}-{job.files_token}"


def job_dir_of(job_id: int) -> Path | None:
    """job_dir for a job known by id only (a worker holding one of its items); None when the
    job is gone (its workspace was deleted meanwhile: nothing may be written for it)."""
    job = db.session.get(Job, job_id)
    return job_dir(job) if job is not None else None


def remove_workspace_files(workspace_id: int, legacy_job_ids: list[int]) -> None:
    """Remove every file of the workspace's jobs (after its rows are gone: a failure here
    leaves only folders that no job can name any more)."""
    with contextlib.suppress(OSError):
        shutil.rmtree(workspace_dir(workspace_id))
    for job_id in legacy_job_ids:
        with contextlib.suppress(OSError):
            shutil.rmtree(_root() / str(int(job_id)))


def legacy_job_ids(workspace_id: int) -> list[int]:
    """Ids of the workspace's jobs whose files are in a pre-0005 folder."""
    return list(
        db.session.scalars(
            select(Job.id).where(Job.workspace_id == workspace_id, Job.files_token.is_(None))
        )
    )
