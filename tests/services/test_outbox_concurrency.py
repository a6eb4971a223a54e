"""T1: the same send submitted 20 times at once with one key sends once per recipient."""

from __future__ import annotations

import threading

from app.extensions import db
from app.models import SendRequest, User, Workspace
from app.models.outbox import ACCEPTED
from app.services import outbox
from tests.services.test_outbox import NUMBERS, draft


def test_twenty_concurrent_submits_send_once(app, workspace, owner, sim, token, figures):
    sim.control.configure(latency_ms=300)
    workspace_id, owner_id = workspace.id, owner.id
    barrier = threading.Barrier(20)
    outcomes, errors = [], []

    def submit_once():
        barrier.wait(30)  # before any database access: no connection held while waiting
        with app.app_context():
            try:
                ws = db.session.get(Workspace, workspace_id)
                actor = db.session.get(User, owner_id)
                submitted = outbox.submit(
                    ws, actor, "same-key", draft(phones=NUMBERS[:3]), wait=outbox.IN_FLIGHT_WAIT
                )
                if not submitted.replayed:
                    outbox.start(submitted.request)
                outcomes.append(submitted.replayed)
            except outbox.InFlightError:
                outcomes.append("409")
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit_once) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert outcomes.count(False) == 1 and len(outcomes) == 20
    assert db.session.query(SendRequest).count() == 1
    assert len(sim.control.sends(token)) == 3
    request = db.session.query(SendRequest).one()
    assert {m.state for m in request.messages} == {ACCEPTED}
    figures(
        "T1",
        f"20 concurrent submits of one key: 1 claimed, {outcomes.count(True)} replays, "
        f"{outcomes.count('409')} told to wait; {len(sim.control.sends(token))} "
        "gateway sends for 3 recipients",
    )
