"""services.history: tenant-scoped search and filters, bounded status refresh, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from app.extensions import db
from app.models import AuditEvent
from app.models.outbox import (
    ACCEPTED,
    FAILED,
    MMS,
    PLAIN,
    UNKNOWN,
    VOICE,
    OutboxMessage,
    SendRequest,
)
from app.services import gotone, history
from tests.factories import add_member, make_user, make_workspace
from tests.services.conftest import TOKEN

_KEYS = iter(range(1, 1_000_000))


def outbox_message(
    workspace,
    user,
    phone="12025550100",
    text="Hello",
    *,
    state=ACCEPTED,
    type=PLAIN,
    gateway_uid=None,
    gateway_status=None,
    created_at=None,
    first_name="",
    segments=1,
    units=1,
) -> OutboxMessage:
    """One request with one message, as 6a's outbox writes them."""
    when = created_at or datetime.now(UTC)
    request = SendRequest(
        workspace_id=workspace.id,
        created_by_id=user.id,
        created_by_email=user.email,
        send_key=f"k{next(_KEYS)}",
        fingerprint="f" * 64,
        type=type,
        text=text,
        recipients=1,
        segments=segments,
        units=units,
        state="done",
        source={},
        created_at=when,
    )
    db.session.add(request)
    db.session.flush()
    message = OutboxMessage(
        request_id=request.id,
        workspace_id=workspace.id,
        sent_by_id=user.id,
        seq=0,
        phone=phone,
        text=text,
        segments=segments,
        units=units,
        state=state,
        gateway_uid=gateway_uid,
        gateway_status=gateway_status,
        first_name=first_name,
        created_at=when,
        sent_at=when if state == ACCEPTED else None,
    )
    db.session.add(message)
    db.session.commit()
    return message


def _phones(page):
    return [m.phone for m in page.items]


def test_search_shows_only_this_workspaces_messages(app, workspace, owner):
    other = make_workspace(make_user())
    outbox_message(workspace, owner, "12025550100", "ours")
    outbox_message(other, other.memberships[0].user, "12025550199", "theirs")
    page = history.search_messages(workspace, history.Filters())
    assert _phones(page) == ["12025550100"] and page.total == 1
    assert history.get_message(workspace, page.items[0].id) is not None
    foreign = history.search_messages(other, history.Filters()).items[0]
    assert history.get_message(workspace, foreign.id) is None
    assert history.latest_messages(workspace) == page.items


def test_search_by_number_and_text_and_filters(app, workspace, owner):
    colleague = add_member(workspace, make_user())
    now = datetime.now(UTC)
    outbox_message(workspace, owner, "12025550100", "Your code is 1234", created_at=now)
    outbox_message(
        workspace,
        colleague,
        "12025550111",
        "Meeting at noon",
        type=VOICE,
        state=FAILED,
        created_at=now - timedelta(days=3),
    )
    outbox_message(
        workspace,
        owner,
        "447700900123",
        "100% off_sale",
        type=MMS,
        state=UNKNOWN,
        gateway_status=None,
        created_at=now - timedelta(days=10),
    )
    outbox_message(
        workspace,
        owner,
        "12025550122",
        "delivered one",
        gateway_uid="a" * 13,
        gateway_status="Delivered",
        created_at=now,
    )

    def phones(**filters):
        return sorted(_phones(history.search_messages(workspace, history.Filters(**filters))))

    assert phones(q="+1 202-555-0111") == ["12025550111"]
    assert phones(q="0900") == ["447700900123"]
    assert phones(q="meeting") == ["12025550111"]
    assert phones(q="100%") == ["447700900123"]  # LIKE wildcards are literal
    assert phones(q="_") == ["447700900123"]
    assert phones(member_id=colleague.id) == ["12025550111"]
    assert phones(status=FAILED) == ["12025550111"]
    assert phones(status=history.DELIVERED) == ["12025550122"]
    assert phones(type=MMS) == ["447700900123"]
    today = now.date()
    assert phones(date_from=today - timedelta(days=5)) == [
        "12025550100",
        "12025550111",
        "12025550122",
    ]
    assert phones(date_to=today - timedelta(days=5)) == ["447700900123"]
    assert phones(date_from=today - timedelta(days=3), date_to=today - timedelta(days=3)) == [
        "12025550111"
    ]


