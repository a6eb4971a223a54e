"""Contact import into a gateway group, as a job: upload, dry run, go on or stop, run.

1. `create_import` stores the upload under the instance folder (per job, never in the
   database), recognises the file and its columns, and queues the dry run.
2. `analyse` (in a worker) streams the file and writes one item per line: queued for a valid
   number, rejected with the reason for an invalid one or a repeat of an earlier line. It can
   be resumed after a crash: lines already written are skipped. When the group is small it
   also counts the numbers the group already holds. The job is then READY.
3. `start` (jobs/lifecycle.py) lets the queued items flow; `process` creates one contact per
   item, paced. A number the gateway already has in the group ("You have already subscribed
   to ...") is "already in the group" - or, when an earlier attempt of that item may have
   reached the gateway (worker killed, answer lost), "created": re-running never adds twice.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from ..exceptions import FileProblem, JobStateError, PhoneError, ServiceUnavailableError
from ..extensions import db
from ..gotone.errors import (
    AuthError,
    GoToneError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ValidationError,
)
from ..models import Job, JobItem, User, Workspace
from ..models import jobs as states
from ..models.types import utcnow
from . import audit, jobs
from .dml import execute_dml
from .gotone import client_for, get_settings
from .job_files import job_dir
from .phones import from_gateway, parse_phone
from .spreadsheets import FileInfo, cell_text, iter_rows, sniff

BATCH = 1000
PREVIEW_REJECTS = 20
_DUPLICATE = re.compile(r"^You have already subscribed to |has already been taken")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def upload_path(job: Job) -> Path:
    return job_dir(job) / "upload"


# -- 1. upload -----------------------------------------------------------------------------------
def create_import(
    workspace: Workspace,
    actor: User,
    group_uid: str,
    group_name: str,
    upload: FileStorage | None,
    text: str | None,
) -> Job:
    """Save the file (or pasted text), recognise it, queue the dry run (commits).

    Raises FileProblem (nothing is kept) for a file that cannot be imported.
    """
    filename = (upload.filename or "upload") if upload is not None else _("pasted text")
    job = jobs.create_job(
        workspace,
        actor,
        states.IMPORT,
        states.ANALYSING,
        group_uid,
        group_name,
        filename=filename[:255],
    )
    folder = job_dir(job)
    folder.mkdir(parents=True, exist_ok=True)
    path = upload_path(job)
    try:
        if upload is not None:
            _save_limited(upload, path)
        else:
            path.write_text(text or "", encoding="utf-8")
        info = sniff(path, filename)
    except FileProblem:
        db.session.rollback()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    job.options = info.options()
    if info.mapping.get("phone") is None:
        job.state = states.READY  # nothing to analyse until the member picks the phone column
        job.error = _("No column looks like phone numbers. Choose the phone column below.")
    audit.record(
        actor, workspace, "import.uploaded", str(job.id), group=group_uid, file=job.filename
    )
    db.session.commit()
    return job


def _save_limited(upload: FileStorage, path: Path) -> None:
    limit = current_app.config["IMPORT_MAX_BYTES"]
    written = 0
    with open(path, "wb") as out:
        while chunk := upload.stream.read(1024 * 1024):
            written += len(chunk)
            if written > limit:
                raise FileProblem(too_large_message())
            out.write(chunk)


def too_large_message() -> str:
    megabytes = current_app.config["IMPORT_MAX_BYTES"] // (1024 * 1024)
    return _("The file is larger than %(mb)s MB. Split it into smaller files.", mb=megabytes)


def remap(job: Job, actor: User, mapping: dict[str, int | None], has_header: bool) -> None:
    """Change the column mapping and run the dry run again from scratch (commits)."""
    if job.state != states.READY:
        raise JobStateError(_("The columns can only be changed before the import starts."))
    options = dict(job.options)
    options["mapping"] = mapping
    options["has_header"] = has_header
    db.session.execute(delete(JobItem).where(JobItem.job_id == job.id))
    job.options = options
    job.state = states.ANALYSING
    job.error = None
    job.rows = job.invalid = job.duplicates = job.to_process = 0
    job.in_group = None
    job.heartbeat_at = utcnow()
    audit.record(
        actor,
        db.session.get(Workspace, job.workspace_id),
        "import.remapped",
        str(job.id),
        mapping=mapping,
    )
    db.session.commit()


# -- 2. dry run ----------------------------------------------------------------------------------
def analyse(job: Job) -> float | None:
    """Write one item per line of the file (resumable), count, then READY (commits)."""
    info = FileInfo.from_options(job.options)
    country = get_settings(db.session.get_one(Workspace, job.workspace_id)).default_country
    done_up_to = db.session.scalar(select(func.max(JobItem.seq)).where(JobItem.job_id == job.id))
    job_id = job.id
    try:
        for batch in _batches(iter_rows(upload_path(job), info, start_after=done_up_to or 0)):
            _write_batch(job_id, batch, info, country)
            jobs.beat(job_id)
            if jobs.job_state(job_id) != states.ANALYSING:
                # Stopped meanwhile: the lines written after the cancel are cancelled too.
                jobs.cancel_queued(job_id)
                db.session.commit()
                return None
    except FileProblem as problem:
        jobs.fail_job(job_id, str(problem))
        return None
    except IntegrityError:
        db.session.rollback()
        return 1.0  # another worker analyses the same job: let it, look again later
    job = db.session.get_one(Job, job_id)
    _count_dry_run(job)
    return None


def _batches(rows: Iterator[tuple[int, list]]) -> Iterator[list[tuple[int, list]]]:
    batch: list[tuple[int, list]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _cell(cells: list, index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    return cell_text(cells[index])


def _write_batch(
    job_id: int, batch: list[tuple[int, list]], info: FileInfo, country: str | None
) -> None:
    mapping = info.mapping
    rows: list[dict] = []
    first_line: dict[str, int] = {}
    for number, cells in batch:
        raw = _cell(cells, mapping.get("phone"))
        first = _cell(cells, mapping.get("first_name"))
        last = _cell(cells, mapping.get("last_name"))
        if not raw and not first and not last and not any(cell_text(c) for c in cells):
            continue  # a blank line is not a contact
        row = {
            "job_id": job_id,
            "seq": number,
            "raw_phone": raw[:64],
            "first_name": first[:100],
            "last_name": last[:100],
            "phone": None,
            "attempts": 0,
            "uncertain": False,
            "not_before": 0.0,
            "outcome": None,
            "reason": None,
        }
        try:
            if _SCIENTIFIC.match(raw):
                raise PhoneError(
                    _(
                        "A spreadsheet turned this number into scientific notation; "
                        "format the column as text."
                    )
                )
            phone = parse_phone(raw, country)
        except PhoneError as error:
            row.update(state=states.ITEM_REJECTED, outcome="invalid", reason=str(error))
            rows.append(row)
            continue
        if phone in first_line:
            row.update(
                state=states.ITEM_REJECTED,
                outcome="duplicate",
                reason=_("Same number as row %(n)s.", n=first_line[phone]),
            )
        else:
            first_line[phone] = number
            row.update(state=states.QUEUED, phone=phone)
        rows.append(row)
    # Numbers seen in earlier batches (one query per batch, not a set of the whole file).
    earlier = (
        dict(
            db.session.execute(
                select(JobItem.phone, JobItem.seq).where(
                    JobItem.job_id == job_id, JobItem.phone.in_(list(first_line))
                )
            ).all()
        )
        if first_line
        else {}
    )
    for row in rows:
        if row["phone"] and row["phone"] in earlier:
            row.update(
                state=states.ITEM_REJECTED,
                outcome="duplicate",
                phone=None,
                reason=_("Same number as row %(n)s.", n=earlier[row["phone"]]),
            )
    if rows:
        db.session.execute(insert(JobItem), rows)
    db.session.commit()


def _count_dry_run(job: Job) -> None:
    counts = jobs.item_counts(job.id)
    job.invalid = counts.get((states.ITEM_REJECTED, "invalid"), 0)
    job.duplicates = counts.get((states.ITEM_REJECTED, "duplicate"), 0)
    job.to_process = counts.get((states.QUEUED, None), 0)
    job.rows = sum(counts.values())
    db.session.commit()
    job.in_group = _count_in_group(job)
    ready = execute_dml(
        update(Job)
        .where(Job.id == job.id, Job.state == states.ANALYSING)
        .values(state=states.READY, in_group=job.in_group, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not ready:
        jobs.cancel_queued(job.id)  # stopped during the dry run
    db.session.commit()


def _count_in_group(job: Job) -> int | None:
    """How many of the file's numbers the group holds; None when the group is too big."""
    if not job.to_process:
        return 0
    workspace = db.session.get_one(Workspace, job.workspace_id)
    try:
        client = client_for(workspace)
        max_wait = current_app.config["JOBS_MAX_INLINE_WAIT"]
        if jobs.acquire_slot(workspace.id, max_wait) is not None:
            return None
        first = client.list_contacts(job.group_uid, 1)
        if first.total > current_app.config["IMPORT_CHECK_GROUP_MAX"]:
            return None
        found, page = 0, first
        while True:
            phones = [_gateway_digits(c.phone) for c in page.items if c.phone]
            if phones:
                found += (
                    db.session.scalar(
                        select(func.count()).where(
                            JobItem.job_id == job.id, JobItem.phone.in_(phones)
                        )
                    )
                    or 0
                )
            if page.next_page is None:  # no next page (has_next is False)
                return found
            if jobs.acquire_slot(workspace.id, max_wait) is not None:
                return None
            page = client.list_contacts(job.group_uid, page.next_page)
    except (GoToneError, ServiceUnavailableError):
        db.session.rollback()
        return None


