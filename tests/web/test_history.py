"""History pages: "Sent from this portal" (tenant-scoped, searchable, paged, CSV) and the
admin-only "Gateway history" (the gateway's own list, escaped)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from app.extensions import db
from app.models import AuditEvent
from app.models.outbox import FAILED, VOICE
from app.permissions import Role
from app.services import gotone
from tests.conftest import HX
from tests.factories import add_member, login, make_user, make_workspace
from tests.services.test_history import outbox_message

BOOSTED = {**HX, "HX-Boosted": "true"}
XSS = '<img src=x onerror="alert(1)">'


@pytest.fixture
def owner(client, sim_workspace):
    user = sim_workspace.memberships[0].user
    login(client, user)
    return user


@pytest.fixture
def url(sim_workspace):
    return f"/w/{sim_workspace.id}/messages"


def _sms_calls(sim):
    return [r for r in sim.control.requests() if "/api/" in r["path"] and "/sms" in r["path"]]


def test_history_shows_only_this_workspaces_messages(client, owner, url, sim_workspace):
    other_owner = make_user()
    other = make_workspace(other_owner)
    add_member(other, owner, Role.MEMBER)
    ours = outbox_message(sim_workspace, owner, "12025550100", "ours-4711")
    theirs = outbox_message(other, other_owner, "12025550199", "theirs")
    body = client.get(url + "/history").get_data(as_text=True)
    assert "ours-4711" in body and "theirs" not in body and owner.email in body
    assert client.get(f"{url}/history/{ours.id}").status_code == 200
    assert client.get(f"{url}/history/{theirs.id}").status_code == 404
    assert client.post(f"{url}/history/{theirs.id}/refresh").status_code == 404
    exported = client.get(url + "/history.csv").get_data(as_text=True)
    assert "ours-4711" in exported and "theirs" not in exported
    latest = client.get(f"/w/{sim_workspace.id}").get_data(as_text=True)
    assert "12025550100" in latest.replace(" ", "").replace("-", "")
    assert "12025550199" not in latest.replace(" ", "").replace("-", "")


def test_history_search_and_filters_from_the_query_string(client, owner, url, sim_workspace):
    colleague = add_member(sim_workspace, make_user("colleague@example.com"))
    outbox_message(sim_workspace, owner, "12025550100", "Your code")
    outbox_message(sim_workspace, colleague, "12025550111", "Meeting", type=VOICE, state=FAILED)
    outbox_message(
        sim_workspace,
        owner,
        "12025550122",
        "Old news",
        created_at=datetime.now(UTC) - timedelta(days=40),
    )

    def texts(query):
        body = client.get(url + "/history?" + query, headers=HX).get_data(as_text=True)
        return {t for t in ("Your code", "Meeting", "Old news") if t in body}

    assert texts("q=meet") == {"Meeting"}
    assert texts("q=%2B1+202+555+0100") == {"Your code"}
    assert texts(f"member={colleague.id}") == {"Meeting"}
    assert texts("status=failed") == {"Meeting"}
    assert texts("type=voice") == {"Meeting"}
    since = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    assert texts(f"date_from={since}") == {"Your code", "Meeting"}
    assert texts("status=nonsense&member=abc&date_from=not-a-date") == {
        "Your code",
        "Meeting",
        "Old news",
    }  # invalid filters are ignored, never a 500
    page = client.get(url + "/history?q=meet&type=voice").get_data(as_text=True)
    assert 'value="meet"' in page  # the form keeps the search


def test_history_pages_with_htmx_fragment_and_full_page_otherwise(
    client, owner, url, sim_workspace
):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(30):
        outbox_message(
            sim_workspace,
            owner,
            f"120255501{i:02d}",
            f"text {i:02d}",
            created_at=start + timedelta(minutes=i),
        )
    fragment = client.get(url + "/history?page=2&q=text", headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="history-table"') and "text 04" in body
    assert "text 29" not in body and "HX-Request" in fragment.headers["Vary"]
    assert 'hx-push-url="true"' in body and "q=text" in body  # the pager keeps the search
    for headers in ({}, BOOSTED):
        page = client.get(url + "/history?page=2", headers=headers)
        assert "<html" in page.get_data(as_text=True) and "HX-Request" in page.headers["Vary"]


def test_csv_export_neutralises_formulas(client, owner, url, sim_workspace):
    outbox_message(sim_workspace, owner, text='=HYPERLINK("http://x","click")', first_name="@x")
    response = client.get(url + "/history.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[1][7] == '\'=HYPERLINK("http://x","click")' and rows[1][5] == "'@x"


def test_message_page_escapes_and_refreshes_its_status(client, sim, owner, url, sim_workspace):
    report = gotone.client_for(sim_workspace).send_sms("12025550100", XSS).messages[0]
    message = outbox_message(
        sim_workspace,
        owner,
        "12025550100",
        XSS,
        gateway_uid=report.uid,
        gateway_status=report.status,
    )
    body = client.get(f"{url}/history/{message.id}").get_data(as_text=True)
    assert XSS not in body and "&lt;img" in body
    sim.control.set_report_status(report.uid, "Undelivered")
    before = len(_sms_calls(sim))
    refreshed = client.post(f"{url}/history/{message.id}/refresh", headers=HX)
    assert refreshed.status_code == 200 and "Undelivered" in refreshed.get_data(as_text=True)
    assert len(_sms_calls(sim)) == before + 1
    plain = client.post(f"{url}/history/{message.id}/refresh")
    assert plain.status_code == 303


def test_page_views_never_call_the_gateway_and_refresh_is_bounded_to_the_page(
    client, sim, owner, url, sim_workspace
):
    sent = (
        gotone.client_for(sim_workspace)
        .send_sms([f"120255502{i:02d}" for i in range(30)], "bulk")
        .messages
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i, report in enumerate(sent):
        outbox_message(
            sim_workspace,
            owner,
            report.to,
            "bulk",
            gateway_uid=report.uid,
            gateway_status=report.status,
            created_at=start + timedelta(minutes=i),
        )
    before = len(_sms_calls(sim))
    client.get(url + "/history")
    client.get(url + "/history?page=2", headers=HX)
    assert len(_sms_calls(sim)) == before
    response = client.post(url + "/history/refresh?page=2", headers=HX)
    assert response.status_code == 200 and 'id="history-table"' in response.get_data(as_text=True)
    assert len(_sms_calls(sim)) == before + 5  # page 2 holds 5 messages
    assert client.post(url + "/history/refresh?page=1").status_code == 303
    assert len(_sms_calls(sim)) == before + 5 + 25


@pytest.mark.parametrize(
    "role, status", [(Role.VIEWER, 403), (Role.MEMBER, 403), (Role.ADMIN, 200), (Role.OWNER, 200)]
)
def test_gateway_history_is_for_admins_only(client, sim_workspace, role, status):
    if role == Role.OWNER:
        user = sim_workspace.memberships[0].user
    else:
        user = add_member(sim_workspace, make_user(), role)
    login(client, user)
    response = client.get(f"/w/{sim_workspace.id}/messages/gateway-history")
    assert response.status_code == status
    nav = client.get(f"/w/{sim_workspace.id}").get_data(as_text=True)
    assert ("Gateway history" in nav) is (status == 200)


def test_gateway_history_escapes_what_the_gateway_stores(client, sim, owner, url, sim_workspace):
    report = gotone.client_for(sim_workspace).send_sms("12025550100", XSS).messages[0]
    outbox_message(sim_workspace, owner, "12025550100", XSS, gateway_uid=report.uid)
    body = client.get(url + "/gateway-history").get_data(as_text=True)
    assert XSS not in body and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in body
    viewed = db.select(AuditEvent).where(AuditEvent.action == "gateway_history.viewed")
    assert db.session.scalar(viewed).actor_id == owner.id
    assert "gateway&#39;s own message list" in body or "gateway's own message list" in body


def test_gateway_history_pages_with_htmx(client, sim, owner, url, sim_workspace):
    gotone.client_for(sim_workspace).send_sms([f"120255503{i:02d}" for i in range(30)], "x")
    before = len(_sms_calls(sim))
    fragment = client.get(url + "/gateway-history?page=2", headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="gateway-table"') and "Page 2 of 2" in body
    assert "HX-Request" in fragment.headers["Vary"] and 'hx-push-url="true"' in body
    assert len(_sms_calls(sim)) == before + 1  # one list call per page view
    assert "<html" in client.get(url + "/gateway-history?page=2").get_data(as_text=True)


@pytest.mark.parametrize("fault", [{"mode": "status", "status": 500}, {"mode": "html_200"}])
def test_gateway_history_faults_are_alerts(client, sim, owner, url, fault):
    sim.control.add_fault(times=None, path="^/api/", **fault)
    response = client.get(url + "/gateway-history", headers=HX)
    sim.control.clear_faults()
    assert response.status_code == 502 and 'role="alert"' in response.get_data(as_text=True)


def test_a_gateway_fault_during_refresh_is_an_alert(client, sim, owner, url, sim_workspace):
    report = gotone.client_for(sim_workspace).send_sms("12025550100", "hi").messages[0]
    outbox_message(sim_workspace, owner, "12025550100", "hi", gateway_uid=report.uid)
    sim.control.add_fault(times=None, path="^/api/", mode="status", status=500)
    response = client.post(url + "/history/refresh", headers=HX)
    sim.control.clear_faults()
    assert response.status_code == 502 and 'role="alert"' in response.get_data(as_text=True)


def test_gateway_history_shows_only_this_workspaces_account(client, sim, owner, url, sim_workspace):
    """Item 25: a legacy gateway lists every customer's messages and names no account."""
    sim.control.configure(profile="legacy", quirks={"quirk_list_sms_all_users": True})
    other_token = sim.control.create_account(token="43|other-customer-token-Wq8", balance=50)
    other = make_workspace(make_user(), base_url=sim.api_url("v3"), token=other_token)
    mine = gotone.client_for(sim_workspace).send_sms("12025550100", "ours-4711").messages[0]
    outbox_message(sim_workspace, owner, "12025550100", "ours-4711", gateway_uid=mine.uid)
    theirs = gotone.client_for(other).send_sms("12025550199", "their secret").messages[0]
    outbox_message(
        other, other.memberships[0].user, "12025550199", "their secret", gateway_uid=theirs.uid
    )
    gotone.client_for(sim_workspace).send_sms("12025550142", "sent outside the portal")
    body = client.get(url + "/gateway-history").get_data(as_text=True)
    assert "ours-4711" in body
    assert "their secret" not in body and "555-0199" not in body and "5550199" not in body
    assert "sent outside the portal" not in body
    assert 'id="gateway-withheld"' in body and "Not shown on this page: 2 messages of" in body
    # The other workspace sees its own message and not ours.
    login(client, other.memberships[0].user)
    theirs_page = client.get(f"/w/{other.id}/messages/gateway-history").get_data(as_text=True)
    assert "their secret" in theirs_page and "ours-4711" not in theirs_page
