"""Export a gateway group's contacts to CSV, as a job: one item per page of the group.

The gateway lists 25 contacts a page. Page 1 tells how many pages there are; its item adds
the others. Each page is written to its own part file (replaced atomically, so a page read
twice is written once), and when every page is done the parts are joined into export.csv
in page order. Cells that a spreadsheet would run as a formula are neutralised. The columns
are the ones the import recognises, so an exported file imports again as it is.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from ..exceptions import PhoneError, ServiceUnavailableError
from ..extensions import db
from ..gotone.errors import (
    AuthError,
    GoToneError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
)
from ..models import Job, JobItem, User, Workspace
from ..models import jobs as states
from ..models.types import utcnow
from . import audit, jobs
from .gotone import client_for
from .imports import item_workspace
from .job_files import job_dir, job_dir_of
from .phones import e164, from_gateway
from .rejects import safe_cell, safe_phone_cell

HEADER = ("phone", "first_name", "last_name")


def export_path(job: Job) -> Path:
    return job_dir(job) / "export.csv"


def _part(folder: Path, page: int) -> Path:
    return folder / "parts" / f"{page:07d}.csv"


def create_export(workspace: Workspace, actor: User, group_uid: str, group_name: str) -> Job:
    """Queue an export of the group (commits); the caller wakes the job."""
    job = jobs.create_job(
        workspace,
        actor,
        states.EXPORT,
        states.RUNNING,
        group_uid,
        group_name,
        to_process=1,
        started_at=utcnow(),
    )
    db.session.add(JobItem(job_id=job.id, seq=1, state=states.QUEUED))
    audit.record(actor, workspace, "export.started", str(job.id), group=group_uid)
    db.session.commit()
    return job


def process(job: Job) -> float | None:
    try:
        client = client_for(db.session.get_one(Workspace, job.workspace_id))
    except ServiceUnavailableError as error:
        jobs.fail_job(job.id, error.message)
        return None
    group_uid = job.group_uid

    def handle(client, item: jobs.ClaimedItem) -> jobs.Finished | jobs.Wait | None:
        return _export_page(client, group_uid, item)

    return jobs.work_items(job, handle, client)


def _export_page(
    client, group_uid: str, item: jobs.ClaimedItem
) -> jobs.Finished | jobs.Wait | None:
    try:
        page = client.list_contacts(group_uid, item.seq)
    except RateLimitedError as error:
        jobs.release_item(item, attempted=False)
        return jobs.Wait(jobs.pause_pace(item_workspace(item), error.retry_after))
    except (AuthError, PermissionDeniedError, NotFoundError) as error:
        jobs.release_item(item, attempted=False)
        jobs.fail_job(item.job_id, str(error))
        return None
    except GoToneError as error:
        # Reading is safe to repeat: try again later, give up after a few attempts.
        if item.attempts >= 5:
            return jobs.finish_item(
                item, states.ITEM_FAILED, "error", "failed", reason=str(error), commit=False
            )
        jobs.release_item(item, delay=min(60.0, 2.0**item.attempts))
        return None
    _write_part(item.job_id, item.seq, page.items)
    if item.seq == 1 and page.last_page > 1:
        _add_pages(item.job_id, page.last_page)
    return jobs.finish_item(
        item, states.ITEM_DONE, "exported", "created", rows=len(page.items), commit=False
    )


def _write_part(job_id: int, page: int, contacts) -> None:
    folder = job_dir_of(job_id)
    if folder is None:
        return  # the job (its workspace) was deleted during the call: its folder is gone
    target = _part(folder, page)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        for contact in contacts:
            writer.writerow(
                [
                    phone_cell(contact.phone),
                    safe_cell(contact.first_name),
                    safe_cell(contact.last_name),
                ]
            )
    os.replace(tmp, target)


def phone_cell(raw: str) -> str:
    """The gateway's number as E.164 ("+8613800138000"): re-imported under any default country
    it is the same number (without "+" an importer in the US read it as a US number)."""
    try:
        return e164(from_gateway(raw))
    except PhoneError:
        return safe_phone_cell(raw or "")  # not a number the gateway should hold: kept as it came


def _add_pages(job_id: int, last_page: int) -> None:
    """One item per further page (once: a repeated page 1 finds them there)."""
    have = set(db.session.scalars(select(JobItem.seq).where(JobItem.job_id == job_id)))
    rows = [
        {
            "job_id": job_id,
            "seq": n,
            "state": states.QUEUED,
            "attempts": 0,
            "uncertain": False,
            "not_before": 0.0,
            "raw_phone": "",
            "first_name": "",
            "last_name": "",
        }
        for n in range(2, last_page + 1)
        if n not in have
    ]
    try:
        if rows:
            db.session.execute(insert(JobItem), rows)
        db.session.execute(
            Job.__table__.update().where(Job.id == job_id).values(to_process=last_page)
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def assemble(job: Job) -> None:
    """Join the page files into export.csv (atomically; safe to repeat)."""
    folder = job_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    # Only the pages this job exported, by name: never whatever else lies in the folder.
    pages = db.session.scalars(
        select(JobItem.seq)
        .where(
            JobItem.job_id == job.id,
            JobItem.state == states.ITEM_DONE,
            JobItem.outcome == "exported",
        )
        .order_by(JobItem.seq)
    ).all()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".export-")
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerow(HEADER)
        for page in pages:
            with open(_part(folder, page), encoding="utf-8", newline="") as fh:
                for line in fh:
                    out.write(line)
    os.replace(tmp, export_path(job))


def download_name(job: Job) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in job.group_name)[:60]
    return f"{stem or _('contacts')}-{job.id}.csv"


# The engine runs exports through this registration (create_app imports this module); once
# the last page is in, the parts are joined before the job is marked done.
jobs.register(jobs.JobKind(states.EXPORT, {states.RUNNING: process}, on_last_item=assemble))
