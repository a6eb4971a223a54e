"""Background jobs: the database is the source of truth, the queue only wakes workers up.

A job (an import into a group, an export of a group) has one item per unit of work: a line of
the uploaded file, a page of the exported group. Every item has its own state; a worker claims
an item with an atomic UPDATE ... WHERE state='queued', so two workers never hold the same item,
and an item left `running` by a dead worker is re-queued by the sweeper once its lease expires,
marked `uncertain` (its gateway call may or may not have happened).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import SQLITE_AUTOINCREMENT, UTCDateTime, utcnow
from .user import User

# Job kinds and states.
IMPORT, EXPORT = "import", "export"
ANALYSING = "analysing"  # import: reading the file, writing one item per line (the dry run)
READY = "ready"  # import: dry run done, waiting for the member to go on or stop
RUNNING = "running"
DONE = "done"
CANCELLED = "cancelled"
FAILED = "failed"
JOB_FINAL = (DONE, CANCELLED, FAILED)

# Item states.
QUEUED = "queued"
ITEM_RUNNING = "running"
ITEM_DONE = "done"  # outcome: created | exists | exported
ITEM_FAILED = "failed"  # the gateway kept failing, or the job stopped (outcome: error)
ITEM_REJECTED = "rejected"  # outcome: invalid | duplicate (dry run) | refused (by the gateway)
ITEM_CANCELLED = "cancelled"
ITEM_FINAL = (ITEM_DONE, ITEM_FAILED, ITEM_REJECTED, ITEM_CANCELLED)


def new_files_token() -> str:
    return secrets.token_hex(16)


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_workspace_created", "workspace_id", "created_at"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    group_uid: Mapped[str] = mapped_column(String(64))
    group_name: Mapped[str] = mapped_column(String(255), default="")
    # The uploaded file's name as the member's computer called it (display only).
    filename: Mapped[str] = mapped_column(String(255), default="")
    # Import: file format, delimiter, header row, column mapping. Export: nothing yet.
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    # Dry run: data rows read, invalid rows, duplicates inside the file, numbers already in the
    # group (None when the group was too big to check), items to process.
    rows: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    in_group: Mapped[int | None] = mapped_column(Integer)
    to_process: Mapped[int] = mapped_column(Integer, default=0)
    # Outcomes, incremented in the same transaction that finishes an item (never twice).
    created: Mapped[int] = mapped_column(Integer, default=0)
    existing: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Last sign of life of a worker on this job; the sweeper wakes jobs whose heartbeat is old.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Names the job's folder with its id (services/job_files.py), so no other job - not even
    # one that got the same id on another database - can name or read it. NULL: a job from
    # before revision 0005, whose files were in a folder named by the id alone.
    files_token: Mapped[str | None] = mapped_column(String(32), default=new_files_token)

    created_by: Mapped[User | None] = relationship()

    @property
    def processed(self) -> int:
        return self.created + self.existing + self.refused + self.failed + self.cancelled

    @property
    def percent(self) -> int:
        if self.state == DONE:
            return 100
        if not self.to_process:
            return 0
        return min(100, self.processed * 100 // self.to_process)

    @property
    def final(self) -> bool:
        return self.state in JOB_FINAL


class JobItem(db.Model):
    __tablename__ = "job_items"
    __table_args__ = (
        UniqueConstraint("job_id", "seq", name="uq_job_items_job_id_seq"),
        # Duplicates inside one file: only the first line of a number holds it.
        UniqueConstraint("job_id", "phone", name="uq_job_items_job_id_phone"),
        Index("ix_job_items_job_state", "job_id", "state"),
        Index("ix_job_items_state_lease", "state", "lease_until"),
        SQLITE_AUTOINCREMENT,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    # Import: the row number as a spreadsheet shows it (header = 1). Export: the page number.
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))
    # Normalised digits (E.164 without "+"), only on the lines that will be imported.
    phone: Mapped[str | None] = mapped_column(String(20))
    # What the file said (kept for the rejects file).
    raw_phone: Mapped[str] = mapped_column(String(64), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A previous attempt was cut off (worker died, unknown answer): it may have reached the
    # gateway, so "already in the group" then means "done", not "existed before".
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    claim: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    not_before: Mapped[float] = mapped_column(Float, default=0.0)


class WorkspacePace(db.Model):
    """How fast bulk work may call a workspace's gateway, shared by every worker on every host.

    `next_at` (epoch seconds) is the earliest moment the next call may start; each call moves
    it on by window/calls (GCRA without burst), so no window of that length holds more calls.
    """

    __tablename__ = "workspace_paces"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    # None: the server default (PORTAL_JOBS_PACE, 60 a minute like the gateway's own limit).
    calls_per_minute: Mapped[int | None] = mapped_column(Integer)
    next_at: Mapped[float] = mapped_column(Float, default=0.0)
