"""Issue 12, items 23, 33, 34, 37, 38: no send is stranded, lost, or sent twice.

A send whose token was cleared fails with its reason (23); rows left `sending` by a dead
process become `unknown` in the periodic sweep, unless a live job item holds them (34); a
request stored by a process that died before the gateway call (or before its job was woken)
goes out once when the sweeper runs (33); a runner that meets a database blip queues itself
again (37); a job whose consumer cannot decrypt the token says so (38).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.exceptions import ServiceUnavailableError
from app.extensions import db
from app.jobs import drain, sweep_once
from app.models import GoToneSettings, Job, JobItem, OutboxMessage
from app.models import jobs as job_states
from app.models.outbox import ACCEPTED, DONE, FAILED, QUEUED, SENDING, UNKNOWN, SendRequest
from app.models.types import utcnow
from app.services import gotone, outbox, scheduling
from app.services import jobs as jobs_service
from app.services.merge import Recipient
from tests.services.test_outbox import NUMBERS, draft

PERSONAL = "Hi {first_name|there}"


def _people(n: int) -> list[Recipient]:
    return [Recipient(NUMBERS[i], f"P{i}") for i in range(n)]


def _states(request_id: int) -> set[str]:
    db.session.expire_all()
    return {m.state for m in db.session.get(SendRequest, request_id).messages}


def _age(request_id: int, seconds: float) -> None:
    """Make the request's rows and dispatch look `seconds` old (a process that died then)."""
    then = utcnow() - timedelta(seconds=seconds)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.request_id == request_id)
        .values(attempted_at=then, updated_at=then)
    )
    db.session.execute(
        update(SendRequest).where(SendRequest.id == request_id).values(dispatched_at=then)
    )
    db.session.commit()


# -- 23: the token was cleared ---------------------------------------------------------------
def test_send_job_without_token_fails_with_its_reason(app, workspace, owner, sim, token, run_jobs):
    submitted = outbox.submit(workspace, owner, "no-token-job", draft(PERSONAL, _people(3)))
    gotone.clear_token(workspace, owner)
    outbox.start(submitted.request)
    run_jobs()
    job = db.session.get(Job, submitted.request.job_id)
    assert job.state == job_states.FAILED and "No GoTone API token" in job.error
    assert _states(submitted.request.id) == {FAILED}
    assert db.session.get(SendRequest, submitted.request.id).state == DONE
    assert jobs_service.sweep() == [] and sim.control.sends(token) == []


def test_due_scheduled_send_without_token_leaves_nothing_sending(app, workspace, owner, sim, token):
    when = utcnow() + timedelta(minutes=5)
    request = outbox.submit(
        workspace, owner, "sched", draft(phones=NUMBERS[:2], scheduled_for=when)
    ).request
    gotone.clear_token(workspace, owner)
    assert scheduling.dispatch_due(now=when + timedelta(seconds=1)) == [request.id]
    assert _states(request.id) == {FAILED}
    message = db.session.get(SendRequest, request.id).messages[0]
    assert "No GoTone API token" in message.error
    assert db.session.get(SendRequest, request.id).state == DONE
    assert sim.control.sends(token) == []


def test_resend_without_token_writes_nothing(app, workspace, owner, sim, token):
    request = outbox.submit(workspace, owner, "first", draft()).request
    outbox._mark({NUMBERS[0]: request.messages[0].id}, UNKNOWN, "lost", from_state=QUEUED)
    gotone.clear_token(workspace, owner)
    with pytest.raises(ServiceUnavailableError):
        outbox.resend(workspace, owner, db.session.get(OutboxMessage, request.messages[0].id))
    assert outbox.by_key(workspace, f"resend-{request.messages[0].id}") is None
    assert db.session.scalar(db.select(db.func.count()).select_from(SendRequest)) == 1


# -- 34: rows left `sending` -----------------------------------------------------------------
def test_sweep_turns_abandoned_sending_rows_unknown(app, workspace, owner, sim, token):
    request = outbox.submit(workspace, owner, "died", draft(phones=NUMBERS[:2])).request
    outbox._claim(request.id)  # the process committed `sending`, then died in the call
    fresh = outbox.submit(workspace, owner, "calling", draft(phones=NUMBERS[2:3])).request
    outbox._claim(fresh.id)  # a call still within its deadline
    _age(request.id, 3600)
    sweep_once(app)
    assert _states(request.id) == {UNKNOWN}
    assert db.session.get(SendRequest, request.id).state == DONE
    assert (
        "stopped during the gateway call"
        in db.session.get(SendRequest, request.id).messages[0].error
    )
    assert _states(fresh.id) == {SENDING}
    assert sim.control.sends(token) == []  # nothing was resent


