"""The job engine: jobs and their items, claimed, finished, re-queued, swept and paced, and
the runner's main loop.

One job per module: queries (reading), lifecycle (create, start, cancel, fail, complete,
heartbeat), claims (items claimed for a lease, and the sweeper), pace (the workspace's call
slots), kinds (the registry the kinds fill) and runner (a time slice of a job). The kinds of
work (import, export, send) live in services/imports.py, services/exports.py and
services/outbox/send_job.py and register themselves here; the engine imports none of them
and knows none of the gateway's rules beyond pacing.

Callers use the package: `from app.services import jobs; jobs.claim_items(...)`.
"""

from __future__ import annotations

from .claims import (
    ClaimedItem,
    Finished,
    claim_item,
    claim_items,
    finish_item,
    forget_heartbeat,
    give_back,
    release_item,
    sweep,
)
from .kinds import Handler, JobKind, handler_for, kind_of, register
from .lifecycle import (
    beat,
    cancel,
    cancel_queued,
    complete_job,
    create_job,
    fail_job,
    stalled,
    start,
)
from .pace import (
    PACE_JITTER_SECONDS,
    acquire_slot,
    pace_of,
    pace_wait,
    pause_pace,
    set_pace,
    slot_interval,
    take_slot,
)
from .queries import (
    PER_PAGE,
    JobPage,
    get_job,
    item_counts,
    job_state,
    list_jobs,
    rejected_items,
    unfinished,
)
from .runner import (
    CLAIM_MAX,
    CLAIM_SECONDS,
    HELD_LEASE_SHARE,
    PACE_REFRESH_SECONDS,
    ItemHandler,
    Wait,
    run,
    work_items,
)

__all__ = [
    "CLAIM_MAX",
    "CLAIM_SECONDS",
    "HELD_LEASE_SHARE",
    "PACE_JITTER_SECONDS",
    "PACE_REFRESH_SECONDS",
    "PER_PAGE",
    "ClaimedItem",
    "Finished",
    "Handler",
    "ItemHandler",
    "JobKind",
    "JobPage",
    "Wait",
    "acquire_slot",
    "beat",
    "cancel",
    "cancel_queued",
    "claim_item",
    "claim_items",
    "complete_job",
    "create_job",
    "fail_job",
    "finish_item",
    "forget_heartbeat",
    "get_job",
    "give_back",
    "handler_for",
    "item_counts",
    "job_state",
    "kind_of",
    "list_jobs",
    "pace_of",
    "pace_wait",
    "pause_pace",
    "register",
    "rejected_items",
    "release_item",
    "run",
    "set_pace",
    "slot_interval",
    "stalled",
    "start",
    "sweep",
    "take_slot",
    "unfinished",
    "work_items",
]
