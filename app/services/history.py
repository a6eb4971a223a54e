"""Message history: the portal's own outbox ("Sent from this portal") and the gateway's list.

Every outbox query is filtered by workspace. Gateway statuses are refreshed only on request,
for at most one page of messages (`refresh_statuses`), never on a page view.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..gotone.errors import NotFoundError
from ..gotone.types import Message, Page
from ..models import Membership, User, Workspace
from ..models.outbox import OutboxMessage, SendRequest
from ..models.types import utcnow
from . import audit, gotone, scheduling

PER_PAGE = 25
REFRESH_LIMIT = PER_PAGE
PHONE_LIKE = re.compile(r"[\d\s+\-().]*\d[\d\s+\-().]*")
DELIVERED = "delivered"  # a status filter beside the outbox states: the gateway said so
# Spreadsheet programs run cells starting with these as formulas (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id",
    "sent_at",
    "sent_by",
    "type",
    "phone",
    "first_name",
    "last_name",
    "text",
    "segments",
    "units",
    "state",
    "gateway_status",
    "gateway_uid",
)


@dataclass(frozen=True)
class Filters:
    """What the history list is narrowed to; empty values mean "any"."""

    q: str = ""
    member_id: int | None = None
    status: str = ""
    type: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def args(self) -> dict[str, str]:
        """The non-empty filters as query-string arguments (for links and the pager)."""
        values = {
            "q": self.q,
            "member": self.member_id,
            "status": self.status,
            "type": self.type,
            "date_from": self.date_from,
            "date_to": self.date_to,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class HistoryPage:
    """One page of outbox messages; `page`/`last_page` as the pager macro expects."""

    items: list[OutboxMessage]
    page: int
    last_page: int
    total: int
    per_page: int = PER_PAGE


# -- gateway history -----------------------------------------------------------------------
@dataclass(frozen=True)
class GatewayPage:
    """One page of the gateway's /sms list, narrowed to what is provably this workspace's.

    `withheld` rows of the gateway's page were left out: nothing in them shows they belong to
    this workspace's gateway account (the portal never recorded their uid, and the gateway's
    rows carry no account id). `page`/`last_page` are the gateway's, for the pager.
    """

    items: tuple[Message, ...]
    page: int
    last_page: int
    total: int
    withheld: int
    per_page: int = PER_PAGE


def list_gateway_sms(workspace: Workspace, actor: User, page: int) -> GatewayPage:
    """Return one page of the gateway's own /sms list; the view is audited. Raises GoToneError.

    Legacy gateways answer this list with every customer's messages (and give no account id
    per row), so only the rows whose uid this workspace's outbox recorded are shown; the rest
    are counted as withheld. Who looked is recorded.
    """
    result: Page[Message] = gotone.client_for(workspace).list_sms(page)
    uids = [m.uid for m in result.items]
    ours = (
        set(
            db.session.scalars(
                select(OutboxMessage.gateway_uid).where(
                    OutboxMessage.workspace_id == workspace.id, OutboxMessage.gateway_uid.in_(uids)
                )
            )
        )
        if uids
        else set()
    )
    shown = tuple(m for m in result.items if m.uid in ours)
    withheld = len(result.items) - len(shown)
    audit.record(
        actor,
        workspace,
        "gateway_history.viewed",
        "gateway",
        page=result.page,
        shown=len(shown),
        withheld=withheld,
    )
    db.session.commit()
    return GatewayPage(
        shown, result.page, result.last_page, result.total, withheld, result.per_page
    )


# -- portal history ------------------------------------------------------------------------
def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def _filtered(workspace: Workspace, filters: Filters) -> Select:
    query = (
        select(OutboxMessage)
        .join(SendRequest, SendRequest.id == OutboxMessage.request_id)
        .where(OutboxMessage.workspace_id == workspace.id, SendRequest.workspace_id == workspace.id)
    )
    q = filters.q.strip()
    if q:
        matches = [func.lower(OutboxMessage.text).contains(q.lower(), autoescape=True)]
        if PHONE_LIKE.fullmatch(q):  # "+1 (202) 555-01" searches the digits of numbers
            digits = re.sub(r"\D", "", q)
            matches.append(OutboxMessage.phone.contains(digits, autoescape=True))
        query = query.where(or_(*matches))
    if filters.member_id:
        query = query.where(OutboxMessage.sent_by_id == filters.member_id)
    if filters.status == DELIVERED:
        query = query.where(OutboxMessage.gateway_status.like("Delivered%"))
    elif filters.status:
        query = query.where(OutboxMessage.state == filters.status)
    if filters.type:
        query = query.where(SendRequest.type == filters.type)
    zone = scheduling.zone_of(workspace)
    if filters.date_from:
        query = query.where(OutboxMessage.created_at >= _day_start(filters.date_from, zone))
    if filters.date_to:
        end = _day_start(filters.date_to + timedelta(days=1), zone)
        query = query.where(OutboxMessage.created_at < end)
    return query


# What a history row shows beside the message (member, type): loaded with the page, in the
# same statement, not one query per row.
_ROW_DETAILS = (joinedload(OutboxMessage.sent_by), joinedload(OutboxMessage.request))


def search_messages(workspace: Workspace, filters: Filters, page: int = 1) -> HistoryPage:
    """Return one page of this workspace's outbox messages, newest first."""
    query = _filtered(workspace, filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    last_page = max(1, math.ceil(total / PER_PAGE))
    page = min(max(page, 1), last_page)
    rows = db.session.scalars(
        query.options(*_ROW_DETAILS)
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    return HistoryPage(list(rows), page, last_page, total)


def latest_messages(workspace: Workspace, limit: int = 5) -> list[OutboxMessage]:
    """Return the workspace's most recent outbox messages (for the dashboard)."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.workspace_id == workspace.id)
            .options(*_ROW_DETAILS)
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def get_message(workspace: Workspace, message_id: int) -> OutboxMessage | None:
    """Return one outbox message of this workspace, or None (a foreign id is not found)."""
    return db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.workspace_id == workspace.id
        )
    )


def senders(workspace: Workspace) -> list[tuple[int, str]]:
    """Return (user id, email) of the workspace's members, for the member filter."""
    rows = db.session.execute(
        select(User.id, User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace.id)
        .order_by(User.email)
    )
    return [(row.id, row.email) for row in rows]


def refresh_statuses(workspace: Workspace, message_ids: Iterable[int]) -> int:
    """Ask the gateway for the status of up to one page of messages; return how many changed.

    Only this workspace's messages with a gateway uid are asked about (one get_sms each).
    A report the gateway no longer has is left as it was. Raises GoToneError (commits what
    was refreshed before the error).
    """
    ids = list(dict.fromkeys(message_ids))[:REFRESH_LIMIT]
    messages = (
        db.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.workspace_id == workspace.id,
                OutboxMessage.id.in_(ids),
                OutboxMessage.gateway_uid.is_not(None),
            )
        ).all()
        if ids
        else []
    )
    if not messages:
        return 0
    client, changed = gotone.client_for(workspace), 0
    try:
        for message in messages:
            try:
                assert message.gateway_uid is not None  # the query leaves out NULL
                report = client.get_sms(message.gateway_uid)
            except NotFoundError:
                continue
            if report.status and report.status != message.gateway_status:
                message.gateway_status = report.status[:255]
                changed += 1
            if report.cost is not None:
                message.gateway_cost = str(report.cost)[:32]
    finally:
        db.session.commit()
    return changed


