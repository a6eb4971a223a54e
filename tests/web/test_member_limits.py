"""Issue 12, item 15: sends, exports and status refreshes are limited per member and
workspace; a refusal is a clear 429 with Retry-After that sends nothing and loses nothing."""

from __future__ import annotations

import html
import re
import uuid

import pytest

from app.models import SendRequest
from app.permissions import Role
from tests.conftest import HX
from tests.factories import add_member, login, make_user, make_workspace
from tests.web.test_messages_send import form_data

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


@pytest.fixture
def limited(make_app, sim, gateway_token):
    app = make_app(
        SEND_LIMIT="3 per minute",
        EXPORT_LIMIT="2 per minute",
        REFRESH_LIMIT="2 per minute",
        GOTONE_DEFAULT_URL=sim.api_url("v3"),
    )
    with app.app_context():
        owner = make_user()
        workspace = make_workspace(owner, base_url=sim.api_url("v3"), token=gateway_token)
        yield app, workspace, owner


def test_the_fourth_send_in_a_minute_is_refused_and_can_be_sent_again(limited, sim, gateway_token):
    app, workspace, owner = limited
    client = app.test_client()
    login(client, owner)
    base = f"/w/{workspace.id}/messages"
    for _ in range(3):
        assert client.post(f"{base}/send", data=form_data(uuid.uuid4().hex)).status_code == 303
    sent = len(sim.control.sends(gateway_token))
    key = uuid.uuid4().hex
    refused = client.post(f"{base}/send", data=form_data(key, text="Kept text, line 1\nline 2"))
    page = refused.get_data(as_text=True)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    assert "sending faster than this workspace allows" in page and "Nothing was sent" in page
    assert len(sim.control.sends(gateway_token)) == sent
    assert SendRequest.query.filter_by(send_key=key).count() == 0
    # The page carries the form as it was: one click sends it again (here: still refused).
    fields = {html.unescape(k): html.unescape(v) for k, v in HIDDEN.findall(page)}
    assert fields["send_key"] == key and fields["text"] == "Kept text, line 1\nline 2"
    assert fields["numbers"] == form_data(key)["numbers"] and fields["csrf_token"]
    assert f'action="{base}/send"' in page
    again = client.post(f"{base}/send", data=fields, csrf=False)
    assert again.status_code == 429


def test_an_htmx_send_refused_gets_an_alert_and_the_form_stays(limited):
    app, workspace, owner = limited
    client = app.test_client()
    login(client, owner)
    for _ in range(3):
        client.post(f"/w/{workspace.id}/messages/review", data=form_data(uuid.uuid4().hex))
    refused = client.post(
        f"/w/{workspace.id}/messages/review", headers=HX, data=form_data(uuid.uuid4().hex)
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "<html" not in body and "sending faster" in body
    assert refused.headers["Retry-After"]


def test_limits_are_per_member_and_per_workspace(limited, sim, gateway_token):
    app, workspace, owner = limited
    colleague = add_member(workspace, role=Role.ADMIN)
    other = make_workspace(owner, base_url=sim.api_url("v3"), token=gateway_token)
    client, second = app.test_client(), app.test_client()
    login(client, owner)
    login(second, colleague)
    for _ in range(3):
        assert (
            client.post(
                f"/w/{workspace.id}/messages/send", data=form_data(uuid.uuid4().hex)
            ).status_code
            == 303
        )
    assert (
        client.post(
            f"/w/{workspace.id}/messages/send", data=form_data(uuid.uuid4().hex)
        ).status_code
        == 429
    )
    assert (
        second.post(
            f"/w/{workspace.id}/messages/send", data=form_data(uuid.uuid4().hex)
        ).status_code
        == 303
    )
    assert (
        client.post(f"/w/{other.id}/messages/send", data=form_data(uuid.uuid4().hex)).status_code
        == 303
    )


def test_exports_and_refreshes_are_limited(limited):
    app, workspace, owner = limited
    client = app.test_client()
    login(client, owner)
    base = f"/w/{workspace.id}"
    exports = [client.get(f"{base}/messages/history.csv").status_code for _ in range(3)]
    assert exports == [200, 200, 429]
    refreshes = [client.post(f"{base}/messages/history/refresh").status_code for _ in range(3)]
    assert 429 not in refreshes[:2] and refreshes[2] == 429
    assert client.post(f"{base}/dashboard/refresh").status_code != 429  # its own counter
    jobs = [
        client.post(f"{base}/jobs/export", data={"group": "nope"}).status_code for _ in range(3)
    ]
    assert jobs[2] == 429 and 429 not in jobs[:2]
