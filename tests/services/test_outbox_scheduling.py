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


def test_schedules_across_a_consumer_outage(workspace, owner, sim, token, figures):
    """Twelve schedules, one every 10 minutes; the dispatcher ticks every minute (twice per
    tick, as two consumers would) except during a 45-minute outage. Injected clock."""
    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=5)
    due = {
        schedule(
            workspace,
            owner,
            f"o{n}",
            start + timedelta(minutes=10 * n),
            phones=(f"1555020{n:04d}",),
        ).id: start + timedelta(minutes=10 * n)
        for n in range(12)
    }
    outage = (start + timedelta(minutes=25), start + timedelta(minutes=70))
    sent_at = {}
    for minute in range(0, 130):
        now = start + timedelta(minutes=minute)
        if outage[0] <= now < outage[1]:
            continue
        for request_id in scheduling.dispatch_due(now=now) + scheduling.dispatch_due(now=now):
            assert request_id not in sent_at, "dispatched twice"
            sent_at[request_id] = now
    requests = {r: outbox.find(workspace, r) for r in due}
    missed = {r for r, req in requests.items() if req.state == MISSED}
    for request_id, when in due.items():
        if when < outage[0] or when >= outage[1]:
            assert sent_at[request_id] - when < timedelta(minutes=1)  # on time
        elif outage[1] - when <= scheduling.GRACE:
            assert sent_at[request_id] == outage[1]  # late, within the grace: sent at restart
        else:
            assert request_id in missed and request_id not in sent_at
    assert len(sim.control.sends(token)) == len(sent_at) == 12 - len(missed)
    late = [r for r in sent_at if sent_at[r] - due[r] >= timedelta(minutes=1)]
    figures(
        "T7",
        f"12 schedules across a 45 min consumer outage (injected clock, 2 dispatchers): "
        f"{len(sent_at) - len(late)} on time, {len(late)} late within the 15 min "
        f"grace, {len(missed)} missed, 0 sent twice",
    )


@pytest.mark.parametrize("change", ["removed", "viewer"])
def test_a_schedule_whose_author_can_no_longer_send_is_held(workspace, owner, sim, token, change):
    from app.extensions import db
    from app.models import Membership
    from app.permissions import Role
    from tests.factories import add_member, make_user

    author = add_member(workspace, make_user(), Role.MEMBER)
    membership = db.session.scalar(
        db.select(Membership).filter_by(workspace_id=workspace.id, user_id=author.id)
    )
    when = utcnow() + timedelta(minutes=10)
    request = schedule(workspace, author, "held", when)
    if change == "removed":
        db.session.delete(membership)
    else:
        membership.role = Role.VIEWER
    db.session.commit()
    assert scheduling.dispatch_due(now=when + timedelta(seconds=20)) == []
    assert sim.control.sends(token) == []
    assert request.state == MISSED and "can no longer send" in request.error
    scheduling.send_missed_now(workspace, owner, request)  # the team decides it still goes
    assert len(sim.control.sends(token)) == 1
