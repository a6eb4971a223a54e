"""Scheduled sends: schedule from the form, list, edit, cancel, and send a missed one now."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.models import SendRequest
from app.models.outbox import CANCELLED, DONE, MISSED, SCHEDULED
from app.models.types import utcnow
from app.permissions import Role
from app.services import outbox, scheduling
from app.services.merge import Recipient
from tests.factories import add_member, login, make_user, make_workspace
from tests.web.test_messages_send import form_data


@pytest.fixture
def owner(client, sim_workspace):
    user = sim_workspace.memberships[0].user
    login(client, user)
    return user


@pytest.fixture
def url(sim_workspace):
    return f"/w/{sim_workspace.id}/messages/scheduled"


def _schedule(workspace, user, key="s1", minutes=60, text="Doors open at nine"):
    when = utcnow() + timedelta(minutes=minutes)
    draft = outbox.Draft(
        text=text, recipients=[Recipient("15550100001")], scheduled_for=when, timezone="UTC"
    )
    return outbox.submit(workspace, user, key, draft).request


def test_schedule_from_the_form_then_list(client, owner, url, sim_workspace, sim, gateway_token):
    when = (utcnow() + timedelta(days=1)).replace(hour=9, minute=30)
    data = form_data(
        "a" * 32, numbers="+1 555 010 0001", send_on=when.date().isoformat(), send_at="09:30"
    )
    review = client.post(f"/w/{sim_workspace.id}/messages/review", data=data)
    assert review.status_code == 200 and "Schedule</button>" in review.get_data(as_text=True)
    response = client.post(f"/w/{sim_workspace.id}/messages/send", data=data)
    assert response.status_code == 303
    request = SendRequest.query.one()
    assert request.state == SCHEDULED
    stored = request.scheduled_for.replace(tzinfo=None)
    assert stored == when.replace(tzinfo=None, second=0, microsecond=0)
    assert sim.control.sends(gateway_token) == []
    page = client.get(url).get_data(as_text=True)
    assert f"{when.date().isoformat()} 09:30" in page and "Hello team" in page
    assert f"{url}/{request.id}/edit" in page


def test_a_time_in_the_past_is_refused(client, owner, sim_workspace):
    data = form_data("b" * 32, send_on="2001-01-01", send_at="09:00")
    response = client.post(f"/w/{sim_workspace.id}/messages/review", data=data)
    assert response.status_code == 422
    assert "already passed" in response.get_data(as_text=True)


def test_edit_a_scheduled_send(client, owner, url, sim_workspace, sim, gateway_token):
    request = _schedule(sim_workspace, owner)
    edit_url = f"{url}/{request.id}/edit"
    form = client.get(edit_url)
    assert form.status_code == 200 and "Doors open at nine" in form.get_data(as_text=True)
    later = utcnow() + timedelta(days=2)
    past = client.post(edit_url, data={"text": "New", "send_on": "2001-01-01", "send_at": "09:00"})
    assert past.status_code == 422 and "already passed" in past.get_data(as_text=True)
    data = {"text": "Doors open at ten", "send_on": later.date().isoformat(), "send_at": "10:00"}
    response = client.post(edit_url, data=data)
    assert response.status_code == 303 and response.location.endswith(url)
    request = SendRequest.query.one()
    assert request.text == "Doors open at ten" and request.state == SCHEDULED
    assert request.scheduled_for.date() == later.date()
    assert [m.text for m in request.messages] == ["Doors open at ten"]
    assert "Scheduled send updated." in client.get(url).get_data(as_text=True)
    assert sim.control.sends(gateway_token) == []


def test_cancel_a_scheduled_send(client, owner, url, sim_workspace, sim, gateway_token):
    request = _schedule(sim_workspace, owner)
    response = client.post(f"{url}/{request.id}/cancel")
    assert response.status_code == 303
    request = SendRequest.query.one()
    assert request.state == CANCELLED and request.messages[0].state == CANCELLED
    page = client.get(url).get_data(as_text=True)
    assert "nothing was sent" in page and "Nothing is scheduled." in page
    again = client.post(f"{url}/{request.id}/cancel", follow_redirects=True)
    assert "already gone out or was cancelled" in again.get_data(as_text=True)
    edit = client.get(f"{url}/{request.id}/edit", follow_redirects=True)
    assert "already gone out or was cancelled" in edit.get_data(as_text=True)
    assert scheduling.dispatch_due(now=utcnow() + timedelta(hours=2)) == []
    assert sim.control.sends(gateway_token) == []


def test_send_a_missed_send_now(client, owner, url, sim_workspace, sim, gateway_token):
    request = _schedule(sim_workspace, owner, minutes=1)
    assert scheduling.dispatch_due(now=utcnow() + timedelta(minutes=30)) == []
    assert SendRequest.query.one().state == MISSED
    page = client.get(url).get_data(as_text=True)
    assert "Missed: not sent at its time — No worker was running at the scheduled time." in page
    assert f"{request.id}/send-now" in page
    assert f"{url}/{request.id}/edit" not in page
    response = client.post(f"{url}/{request.id}/send-now")
    assert response.status_code == 303
    assert response.location.endswith(f"/messages/sends/{request.id}")
    again = client.post(f"{url}/{request.id}/send-now", follow_redirects=True)
    assert "no longer waiting for a decision" in again.get_data(as_text=True)
    assert len(sim.control.sends(gateway_token)) == 1
    request = SendRequest.query.one()
    assert request.state == DONE and request.messages[0].state == "accepted"


def test_viewers_see_the_list_but_cannot_change_it(client, sim_workspace, url):
    request = _schedule(sim_workspace, sim_workspace.memberships[0].user)
    login(client, add_member(sim_workspace, make_user(), Role.VIEWER))
    page = client.get(url)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Doors open at nine" in body and "/cancel" not in body and "/edit" not in body
    assert client.get(f"{url}/{request.id}/edit").status_code == 403
    assert client.post(f"{url}/{request.id}/cancel").status_code == 403
    assert client.post(f"{url}/{request.id}/send-now").status_code == 403
    assert SendRequest.query.one().state == SCHEDULED


def test_schedules_of_another_workspace_are_not_found(client, owner, url):
    stranger = make_workspace(make_user())
    theirs = _schedule(stranger, stranger.memberships[0].user, text="Their secret")
    assert "Their secret" not in client.get(url).get_data(as_text=True)
    assert client.get(f"{url}/{theirs.id}/edit").status_code == 404
    assert client.post(f"{url}/{theirs.id}/cancel").status_code == 404
    assert client.post(f"{url}/{theirs.id}/send-now").status_code == 404
    assert SendRequest.query.one().state == SCHEDULED


def test_the_send_page_of_a_scheduled_send_offers_edit_and_cancel(client, sim_workspace, url):
    owner = sim_workspace.memberships[0].user
    request = _schedule(sim_workspace, owner)
    status_url = f"/w/{sim_workspace.id}/messages/sends/{request.id}"
    login(client, owner)
    page = client.get(status_url).get_data(as_text=True)
    assert "Scheduled" in page and f"{url}/{request.id}/edit" in page
    assert f"{url}/{request.id}/cancel" in page and "hx-trigger" not in page  # nothing to poll
    client.post(f"{url}/{request.id}/cancel")
    page = client.get(status_url).get_data(as_text=True)
    assert "Cancelled" in page and f"{url}/{request.id}/edit" not in page
    login(client, add_member(sim_workspace, make_user(), Role.VIEWER))
    assert "/cancel" not in client.get(status_url).get_data(as_text=True)
