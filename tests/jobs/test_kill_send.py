"""T5: a consumer killed with SIGKILL part way through a 1,000-message personalised send.

Same harness as the import kill test (tests/jobs/test_kill.py): a real `python -m app.worker`
subprocess on the test's database and queue, the simulator answering after 10 ms. Afterwards
every message is final, no recipient got the message twice, none was lost (each one either
reached the gateway and is `accepted`, or is `unknown` because the consumer died during its
call), and there are at most as many `unknown` as the consumer had threads.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest

from app.extensions import db
from app.models import OutboxMessage
from app.models import jobs as job_states
from app.models.outbox import ACCEPTED, DONE, UNKNOWN
from app.services import outbox
from app.services.merge import Recipient
from tests.factories import make_user, make_workspace
from tests.jobs.conftest import TOKEN
from tests.jobs.test_kill import JOB_SETTINGS, Consumer, _job, _queue_backend, _wait_for

WORKER_THREADS = 4  # Consumer starts `python -m app.worker --workers 4`


def kill_mid_send(make_app, sim, tmp_path, figures, count: int, deadline: float) -> None:
    app_extra, env_extra = _queue_backend()
    app = make_app(**JOB_SETTINGS, **app_extra)
    with app.app_context():
        token = sim.control.create_account(token=TOKEN, balance=count * 5)
        sim.control.configure(latency_ms=10, rate_limit=1_000_000)
        owner = make_user()
        workspace = make_workspace(owner, base_url=sim.api_url("v3"), token=token)
        people = [Recipient(f"1202{6_000_000 + n:07d}", f"Name{n}") for n in range(count)]
        draft = outbox.Draft(text="Hello {first_name|there}, doors open at nine", recipients=people)
        request = outbox.submit(workspace, owner, "kill-send", draft).request
        consumer = Consumer(app, env_extra, tmp_path / "consumer.log")
        started = time.monotonic()
        outbox.start(request)  # creates the job and wakes it; nothing runs in this process
        consumer.start()
        try:
            job_id = request.job_id
            _wait_for(job_id, lambda j: j.processed >= count * 0.4, 120, consumer)
            consumer.kill()
            killed_at = _job(job_id).processed
            assert killed_at < count, "the send finished before the kill"
            time.sleep(0.5)
            consumer.start()
            job = _wait_for(job_id, lambda j: j.state == job_states.DONE, deadline, consumer)
        finally:
            consumer.stop()
            if app_extra:
                app.extensions["huey"].flush()  # the test's own Redis queue
        elapsed = time.monotonic() - started

        db.session.expire_all()
        rows = db.session.scalars(
            db.select(OutboxMessage).where(OutboxMessage.request_id == request.id)
        ).all()
        db.session.commit()
        states = Counter(row.state for row in rows)
        sent = Counter(s["to"] for s in sim.control.sends(token))
        repeated = sum(n - 1 for n in sent.values() if n > 1)
        accepted = {row.phone for row in rows if row.state == ACCEPTED}
        unknown = {row.phone for row in rows if row.state == UNKNOWN}

        assert len(rows) == count and job.state == job_states.DONE
        assert set(states) <= {ACCEPTED, UNKNOWN}, states  # every row final, none failed
        assert repeated == 0, [p for p, n in sent.items() if n > 1]
        assert accepted <= set(sent)  # accepted means the gateway has it, once
        assert set(sent) <= accepted | unknown  # the gateway sent nothing the portal lost
        assert len(unknown) <= WORKER_THREADS, unknown
        assert db.session.get(type(request), request.id).state == DONE
        texts = {s["to"]: s["message"] for s in sim.control.sends(token)}
        assert texts[people[0].phone] == "Hello Name0, doors open at nine"
        figures(
            "T5",
            f"{count} personalised messages, SIGKILL at {killed_at}/{count}, done in "
            f"{elapsed:.1f} s: {states[ACCEPTED]} accepted, {states[UNKNOWN]} unknown "
            f"(≤ {WORKER_THREADS} threads), {repeated} duplicates, "
            f"{count - states[ACCEPTED] - states[UNKNOWN]} lost",
        )


# About 30 s on an idle 2-core machine; the limits leave room for a loaded CI run.
@pytest.mark.timeout(400)
def test_sigkill_mid_personalised_send_duplicates_and_loses_nothing(
    make_app, sim, tmp_path, figures
):
    kill_mid_send(make_app, sim, tmp_path, figures, count=1_000, deadline=240)


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_sigkill_mid_personalised_send_of_10000(make_app, sim, tmp_path, figures):
    kill_mid_send(make_app, sim, tmp_path, figures, count=10_000, deadline=600)