def test_dates_are_days_in_the_workspace_timezone(app, workspace, owner):
    gotone.get_settings(workspace).timezone = "Asia/Tokyo"  # UTC+9
    db.session.commit()
    outbox_message(workspace, owner, created_at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    assert (
        history.search_messages(
            workspace, history.Filters(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))
        ).total
        == 1
    )
    assert history.search_messages(workspace, history.Filters(date_to=date(2026, 3, 1))).total == 0


def test_pages_of_25_newest_first(app, workspace, owner):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(30):
        when = start + timedelta(minutes=i)
        outbox_message(workspace, owner, f"120255501{i:02d}", created_at=when)
    first = history.search_messages(workspace, history.Filters(), 1)
    second = history.search_messages(workspace, history.Filters(), 2)
    assert (first.total, first.last_page, len(first.items), len(second.items)) == (30, 2, 25, 5)
    assert first.items[0].phone == "12025550129" and second.items[-1].phone == "12025550100"
    assert history.search_messages(workspace, history.Filters(), 99).page == 2


def test_refresh_asks_the_gateway_once_per_message_of_the_page_only(app, sim, workspace, owner):
    client = gotone.client_for(workspace)
    sent = client.send_sms(["12025550100", "12025550101", "12025550102"], "Hi").messages
    rows = [
        outbox_message(workspace, owner, m.to, gateway_uid=m.uid, gateway_status=m.status)
        for m in sent
    ]
    outbox_message(workspace, owner, "12025550103", state=FAILED)  # no uid: never asked
    sim.control.set_report_status(sent[0].uid, "Undelivered")
    before = len(sim.control.requests())
    changed = history.refresh_statuses(workspace, [r.id for r in rows[:2]] + [rows[0].id])
    asked = [r for r in sim.control.requests()[before:] if "/sms/" in r["path"]]
    assert len(asked) == 2 and changed == 1
    db.session.expire_all()
    assert db.session.get(OutboxMessage, rows[0].id).gateway_status == "Undelivered"
    assert db.session.get(OutboxMessage, rows[0].id).state == ACCEPTED  # state is the portal's


def test_refresh_never_touches_another_workspaces_rows(app, sim, workspace, owner):
    other = make_workspace(make_user(), base_url=sim.api_url("v3"), token=TOKEN)
    foreign = outbox_message(other, other.memberships[0].user, gateway_uid="b" * 13)
    before = len(sim.control.requests())
    assert history.refresh_statuses(workspace, [foreign.id]) == 0
    assert len(sim.control.requests()) == before


def test_csv_export_neutralises_formulas_and_is_audited(app, workspace, owner):
    outbox_message(workspace, owner, text='=HYPERLINK("http://evil")', first_name="+cmd")
    outbox_message(workspace, owner, text="-2+3", first_name="@SUM(A1)")
    outbox_message(workspace, owner, text="\tTab", first_name="\rCR")
    outbox_message(workspace, owner, text="plain, with comma", first_name="Ann")
    exported = "".join(history.export_csv(workspace, owner, history.Filters()))
    rows = list(csv.reader(io.StringIO(exported)))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["id", "sent_at", "sent_by", "type", "phone"]
    cells = [cell for row in body for cell in row]
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert '\'=HYPERLINK("http://evil")' in cells and "'-2+3" in cells and "'@SUM(A1)" in cells
    assert "'\tTab" in cells and "plain, with comma" in cells
    exported = db.select(AuditEvent).where(AuditEvent.action == "messages.exported")
    event = db.session.scalar(exported)
    assert event.actor_id == owner.id and event.workspace_id == workspace.id


def test_neutralise():
    assert history.neutralise("=1+1") == "'=1+1"
    assert history.neutralise("1+1") == "1+1"
    assert history.neutralise(None) == "" and history.neutralise(-5) == "'-5"
