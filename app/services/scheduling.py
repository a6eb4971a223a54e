"""Scheduled sends owned by the portal: stored in UTC, dispatched by a periodic task.

The gateway schedules only multi-recipient sends and cannot cancel, so the portal keeps the
schedule itself: `dispatch_due` (run periodically by every job consumer) moves a due request
from `scheduled` to `queued` with a compare-and-set and starts it, so two consumers never send
it twice. A request more than GRACE late (no consumer ran at its time) becomes `missed`: it is
shown to the team and never fired late without a member's decision (`send_missed_now`).
So is a due request whose author is no longer a member who may send (removed, or made a
viewer): the team decides whether it still goes out (research §2.7, item 6).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select, update

from ..exceptions import ScheduleError
from ..extensions import db
from ..models import Membership, User, Workspace
from ..models.outbox import CANCELLED, MISSED, QUEUED, SCHEDULED, OutboxMessage, SendRequest
from ..models.types import utcnow
from ..permissions import can
from . import audit, outbox
from .dml import execute_dml
from .gotone import get_settings

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=15)


def zone_of(workspace: Workspace) -> ZoneInfo:
    try:
        return ZoneInfo(get_settings(workspace).timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def to_utc(workspace: Workspace, day: date, at: time) -> datetime:
    """The workspace-local date and time as an aware UTC datetime."""
    return datetime.combine(day, at).replace(tzinfo=zone_of(workspace)).astimezone(UTC)


def local(workspace: Workspace, moment: datetime | None) -> datetime | None:
    return moment.astimezone(zone_of(workspace)) if moment else None


def upcoming(workspace: Workspace) -> list[SendRequest]:
    """Scheduled and missed requests of the workspace, soonest first."""
    return list(
        db.session.scalars(
            select(SendRequest)
            .where(
                SendRequest.workspace_id == workspace.id, SendRequest.state.in_((SCHEDULED, MISSED))
            )
            .order_by(SendRequest.scheduled_for)
        )
    )


def dispatch_due(now: datetime | None = None) -> list[int]:
    """Send the requests that are due; mark the long-overdue ones missed. Returns sent ids."""
    now = now or utcnow()
    due = db.session.execute(
        select(SendRequest.id, SendRequest.scheduled_for)
        .where(SendRequest.state == SCHEDULED, SendRequest.scheduled_for <= now)
        .order_by(SendRequest.scheduled_for)
    ).all()
    db.session.commit()
    sent = []
    for request_id, when in due:
        assert when is not None  # the WHERE's comparison leaves out NULL
        if now - when > GRACE:
            _miss(request_id)
            continue
        if not _author_may_send(request_id):
            _miss(
                request_id,
                _("Held: the member who scheduled it can no longer send in this workspace."),
            )
            continue
        claimed = (
            execute_dml(
                update(SendRequest)
                .where(SendRequest.id == request_id, SendRequest.state == SCHEDULED)
                .values(state=QUEUED, dispatched_at=now, updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )
        db.session.commit()
        if not claimed:
            continue  # another consumer took it, or a member cancelled it meanwhile
        try:
            outbox.start(db.session.get_one(SendRequest, request_id))
        except Exception:  # one broken send must not stop the others
            log.exception("scheduled send %s failed to start", request_id)
            db.session.rollback()
        sent.append(request_id)
    return sent


def _author_may_send(request_id: int) -> bool:
    role = db.session.execute(
        select(Membership.role)
        .join(
            SendRequest,
            (SendRequest.workspace_id == Membership.workspace_id)
            & (SendRequest.created_by_id == Membership.user_id),
        )
        .where(SendRequest.id == request_id)
    ).scalar()
    return can(role, "messages.send")


def _miss(request_id: int, reason: str | None = None) -> None:
    result = execute_dml(
        update(SendRequest)
        .where(SendRequest.id == request_id, SendRequest.state == SCHEDULED)
        .values(
            state=MISSED,
            error=reason or _("No worker was running at the scheduled time."),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:
        _set_messages(request_id, MISSED)
    db.session.commit()


def _set_messages(request_id: int, state: str) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.request_id == request_id, OutboxMessage.state == QUEUED)
        .values(state=state, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def cancel(workspace: Workspace, actor: User, request: SendRequest) -> None:
    """Cancel a scheduled or missed request before it goes out (commits)."""
    result = execute_dml(
        update(SendRequest)
        .where(
            SendRequest.id == request.id,
            SendRequest.workspace_id == workspace.id,
            SendRequest.state.in_((SCHEDULED, MISSED)),
        )
        .values(state=CANCELLED, finished_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise ScheduleError(_("This send has already gone out or was cancelled."))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.request_id == request.id, OutboxMessage.state.in_((QUEUED, MISSED)))
        .values(state=CANCELLED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    audit.record(actor, workspace, "message.schedule_cancelled", str(request.id))
    db.session.commit()
    db.session.refresh(request)


def edit(
    workspace: Workspace, actor: User, request: SendRequest, text: str, when: datetime
) -> None:
    """Change the text and time of a scheduled request (commits)."""
    locked = (
        execute_dml(
            update(SendRequest)
            .where(SendRequest.id == request.id, SendRequest.state == SCHEDULED)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if not locked:
        db.session.rollback()
        raise ScheduleError(_("This send has already gone out or was cancelled."))
    assert request.scheduled_for is not None  # a SCHEDULED request always has its time
    before = {"text": request.text, "scheduled_for": request.scheduled_for.isoformat()}
    request.text, request.scheduled_for = text, when
    outbox.rewrite_messages(request, actor)
    audit.record(
        actor,
        workspace,
        "message.schedule_edited",
        str(request.id),
        before=before,
        scheduled_for=when.isoformat(),
    )
    db.session.commit()


def send_missed_now(workspace: Workspace, actor: User, request: SendRequest) -> None:
    """A member decided to send a missed request now (commits, then starts it)."""
    result = execute_dml(
        update(SendRequest)
        .where(SendRequest.id == request.id, SendRequest.state == MISSED)
        .values(state=QUEUED, dispatched_at=utcnow(), error=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        raise ScheduleError(_("This send is no longer waiting for a decision."))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.request_id == request.id, OutboxMessage.state == MISSED)
        .values(state=QUEUED, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    audit.record(actor, workspace, "message.missed_sent", str(request.id))
    db.session.commit()
    db.session.refresh(request)
    outbox.start(request)
