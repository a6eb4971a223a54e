"""T7: scheduled sends go out once at their time, cancelled ones never, overdue ones are missed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.models.outbox import ACCEPTED, CANCELLED, DONE, MISSED, SCHEDULED
from app.models.types import utcnow
from app.services import outbox, scheduling
from tests.services.test_outbox import draft


def schedule(workspace, owner, key, when, **fields):
    return outbox.submit(workspace, owner, key, draft(scheduled_for=when, **fields)).request


def test_a_single_recipient_schedule_goes_out_once_at_its_time(workspace, owner, sim, token):
    when = utcnow() + timedelta(minutes=10)
    request = schedule(workspace, owner, "s1", when)
    assert request.state == SCHEDULED
    assert scheduling.dispatch_due(now=when - timedelta(seconds=1)) == []
    assert sim.control.sends(token) == []
    assert scheduling.dispatch_due(now=when + timedelta(seconds=20)) == [request.id]
    assert scheduling.dispatch_due(now=when + timedelta(seconds=40)) == []
    assert len(sim.control.sends(token)) == 1
    assert request.state == DONE and request.messages[0].state == ACCEPTED


def test_a_cancelled_schedule_never_goes_out(workspace, owner, sim, token):
    when = utcnow() + timedelta(minutes=10)
    request = schedule(workspace, owner, "s1", when)
    scheduling.cancel(workspace, owner, request)
    assert scheduling.dispatch_due(now=when + timedelta(minutes=1)) == []
    assert sim.control.sends(token) == []
    assert request.state == CANCELLED and request.messages[0].state == CANCELLED
    with pytest.raises(scheduling.ScheduleError):
        scheduling.cancel(workspace, owner, request)


def test_an_overdue_schedule_after_downtime_is_missed_not_sent(workspace, owner, sim, token):
    when = utcnow() + timedelta(minutes=10)
    request = schedule(workspace, owner, "s1", when)
    assert scheduling.dispatch_due(now=when + timedelta(minutes=30)) == []
    assert sim.control.sends(token) == []
    assert request.state == MISSED and request.messages[0].state == MISSED
    # A member decides to send it after all.
    scheduling.send_missed_now(workspace, owner, request)
    assert len(sim.control.sends(token)) == 1


def test_an_edited_schedule_sends_the_new_text_at_the_new_time(workspace, owner, sim, token):
    when = utcnow() + timedelta(minutes=10)
    request = schedule(workspace, owner, "s1", when)
    later = when + timedelta(hours=1)
    scheduling.edit(workspace, owner, request, "New text", later)
    assert scheduling.dispatch_due(now=when + timedelta(minutes=1)) == []
    assert scheduling.dispatch_due(now=later) == [request.id]
    sends = sim.control.sends(token)
    assert len(sends) == 1 and "New text" in str(sends[0])


def test_local_time_is_stored_in_utc(workspace):
    from datetime import date, time

    from app.extensions import db
    from app.services.gotone import get_settings

    get_settings(workspace).timezone = "Asia/Manila"
    db.session.commit()
    moment = scheduling.to_utc(workspace, date(2030, 1, 2), time(9, 30))
    assert moment.isoformat() == "2030-01-02T01:30:00+00:00"
