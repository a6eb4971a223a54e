"""Every gateway failure on the groups and contacts screens: the right status, never a 500.

Faults are injected through the simulator's control API; the client's timeout is short here
(see _timeout_for).
"""

from __future__ import annotations

import pytest

from app.extensions import db as _db
from app.permissions import Role
from app.services import gotone
from tests.conftest import HX
from tests.factories import add_member, login, make_user

FAULTS = [
    ({"mode": "status", "status": 500}, 502),
    ({"mode": "status", "status": 503}, 502),
    ({"mode": "reset_before"}, 502),
    ({"mode": "hang", "delay_ms": 2500}, 504),
    ({"mode": "too_many_attempts"}, 503),
    ({"mode": "malformed_json"}, 502),
    ({"mode": "html_200"}, 502),
    ({"mode": "empty"}, 502),
    ({"mode": "wrong_shape"}, 502),
    ({"mode": "huge"}, 502),
]


def _timeout_for(app, fault):
    """1 s for a hang (waited out); 5 s otherwise, so that a fast fault answered late by a
    loaded machine is still judged by its answer, not by the deadline."""
    app.config["GOTONE_TIMEOUT"] = 1.0 if fault["mode"] == "hang" else 5.0


@pytest.fixture
def app(make_app):
    app = make_app(GOTONE_TIMEOUT=1.0)
    with app.app_context():
        yield app
        _db.session.remove()


@pytest.fixture
def screens(client, sim_workspace, sim, gateway_token):
    login(client, sim_workspace.memberships[0].user)
    seeded = sim.control.seed_group(gateway_token, "Friends", [{"phone": "12025550100"}])
    base = f"/w/{sim_workspace.id}/groups"
    group = f"{base}/{seeded['uid']}"
    contact = f"{group}/contacts/{seeded['contact_uids'][0]}"
    return {
        "groups": base,
        "group": group,
        "rename": f"{group}/edit",
        "confirm": f"{group}/delete",
        "contact": contact,
        "contact_editor": f"{contact}/edit",
        "group_uid": seeded["uid"],
        "contact_uid": seeded["contact_uids"][0],
    }


@pytest.mark.parametrize("fault, status", FAULTS, ids=[f["mode"] + str(s) for f, s in FAULTS])
@pytest.mark.parametrize(
    "screen", ["groups", "group", "rename", "confirm", "contact", "contact_editor"]
)
def test_gateway_faults_become_alerts_on_pages_and_fragments(
    app, client, sim, screens, screen, fault, status
):
    _timeout_for(app, fault)
    sim.control.add_fault(times=None, path="^/api/", **fault)
    fragment = client.get(screens[screen], headers=HX)
    page = client.get(screens[screen])
    sim.control.clear_faults()
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == page.status_code == status
    assert 'role="alert"' in body and "<html" not in body
    assert "<html" in page.get_data(as_text=True)
    assert "Try again" in body or "try again" in body
    if status == 503:
        assert int(fragment.headers["Retry-After"]) > 0


@pytest.mark.parametrize("fault, status", FAULTS[:1] + FAULTS[4:6])
def test_gateway_faults_on_writes_become_alerts(app, client, sim, screens, fault, status):
    _timeout_for(app, fault)
    sim.control.add_fault(times=None, path="^/api/", **fault)
    posts = [
        (screens["groups"], {"name": "New"}),
        (screens["group"], {f"edit-{screens['group_uid']}-name": "Renamed"}),
        (screens["group"] + "/delete", {}),
        (screens["group"] + "/contacts", {"phone": "+1 202 555 0111"}),
        (screens["contact"], {f"edit-{screens['contact_uid']}-phone": "+1 202 555 0112"}),
        (screens["contact"] + "/delete", {}),
    ]
    for url, data in posts:
        response = client.post(url, data=data, headers=HX)
        assert response.status_code == status, url
        assert 'role="alert"' in response.get_data(as_text=True)


def _refuse_token(workspace):
    owner = workspace.memberships[0].user
    gotone.set_token(workspace, owner, "99|a-token-the-gateway-does-not-know")


@pytest.mark.parametrize(
    "role, link", [(Role.ADMIN, True), (Role.MEMBER, False), (Role.VIEWER, False)]
)
def test_a_refused_token_shows_a_banner_admins_get_the_settings_link(
    client, sim_workspace, screens, role, link
):
    _refuse_token(sim_workspace)
    login(client, add_member(sim_workspace, make_user(), role))
    settings = f"/w/{sim_workspace.id}/settings#token-panel"
    for headers in ({}, HX):
        response = client.get(screens["groups"], headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code == 502
        assert "GoTone refused this workspace&#39;s API token." in body
        assert (settings in body) is link
        assert ("Ask an admin of this workspace" in body) is not link


def test_no_token_at_all_is_a_503_with_the_reason(client, sim_workspace, screens):
    gotone.clear_token(sim_workspace, sim_workspace.memberships[0].user)
    response = client.get(screens["group"])
    assert response.status_code == 503 and "No GoTone API token" in response.get_data(as_text=True)


def test_a_gateway_permission_refusal_is_explained(client, sim, gateway_token, screens):
    sim.control.update_account(gateway_token, abilities=[])
    response = client.get(screens["groups"], headers=HX)
    assert response.status_code == 502 and 'role="alert"' in response.get_data(as_text=True)
