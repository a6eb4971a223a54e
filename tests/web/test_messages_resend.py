"""Resending an `unknown` message: only after a confirmation, as a new linked request, once."""

from __future__ import annotations

import threading

import pytest

from app.models import AuditEvent, OutboxMessage, SendRequest
from app.models.outbox import ACCEPTED, UNKNOWN
from app.permissions import Role
from tests.factories import add_member, login, make_user
from tests.web.test_messages_send import form_data


@pytest.fixture
def owner(client, sim_workspace):
    user = sim_workspace.memberships[0].user
    login(client, user)
    return user


@pytest.fixture
def lost(client, owner, sim_workspace, sim, gateway_token):
    """A send the gateway processed and then reset: its message is `unknown`."""
    sim.control.add_fault("reset_after", path="/sms/send", times=1)
    data = form_data("c" * 32, numbers="+1 555 010 0001")
    response = client.post(f"/w/{sim_workspace.id}/messages/send", data=data)
    assert response.status_code == 303
    message = OutboxMessage.query.one()
    assert message.state == UNKNOWN
    assert len(sim.control.sends(gateway_token)) == 1
    return message


def _urls(workspace, message):
    base = f"/w/{workspace.id}/messages"
    return f"{base}/sends/{message.request_id}", f"{base}/outbox/{message.id}/resend"


def test_unknown_is_shown_and_resent_only_after_confirmation(
    client, sim_workspace, lost, sim, gateway_token
):
    status_url, resend_url = _urls(sim_workspace, lost)
    status = client.get(status_url).get_data(as_text=True)
    assert "Delivery status unknown for 1 message:" in status and resend_url in status
    confirm = client.get(resend_url)
    assert confirm.status_code == 200
    assert "may already have received this message" in confirm.get_data(as_text=True)
    assert len(sim.control.sends(gateway_token)) == 1  # asking is not sending

    assert client.post(resend_url, csrf=False).status_code == 400
    response = client.post(resend_url)
    assert response.status_code == 303
    new = SendRequest.query.filter(SendRequest.id != lost.request_id).one()
    assert response.location.endswith(f"/messages/sends/{new.id}")
    [message] = new.messages
    assert message.resend_of_id == lost.id and message.state == ACCEPTED
    assert message.phone == lost.phone and message.text == lost.text
    assert len(sim.control.sends(gateway_token)) == 2
    assert OutboxMessage.query.filter_by(id=lost.id).one().state == UNKNOWN
    assert AuditEvent.query.filter_by(action="message.resent").count() == 1

    again = client.post(resend_url)  # a double submit of the confirmation
    assert again.status_code == 303 and again.location == response.location
    assert len(sim.control.sends(gateway_token)) == 2
    assert SendRequest.query.count() == 2


def test_concurrent_confirmations_send_once(app, client, sim_workspace, lost, sim, gateway_token):
    _status_url, resend_url = _urls(sim_workspace, lost)
    sim.control.configure(latency_ms=300)
    token = client.csrf_token()
    answers = []

    def post():
        answers.append(client.post(resend_url, data={"csrf_token": token}).status_code)

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(answers)) == [303]
    assert len(sim.control.sends(gateway_token)) == 2
    assert SendRequest.query.count() == 2


def test_only_unknown_messages_can_be_resent(client, owner, sim_workspace, sim, gateway_token):
    client.post(f"/w/{sim_workspace.id}/messages/send", data=form_data("d" * 32))
    accepted = OutboxMessage.query.first()
    assert accepted.state == ACCEPTED
    status_url, resend_url = _urls(sim_workspace, accepted)
    assert resend_url not in client.get(status_url).get_data(as_text=True)
    confirm = client.get(resend_url)
    assert confirm.status_code == 303 and confirm.location.endswith(status_url)
    response = client.post(resend_url, follow_redirects=True)
    assert "Only a message whose outcome is unknown" in response.get_data(as_text=True)
    assert len(sim.control.sends(gateway_token)) == 2  # the two numbers of the first send
    assert SendRequest.query.count() == 1


def test_viewers_cannot_resend(client, sim_workspace, lost, sim, gateway_token):
    status_url, resend_url = _urls(sim_workspace, lost)
    login(client, add_member(sim_workspace, make_user(), Role.VIEWER))
    status = client.get(status_url)
    assert status.status_code == 200 and resend_url not in status.get_data(as_text=True)
    assert client.get(resend_url).status_code == 403
    assert client.post(resend_url).status_code == 403
    assert len(sim.control.sends(gateway_token)) == 1
