"""Compose → review → send in the browser's shape: a replayed POST sends nothing more."""

from __future__ import annotations

import re

from app.models import SendRequest
from tests.conftest import HX
from tests.factories import login

KEY = re.compile(r'name="send_key" type="hidden" value="([0-9a-f]+)"')


def form_data(key, **extra):
    data = {
        "send_key": key,
        "type": "plain",
        "numbers": "+1 555 010 0001\n15550100002, bad",
        "text": "Hello {first_name|there}" if extra.pop("merge", False) else "Hello team",
    }
    data.update(extra)
    return data


def test_compose_review_send_and_replay(client, sim_workspace, sim, gateway_token):
    owner = sim_workspace.memberships[0].user
    login(client, owner)
    base = f"/w/{sim_workspace.id}/messages"
    page = client.get(f"{base}/compose")
    assert page.status_code == 200
    key = KEY.search(page.get_data(as_text=True)).group(1)
    panel = client.post(f"{base}/panel", data=form_data(key), headers=HX)
    assert panel.status_code == 200 and "GSM_7BIT" in panel.get_data(as_text=True)
    review = client.post(f"{base}/review", data=form_data(key))
    assert review.status_code == 200
    assert "bad" in review.get_data(as_text=True)  # the invalid number is listed
    first = client.post(f"{base}/send", data=form_data(key))
    assert first.status_code == 303
    again = client.post(f"{base}/send", data=form_data(key))
    assert again.status_code == 303 and again.location == first.location
    assert len(sim.control.sends(gateway_token)) == 2
    status = client.get(first.location)
    assert status.status_code == 200 and owner.email in status.get_data(as_text=True)
    other = client.post(f"{base}/send", data=form_data(key, text="Different"))
    assert other.status_code == 422
    assert len(sim.control.sends(gateway_token)) == 2
    assert SendRequest.query.count() == 1


def test_send_refused_when_balance_cannot_cover(client, sim_workspace, sim, gateway_token):
    sim.control.update_account(gateway_token, balance=1)
    login(client, sim_workspace.memberships[0].user)
    response = client.post(f"/w/{sim_workspace.id}/messages/send", data=form_data("k" * 32))
    assert response.status_code == 422
    assert sim.control.sends(gateway_token) == []


def test_sender_id_warning(client, sim_workspace):
    login(client, sim_workspace.memberships[0].user)
    data = form_data("k" * 32, sender_id="Way Too Long Sender")
    panel = client.post(f"/w/{sim_workspace.id}/messages/panel", data=data, headers=HX)
    assert "neither a phone number" in panel.get_data(as_text=True)


def test_a_send_without_a_key_is_refused(client, sim_workspace, sim, gateway_token):
    login(client, sim_workspace.memberships[0].user)
    for key in ("", "k" * 65):
        response = client.post(f"/w/{sim_workspace.id}/messages/send", data=form_data(key))
        assert response.status_code == 422
        assert "no valid send key" in response.get_data(as_text=True)
    assert sim.control.sends(gateway_token) == []
