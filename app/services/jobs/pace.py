"""The pace: each workspace's calls to its gateway, spaced into slots shared by every worker
and host through the database (one row per workspace)."""

from __future__ import annotations

import functools
import random
import time
from typing import Any

from flask import current_app
from sqlalchemy import Float, bindparam, case, select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import User, Workspace, WorkspacePace
from .. import audit
from ..dml import execute_dml


def pace_of(workspace_id: int) -> int:
    """Calls per pace window for this workspace (its own setting or the server default)."""
    own = db.session.scalar(
        select(WorkspacePace.calls_per_minute).where(WorkspacePace.workspace_id == workspace_id)
    )
    return int(own or current_app.config["JOBS_PACE"])


def set_pace(workspace: Workspace, actor: User, calls: int | None) -> None:
    """Set (or with None reset to the default) the workspace's bulk pace (commits)."""
    row = ensure_pace_row(workspace.id)
    row.calls_per_minute = calls
    audit.record(actor, workspace, "jobs.pace_changed", "pace", calls_per_minute=calls)
    db.session.commit()


def ensure_pace_row(workspace_id: int) -> WorkspacePace:
    """The workspace's pace row, created at the first use (by whichever worker comes first)."""
    row = db.session.get(WorkspacePace, workspace_id)
    if row is None:
        try:
            with db.session.begin_nested():
                db.session.add(WorkspacePace(workspace_id=workspace_id, next_at=0.0))
        except IntegrityError:
            pass  # another worker created it meanwhile
        row = db.session.get_one(WorkspacePace, workspace_id)
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
        ensure_pace_row(workspace_id)
    now = time.time()
    # The next slot follows the one taken on its grid (next_at + interval) unless this one is
    # taken `late` or more after it was due (idle, or after a pause): then it starts anew from
    # now. Anchored at now every time, each call's few ms of lateness (a sleep's overshoot, a
    # busy interpreter) would add up and the pace would fall short of the limit. On the grid
    # a window of length W holds at most floor((W + late) / interval) + 1 calls: with late at
    # most 0.5 % of W that stays within `calls` at any pace, and the rest of the slack (see
    # slot_interval) is left for the calls' jitter on their way to the gateway.
    late = min(interval / 2, 0.005 * current_app.config["JOBS_PACE_WINDOW"])
    taken = execute_dml(
        _slot_statement(),
        {
            "b_workspace": workspace_id,
            "b_now": now,
            "b_late": late,
            "b_interval": interval,
        },
    ).rowcount
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
        .values(
            next_at=case(
                (table.c.next_at > now - late, table.c.next_at + interval), else_=now + interval
            )
        )
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
    ensure_pace_row(workspace_id)
    db.session.execute(
        update(WorkspacePace)
        .where(WorkspacePace.workspace_id == workspace_id, WorkspacePace.next_at < until)
        .values(next_at=until)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return until - time.time()