# -- 3. the run ----------------------------------------------------------------------------------
def process(job: Job) -> float | None:
    """Create the contacts of the queued items, paced, for one time slice."""
    try:
        client = client_for(db.session.get_one(Workspace, job.workspace_id))
    except ServiceUnavailableError as error:
        jobs.fail_job(job.id, error.message)
        return None
    group_uid = job.group_uid
    max_attempts = current_app.config["JOBS_MAX_ATTEMPTS"]

    def handle(client, item: jobs.ClaimedItem) -> jobs.Finished | jobs.Wait | None:
        return _create_contact(client, group_uid, item, max_attempts)

    return jobs.work_items(job, handle, client)


def _create_contact(
    client, group_uid: str, item: jobs.ClaimedItem, max_attempts: int
) -> jobs.Finished | jobs.Wait | None:
    """One contact created (or refused) for one item; finished items are committed by the
    runner's next slot (commit=False)."""
    try:
        client.create_contact(group_uid, item.phone, item.first_name, item.last_name)
    except RateLimitedError as error:
        # Nothing happened at the gateway: the item goes back untouched, the workspace waits.
        jobs.release_item(item, attempted=False)
        return jobs.Wait(jobs.pause_pace(item_workspace(item), error.retry_after))
    except ValidationError as error:
        text = error.gateway_message or ""
        if _DUPLICATE.search(text):
            # In the group already: added by an earlier attempt of ours, or before the import.
            outcome, counter = ("created", "created") if item.uncertain else ("exists", "existing")
            return jobs.finish_item(item, states.ITEM_DONE, outcome, counter, commit=False)
        reason = text or str(error)
        return jobs.finish_item(
            item, states.ITEM_REJECTED, "refused", "refused", reason=reason, commit=False
        )
    except (AuthError, PermissionDeniedError, NotFoundError) as error:
        # Every other item would fail the same way: stop the job, say why.
        jobs.release_item(item, attempted=False)
        jobs.fail_job(item.job_id, str(error))
        return None
    except GoToneError as error:
        unknown = error.may_have_been_processed
        if item.attempts >= max_attempts:
            return jobs.finish_item(
                item, states.ITEM_FAILED, "error", "failed", reason=str(error), commit=False
            )
        jobs.release_item(item, delay=min(60.0, 2.0**item.attempts), uncertain=unknown)
        return None
    return jobs.finish_item(item, states.ITEM_DONE, "created", "created", commit=False)


def _gateway_digits(raw: str) -> str:
    """The gateway's number in the items' form (digits with the country code)."""
    try:
        return from_gateway(raw)
    except PhoneError:
        return raw


def item_workspace(item: jobs.ClaimedItem) -> int:
    return db.session.execute(select(Job.workspace_id).where(Job.id == item.job_id)).scalar_one()


# The engine runs imports through this registration (create_app imports this module).
jobs.register(jobs.JobKind(states.IMPORT, {states.ANALYSING: analyse, states.RUNNING: process}))