# -- CSV export ----------------------------------------------------------------------------
def neutralise(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text: formula starters get a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_line(cells: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue()


def _row(message: OutboxMessage) -> list[object]:
    sent_by = message.sent_by.email if message.sent_by else message.request.created_by_email
    when = message.sent_at or message.created_at
    return [
        message.id,
        when.isoformat(timespec="seconds") if when else "",
        sent_by,
        message.request.type,
        message.phone,
        message.first_name,
        message.last_name,
        message.text,
        message.segments,
        message.units,
        message.state,
        message.gateway_status or "",
        message.gateway_uid or "",
    ]


def export_csv(workspace: Workspace, actor: User, filters: Filters) -> Iterator[str]:
    """Record the export in the audit log, then yield the CSV lines of every match."""
    audit.record(
        actor,
        workspace,
        "messages.exported",
        "history",
        filters=filters.args(),
        at=utcnow().isoformat(timespec="seconds"),
    )
    db.session.commit()
    query = _filtered(workspace, filters).order_by(
        OutboxMessage.created_at.desc(), OutboxMessage.id.desc()
    )
    # Read everything before streaming: the generator outlives the request's session.
    lines = [_csv_line(CSV_COLUMNS)]
    for message in db.session.scalars(query.execution_options(yield_per=500)):
        lines.append(_csv_line(_row(message)))
    return iter(lines)