def test_sweep_leaves_rows_of_a_live_job_item(app, workspace, owner, sim, token):
    request = outbox.submit(workspace, owner, "job", draft(PERSONAL, _people(2))).request
    item = jobs_service.claim_item(request.job_id)  # a live lease
    outbox._claim(request.id, seq=item.seq)
    _age(request.id, 3600)
    outbox_rows = {m.seq: m.state for m in db.session.get(SendRequest, request.id).messages}
    assert outbox_rows[item.seq] == SENDING
    sweep_once(app)
    db.session.expire_all()
    rows = {m.seq: m.state for m in db.session.get(SendRequest, request.id).messages}
    assert rows[item.seq] == SENDING  # its worker is still in the call
    # Its lease runs out (the worker died): the next round settles it as unknown.
    db.session.execute(
        update(JobItem)
        .where(JobItem.id == item.id)
        .values(lease_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    sweep_once(app)
    db.session.expire_all()
    rows = {m.seq: m.state for m in db.session.get(SendRequest, request.id).messages}
    assert rows[item.seq] == UNKNOWN


# -- 33: stored, then the process died ------------------------------------------------------
def test_bulk_send_stored_but_never_woken_goes_out_once(app, workspace, owner, sim, token):
    # submit() is the one commit: the request, its messages and its job. The process dies
    # before it queues a runner (no start()); the sweeper's round wakes the job.
    request = outbox.submit(workspace, owner, "crash", draft(PERSONAL, _people(5))).request
    job = db.session.get(Job, request.job_id)
    assert job is not None and job.heartbeat_at is None
    assert drain(app) == 0  # nothing was queued
    sweep_once(app)
    drain(app)
    assert _states(request.id) == {ACCEPTED}
    assert sorted(s["to"] for s in sim.control.sends(token)) == NUMBERS[:5]
    sweep_once(app)
    drain(app)
    assert len(sim.control.sends(token)) == 5


def test_inline_send_stored_but_never_called_goes_out_once(app, workspace, owner, sim, token):
    request = outbox.submit(workspace, owner, "crash-inline", draft(phones=NUMBERS[:3])).request
    sweep_once(app)
    drain(app)
    assert _states(request.id) == {QUEUED}  # too young: its own process may still call
    _age(request.id, 3600)
    sweep_once(app)
    drain(app)
    assert _states(request.id) == {ACCEPTED}
    sweep_once(app)
    drain(app)
    assert sorted(s["to"] for s in sim.control.sends(token)) == NUMBERS[:3]


# -- 38: the consumer cannot decrypt the token ------------------------------------------------
def test_send_job_whose_token_cannot_be_decrypted_says_why(app, workspace, owner, run_jobs):
    request = outbox.submit(workspace, owner, "keys", draft(PERSONAL, _people(2))).request
    settings = db.session.get(GoToneSettings, workspace.id)
    settings.token_enc = "v1:elsewhere:" + settings.token_enc.split(":", 2)[2]
    db.session.commit()
    outbox.start(request)
    run_jobs()
    job = db.session.get(Job, request.job_id)
    assert job.state == job_states.FAILED and "elsewhere" in job.error
    assert _states(request.id) == {FAILED}


# -- 37: a runner meets a database blip -------------------------------------------------------
# The blip is an exclusive SQLite lock held past the busy timeout; `make test-pg` deselects it.
@pytest.mark.sqlite_only
def test_runner_queues_itself_again_after_a_database_blip(
    app, workspace, owner, sim, token, caplog
):
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///"), "an SQLite-only test ran on another database"
    app.config["JOBS_RUNNERS"] = 1  # one runner: nobody else would pick the job up
    request = outbox.submit(workspace, owner, "blip", draft(PERSONAL, _people(2))).request
    outbox.start_job(request)  # its runner is queued, it has not run yet
    locker = sqlite3.connect(uri.removeprefix("sqlite:///"), check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(6.0, locker.rollback)  # past the 5 s busy timeout
    release.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _states(request.id) != {ACCEPTED}:
        drain(app)  # the runner meet "database is locked" after 5 s
        time.sleep(0.2)
    release.join()
    locker.close()
    assert _states(request.id) == {ACCEPTED}
    assert "runner met OperationalError" in caplog.text
    assert len(sim.control.sends(token)) == 2


def test_sweep_wakes_a_silent_job_before_its_lease(app, workspace, owner):
    request = outbox.submit(workspace, owner, "silent", draft(PERSONAL, _people(2))).request
    silent = app.config["JOBS_STALL_SECONDS"] + 1
    assert silent < app.config["JOBS_LEASE_SECONDS"]
    db.session.execute(
        update(Job)
        .where(Job.id == request.job_id)
        .values(heartbeat_at=utcnow() - timedelta(seconds=silent))
    )
    db.session.commit()
    assert jobs_service.sweep() == [request.job_id]
    assert jobs_service.sweep() == []  # woken once per round


def test_concurrent_sweepers_give_an_orphan_one_job_and_send_it_once(
    app, workspace, owner, sim, token
):
    request = outbox.submit(workspace, owner, "orphan", draft(phones=NUMBERS[:3])).request
    _age(request.id, 3600)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def sweeper() -> None:
        with app.app_context():
            try:
                barrier.wait()
                sweep_once(app)
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    jobs = db.session.scalars(db.select(Job).where(Job.kind == outbox.SEND_JOB)).all()
    assert len(jobs) == 1 and db.session.get(SendRequest, request.id).job_id == jobs[0].id
    drain(app)
    assert _states(request.id) == {ACCEPTED}
    assert sorted(s["to"] for s in sim.control.sends(token)) == NUMBERS[:3]
