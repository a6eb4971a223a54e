"""Issue 12 item 34: a consumer killed (SIGKILL) during the gateway call of a due scheduled
plain send (an inline send, no job) leaves its rows `sending`; the periodic sweep settles them
as `unknown` once the call's deadline has passed, and nothing sends them again.

Same harness as tests/jobs/test_kill.py: a real `python -m app.worker` on the test's database.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import update

from app.extensions import db
from app.jobs import drain, sweep_once
from app.models import OutboxMessage
from app.models.outbox import DONE, SENDING, UNKNOWN, SendRequest
from app.models.types import utcnow
from app.services import outbox
from app.services.merge import Recipient
from tests.factories import make_user, make_workspace
from tests.jobs.conftest import TOKEN
from tests.jobs.test_kill import JOB_SETTINGS, Consumer, _queue_backend


def _states(request_id: int) -> set[str]:
    db.session.expire_all()
    states = {m.state for m in db.session.get(SendRequest, request_id).messages}
    db.session.commit()  # end the read transaction: the consumer writes meanwhile
    return states


def test_consumer_killed_mid_call_of_a_scheduled_send_ends_unknown(make_app, sim, tmp_path):
    app_extra, env_extra = _queue_backend()
    app = make_app(**JOB_SETTINGS, **app_extra)
    with app.app_context():
        token = sim.control.create_account(token=TOKEN, balance=100)
        # The gateway takes the send, then holds the answer far longer than the test waits.
        sim.control.add_fault("hang_after", path="/sms/send", delay_ms=20_000, times=1)
        owner = make_user()
        workspace = make_workspace(owner, base_url=sim.api_url("v3"), token=token)
        people = [Recipient("12025550101"), Recipient("12025550102")]
        when = utcnow() + timedelta(seconds=1)
        draft = outbox.Draft(text="Doors open at nine", recipients=people, scheduled_for=when)
        request = outbox.submit(workspace, owner, "kill-inline", draft).request
        consumer = Consumer(app, env_extra, tmp_path / "consumer.log")
        consumer.start()  # its sweeper dispatches the due send: an inline call that hangs
        try:
            deadline = time.monotonic() + 60
            while _states(request.id) != {SENDING} or not sim.control.sends(token):
                assert time.monotonic() < deadline, consumer.log.read_text()[-3000:]
                assert consumer.proc.poll() is None, consumer.log.read_text()[-3000:]
                time.sleep(0.05)
            consumer.kill()  # mid-call
        finally:
            consumer.stop()
        sent = len(sim.control.sends(token))
        assert sent == 2 and _states(request.id) == {SENDING}

        sweep_once(app)  # within the call's deadline: its process might still answer
        assert _states(request.id) == {SENDING}
        # Past the gateway's deadline plus the margin (here: the rows are made that old).
        old = utcnow() - timedelta(hours=1)
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.request_id == request.id)
            .values(attempted_at=old)
        )
        db.session.commit()
        sweep_once(app)
        drain(app)
        assert _states(request.id) == {UNKNOWN}
        assert db.session.get(SendRequest, request.id).state == DONE
        sweep_once(app)
        drain(app)
        assert len(sim.control.sends(token)) == sent  # never sent again without a member
        if app_extra:
            app.extensions["huey"].flush()
