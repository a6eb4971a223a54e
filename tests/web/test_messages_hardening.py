"""Issue 12 items 23c, 24, 33, 35, 38 as a member sees them: clear answers, nothing lost.

Resend without a token answers a clear message and writes nothing (23c); the dashboard shows
the gateway's new balance after a send (24); a bulk send submitted while the job queue
(Redis) is down is stored, answered truthfully, and goes out once when the queue is back
(33, 35); a send job whose token cannot be decrypted shows why on its page (38).
"""

from __future__ import annotations

import socket

import pytest

from app.extensions import db
from app.jobs import drain, init_jobs, sweep_once
from app.models import GoToneSettings, Job, OutboxMessage, SendRequest
from app.models.outbox import ACCEPTED, QUEUED, UNKNOWN
from app.services import gotone, outbox
from app.services.merge import Recipient
from tests.factories import login
from tests.web.test_messages_send import form_data


@pytest.fixture
def owner(client, sim_workspace):
    user = sim_workspace.memberships[0].user
    login(client, user)
    return user


def _flash(client, response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client.get(response.location).get_data(as_text=True)


def test_resend_without_token_says_so_and_keeps_the_key(
    client, owner, sim_workspace, sim, gateway_token
):
    request = outbox.submit(
        sim_workspace, owner, "first", outbox.Draft("Hello", [Recipient("15550100001")])
    ).request
    message = request.messages[0]
    outbox._mark({message.phone: message.id}, UNKNOWN, "lost", from_state=QUEUED)
    gotone.clear_token(sim_workspace, owner)
    url = f"/w/{sim_workspace.id}/messages/outbox/{message.id}/resend"
    page = _flash(client, client.post(url))
    assert "No GoTone API token is set" in page
    assert SendRequest.query.count() == 1  # no request `sending`, the key is still free
    gotone.set_token(sim_workspace, owner, gateway_token)
    assert client.post(url).status_code == 303
    resent = SendRequest.query.filter(SendRequest.id != request.id).one()
    assert [m.state for m in resent.messages] == [ACCEPTED]
    assert len(sim.control.sends(gateway_token)) == 1


def test_dashboard_shows_the_new_balance_after_a_send(
    client, owner, sim_workspace, sim, gateway_token
):
    dashboard = f"/w/{sim_workspace.id}"
    assert "750" in client.get(dashboard).get_data(as_text=True)  # cached now
    response = client.post(f"/w/{sim_workspace.id}/messages/send", data=form_data("b" * 32))
    assert response.status_code == 303
    balance = sim.control.balance(gateway_token)
    assert balance < 750
    body = client.get(dashboard).get_data(as_text=True)
    shown = f"{balance:,.2f}".rstrip("0").rstrip(".") if balance % 1 else f"{int(balance)}"
    assert shown in body and ">750<" not in body


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens on it once closed


def test_bulk_send_during_a_queue_outage_is_stored_and_goes_out_once(
    app, client, owner, sim_workspace, sim, gateway_token
):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{_closed_port()}/0"
    init_jobs(app)  # the job queue is RedisHuey on a port where nothing listens: Redis is down
    data = form_data("q" * 32, merge=True)  # personalised: a job
    page = _flash(client, client.post(f"/w/{sim_workspace.id}/messages/send", data=data))
    assert "Your send is stored (2 recipients) and will go out as soon as the job queue" in page
    assert 'id="send-waiting-queue"' in page
    request = SendRequest.query.one()
    assert request.job_id is not None and {m.state for m in request.messages} == {QUEUED}
    # The member submits again: told the truth, nothing queued twice.
    again = _flash(client, client.post(f"/w/{sim_workspace.id}/messages/send", data=data))
    assert "already queued (2 recipients)" in again and "already sent" not in again
    assert sim.control.sends(gateway_token) == []
    # The sweeper's round cannot wake it either; it says so and tries again next round.
    sweep_once(app)
    db.session.expire_all()
    assert db.session.get(Job, request.job_id).heartbeat_at is None
    # The queue is back (here: the default SQLite queue); the sweeper's round starts the job.
    app.config["REDIS_URL"] = None
    init_jobs(app)
    sweep_once(app)
    drain(app)
    db.session.expire_all()
    assert {m.state for m in OutboxMessage.query} == {ACCEPTED}
    assert len(sim.control.sends(gateway_token)) == 2
    sweep_once(app)
    drain(app)
    assert len(sim.control.sends(gateway_token)) == 2
    done = _flash(client, client.post(f"/w/{sim_workspace.id}/messages/send", data=data))
    assert "This message was already sent; nothing was sent again." in done


def test_send_job_whose_token_cannot_be_decrypted_shows_why(client, owner, sim_workspace):
    settings = db.session.get(GoToneSettings, sim_workspace.id)
    people = [Recipient("15550100001", "Ana"), Recipient("15550100002", "Bo")]
    request = outbox.submit(
        sim_workspace, owner, "keys", outbox.Draft("Hi {first_name}", people)
    ).request
    settings.token_enc = "v1:elsewhere:" + settings.token_enc.split(":", 2)[2]
    db.session.commit()
    outbox.start(request)
    drain(client.application)
    page = client.get(f"/w/{sim_workspace.id}/messages/sends/{request.id}").get_data(as_text=True)
    assert 'id="send-job-error"' in page and "elsewhere" in page
