"""The workspace dashboard: balance (with its warning), expiry, profile, latest messages.

Balance and profile are cached per workspace; the tests count the gateway calls.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.extensions import db as _db
from app.models import AuditEvent
from app.services import gotone
from tests.conftest import HX
from tests.factories import add_member, login, make_user, make_workspace

FAULTS = [
    {"mode": "status", "status": 500},
    {"mode": "reset_before"},
    {"mode": "hang", "delay_ms": 1500},
    {"mode": "too_many_attempts"},
    {"mode": "malformed_json"},
    {"mode": "html_200"},
    {"mode": "wrong_shape"},
    {"mode": "status", "status": 401},
]


@pytest.fixture
def app(make_app):
    app = make_app(GOTONE_TIMEOUT=0.5)
    with app.app_context():
        yield app
        _db.session.remove()


@pytest.fixture
def owner(client, sim_workspace):
    user = sim_workspace.memberships[0].user
    login(client, user)
    return user


@pytest.fixture
def url(sim_workspace):
    return f"/w/{sim_workspace.id}"


def _calls(sim, path):
    return [r for r in sim.control.requests() if r["path"].endswith(path)]


def test_dashboard_shows_balance_expiry_and_profile(client, sim, owner, url, gateway_token):
    sim.control.update_account(
        gateway_token,
        first_name="Ada",
        last_name="<b>Lovelace</b>",
        email="ada@example.com",
        timezone="Asia/Manila",
    )
    body = client.get(url).get_data(as_text=True)
    assert 'id="account-card"' in body and 'id="profile-card"' in body
    assert "750" in body and "Plan expires" in body
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in body and "<b>Lovelace" not in body
    assert "ada@example.com" in body and "Asia/Manila" in body
    assert 'id="latest-messages"' in body and "No messages have been sent" in body


def test_two_page_views_cost_one_balance_and_one_profile_call(client, sim, owner, url):
    for _ in range(2):
        assert client.get(url).status_code == 200
    client.get(url + "/dashboard/account", headers=HX)
    client.get(url + "/dashboard/profile", headers=HX)
    assert len(_calls(sim, "/balance")) == 1
    assert len(_calls(sim, "/me")) == 1


def test_refresh_and_a_new_token_read_the_gateway_again(
    client, sim, owner, url, sim_workspace, gateway_token
):
    client.get(url)
    response = client.post(url + "/dashboard/refresh", headers=HX)
    assert response.status_code == 200
    assert 'id="dashboard-cards"' in response.get_data(as_text=True)
    assert len(_calls(sim, "/balance")) == 2
    other = sim.control.create_account(token="43|another-token-Yw8", balance=5)
    gotone.set_token(sim_workspace, owner, other)
    body = client.get(url).get_data(as_text=True)
    assert len(_calls(sim, "/balance")) == 3 and len(_calls(sim, "/me")) == 3
    assert ">5<" in body.replace(" ", "") or "5" in body
    plain = client.post(url + "/dashboard/refresh")
    assert plain.status_code == 303 and plain.headers["Location"].endswith(url)


def test_the_cache_is_per_workspace(client, sim, owner, url, sim_workspace, gateway_token):
    second = make_workspace(owner, base_url=sim.api_url("v3"), token=gateway_token)
    client.get(url)
    client.get(f"/w/{second.id}")
    client.get(url)
    assert len(_calls(sim, "/balance")) == 2


@pytest.mark.parametrize(
    "threshold, warned", [("1000", True), ("750", False), ("10", False), (None, False)]
)
def test_balance_warning_below_the_workspace_threshold(
    client, owner, url, sim_workspace, threshold, warned
):
    gotone.get_settings(sim_workspace).balance_warning_below = (
        Decimal(threshold) if threshold else None
    )
    _db.session.commit()
    body = client.get(url).get_data(as_text=True)
    assert ("the warning level set" in body.replace("\n", " ")) is warned


def test_unlimited_balance_never_warns(client, sim, owner, url, sim_workspace, gateway_token):
    sim.control.update_account(gateway_token, balance="Unlimited")
    gotone.get_settings(sim_workspace).balance_warning_below = Decimal("100")
    _db.session.commit()
    body = client.get(url).get_data(as_text=True)
    assert "the warning level set" not in body


def test_threshold_is_a_gateway_setting_and_audited(client, owner, url, sim_workspace):
    form = {
        "base_url": gotone.get_settings(sim_workspace).base_url,
        "family": "v3",
        "timezone": "UTC",
        "default_country": "US",
    }
    response = client.post(
        url + "/settings", data={**form, "balance_warning_below": "250.5"}, headers=HX
    )
    assert response.status_code == 200
    assert gotone.get_settings(sim_workspace).balance_warning_below == Decimal("250.50")
    changed = _db.select(AuditEvent).where(AuditEvent.action == "settings.changed")
    event = _db.session.scalar(changed)
    assert event.details["fields"] == ["balance_warning_below"]
    bad = client.post(url + "/settings", data={**form, "balance_warning_below": "-3"}, headers=HX)
    assert bad.status_code == 422
    client.post(url + "/settings", data={**form, "balance_warning_below": ""}, headers=HX)
    assert gotone.get_settings(sim_workspace).balance_warning_below is None


def test_cards_are_fragments_for_htmx_and_the_page_otherwise(client, owner, url):
    for path, root in (
        ("/dashboard/account", "account-card"),
        ("/dashboard/profile", "profile-card"),
        ("/dashboard/messages", "latest-messages"),
    ):
        fragment = client.get(url + path, headers=HX)
        body = fragment.get_data(as_text=True)
        assert fragment.status_code == 200 and f'id="{root}"' in body and "<html" not in body
        assert "HX-Request" in fragment.headers["Vary"]
        plain = client.get(url + path)
        assert plain.status_code == 302 and plain.headers["Location"].endswith(url)
    cards = client.get(url, headers=HX)
    assert 'id="dashboard-cards"' in cards.get_data(as_text=True)
    assert "<html" not in cards.get_data(as_text=True) and "HX-Request" in cards.headers["Vary"]


@pytest.mark.parametrize("fault", FAULTS, ids=[f"{f['mode']}{f.get('status', '')}" for f in FAULTS])
def test_gateway_faults_become_alerts_in_the_cards_never_a_500(client, sim, owner, url, fault):
    sim.control.add_fault(times=None, path="^/api/", **fault)
    page = client.get(url)
    fragment = client.get(url + "/dashboard/account", headers=HX)
    sim.control.clear_faults()
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and fragment.status_code == 200
    assert body.count('role="alert"') >= 2  # the balance card and the profile card
    assert 'role="alert"' in fragment.get_data(as_text=True)
    # errors are not cached: the next view asks again and shows the balance
    assert "750" in client.get(url).get_data(as_text=True)


def test_no_token_shows_an_alert_with_the_settings_link(client, app):
    owner = make_user()
    workspace = make_workspace(owner)
    login(client, owner)
    response = client.get(f"/w/{workspace.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "No GoTone API token is set" in body
    assert f"/w/{workspace.id}/settings" in body


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_every_member_sees_the_dashboard(client, sim_workspace, role):
    user = add_member(sim_workspace, make_user(), role)
    login(client, user)
    assert client.get(f"/w/{sim_workspace.id}").status_code == 200


def test_a_send_drops_the_cached_balance_and_latest_messages_link_to_history(
    client, sim, owner, url, sim_workspace
):
    from app.services import outbox
    from app.services.merge import Recipient

    client.get(url)
    client.get(url)
    assert len(_calls(sim, "/balance")) == 1
    # A real send: the outbox settles its rows with Core UPDATEs, which no ORM listener sees;
    # it drops the cached balance itself when the gateway accepted the message.
    request = outbox.submit(
        sim_workspace, owner, "dash", outbox.Draft("hi", [Recipient("12025550100")])
    ).request
    outbox.start(request)
    body = client.get(url).get_data(as_text=True)
    assert len(_calls(sim, "/balance")) == 2
    message = request.messages[0]
    assert f"{url}/messages/history/{message.id}" in body and f"{url}/messages/history" in body


def test_compose_and_its_live_panel_read_the_cached_balance(client, sim, owner, url):
    """Typing in compose must not cost a gateway call per pause; the review still asks."""
    client.get(url)  # the dashboard fills the cache
    client.get(f"{url}/messages/compose")
    answer = client.post(
        f"{url}/messages/panel", data={"text": "Hi", "numbers": "+12025550100"}, headers=HX
    )
    assert answer.status_code == 200 and len(_calls(sim, "/balance")) == 1
