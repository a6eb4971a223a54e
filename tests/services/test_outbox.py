"""The outbox: one gateway send per recipient whatever is replayed, ambiguous failures stay
`unknown`, big sends go in ≤100 chunks as a job, estimates equal the simulator's charge."""

from __future__ import annotations

import pytest

from app.models.outbox import ACCEPTED, DONE, FAILED, UNKNOWN
from app.services import outbox
from app.services.compose import estimate
from app.services.merge import Recipient

NUMBERS = [f"15550100{i:03d}" for i in range(1, 400)]


def draft(text="Hello from the portal", phones=("15550100001",), **fields):
    people = [p if isinstance(p, Recipient) else Recipient(p) for p in phones]
    return outbox.Draft(text=text, recipients=people, **fields)


def send_calls(sim):
    return [r for r in sim.control.requests() if r["path"].endswith("/sms/send")]


def test_same_key_twice_sends_once(workspace, owner, sim, token):
    first = outbox.submit(workspace, owner, "k1", draft(phones=NUMBERS[:2]))
    outbox.start(first.request)
    again = outbox.submit(workspace, owner, "k1", draft(phones=NUMBERS[:2]))
    assert again.replayed and again.request.id == first.request.id
    outbox.start(again.request)
    assert len(sim.control.sends(token)) == 2  # one report per recipient
    assert {m.state for m in first.request.messages} == {ACCEPTED}
    assert first.request.state == DONE


def test_same_key_other_payload_is_refused(workspace, owner, sim, token):
    outbox.submit(workspace, owner, "k1", draft())
    with pytest.raises(outbox.KeyReusedError):
        outbox.submit(workspace, owner, "k1", draft(text="Something else"))
    assert sim.control.sends(token) == []


@pytest.mark.parametrize("mode", ["reset_after", "hang_after"])
def test_ambiguous_failure_is_unknown_and_never_resent(app, workspace, owner, sim, token, mode):
    app.config["GOTONE_TIMEOUT"] = 1.0
    sim.control.add_fault(mode, path="/sms/send", delay_ms=3000)
    submitted = outbox.submit(workspace, owner, "k1", draft())
    outbox.start(submitted.request)
    message = submitted.request.messages[0]
    assert message.state == UNKNOWN and message.error
    assert len(sim.control.sends(token)) == 1
    # Replaying the form and starting again sends nothing more.
    outbox.start(outbox.submit(workspace, owner, "k1", draft()).request)
    assert len(sim.control.sends(token)) == 1


def test_connection_refused_is_retried_then_failed(app, workspace, owner, monkeypatch):
    from app.services import gotone

    monkeypatch.setattr(outbox.sending, "INLINE_BACKOFF", (0, 0))
    settings = gotone.get_settings(workspace)
    settings.base_url = "http://127.0.0.1:9/api/v3"
    from app.extensions import db

    db.session.commit()
    submitted = outbox.submit(workspace, owner, "k1", draft())
    outbox.start(submitted.request)
    message = submitted.request.messages[0]
    assert message.state == FAILED and message.attempts == outbox.INLINE_ATTEMPTS


def test_resend_after_confirmation_creates_a_linked_row(workspace, owner, sim, token):
    sim.control.add_fault("reset_after", path="/sms/send")
    submitted = outbox.submit(workspace, owner, "k1", draft())
    outbox.start(submitted.request)
    lost = submitted.request.messages[0]
    again = outbox.resend(workspace, owner, lost)
    twice = outbox.resend(workspace, owner, lost)  # a double click on "Resend"
    assert twice.request.id == again.request.id
    new = again.request.messages[0]
    assert new.resend_of_id == lost.id and new.state == ACCEPTED
    assert len(sim.control.sends(token)) == 2


def test_250_recipients_go_in_three_calls(workspace, owner, sim, token, run_jobs):
    submitted = outbox.submit(workspace, owner, "big", draft(phones=NUMBERS[:250]))
    outbox.start(submitted.request)
    assert submitted.request.job_id is not None
    run_jobs()
    calls = send_calls(sim)
    assert len(calls) == 3
    states = {m.state for m in submitted.request.messages}
    assert states == {ACCEPTED}
    assert len(sim.control.sends(token)) == 250


def test_personalised_send_renders_each_recipient(workspace, owner, sim, token, run_jobs):
    people = [Recipient(NUMBERS[0], "Ana"), Recipient(NUMBERS[1], "")]
    submitted = outbox.submit(workspace, owner, "p", draft("Hi {first_name|there}!", people))
    outbox.start(submitted.request)
    run_jobs()
    texts = sorted(m.text for m in submitted.request.messages)
    assert texts == ["Hi Ana!", "Hi there!"]
    assert {m.state for m in submitted.request.messages} == {ACCEPTED}
    assert len(send_calls(sim)) == 2


@pytest.mark.parametrize(
    "text",
    [
        "Plain GSM text",
        "Extended {braces} and [brackets] cost two septets " * 4,
        "Unicode 你好 forces UCS-2 " * 3,
        "Hi {first_name|friend}, 你好 {last_name}",
    ],
)
def test_estimate_equals_the_simulators_charge(workspace, owner, sim, token, run_jobs, text):
    people = [Recipient(NUMBERS[0], "Bartholomew", "Zé"), Recipient(NUMBERS[1], "", "")]
    expected = estimate(text, "plain", people).units
    before = sim.control.balance(token)
    submitted = outbox.submit(workspace, owner, "e", draft(text, people))
    outbox.start(submitted.request)
    run_jobs()
    assert {m.state for m in submitted.request.messages} == {ACCEPTED}
    assert before - sim.control.balance(token) == expected
    assert submitted.request.units == expected
