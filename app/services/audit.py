"""The audit log: record security events, read them back page by page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..extensions import db
from ..models import AuditEvent, User, Workspace
from . import scope

PER_PAGE = 50


def record(
    actor: User | None,
    workspace: Workspace | None,
    action: str,
    target: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit row to the current transaction; the caller's commit makes it permanent.

    Never pass secrets (tokens, passwords, TOTP seeds, session ids) as details.
    """
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_email=actor.email if actor else None,
        workspace_id=workspace.id if workspace else None,
        action=action,
        target=(target or "")[:255] or None,
        details=details,
    )
    # From the request's scope rather than passed by every caller: it is the same for every
    # event of a request (none outside one: a job, the CLI).
    request = scope.current()
    if request is not None:
        event.ip, event.request_id = request.ip, request.request_id
    db.session.add(event)
    return event


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    page: int
    pages: int
    total: int


def list_events(workspace: Workspace, page: int = 1, per_page: int = PER_PAGE) -> AuditPage:
    """Return one page of the workspace's audit events, newest first."""
    scoped = db.select(AuditEvent).where(AuditEvent.workspace_id == workspace.id)
    total = db.session.scalar(db.select(db.func.count()).select_from(scoped.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    events = db.session.scalars(
        scoped.order_by(AuditEvent.ts.desc(), AuditEvent.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return AuditPage(list(events), page, pages, total)
