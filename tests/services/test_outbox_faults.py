"""T3 and T4: what the outbox does with each way a send can fail.

T3: every failure after which the gateway may have processed the call (reset or hang after
processing, 5xx, garbled or empty answers) ends `unknown`, and nothing resends it: not a replay
of the form, not another start, not the job queue. T4: failures that prove the gateway never
got the call (connection refused, `Too Many Attempts.`) are retried and the message goes out
exactly once.
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time

import pytest

from app.extensions import db
from app.models.outbox import ACCEPTED, DONE, UNKNOWN
from app.services import gotone, outbox
from app.services.merge import Recipient
from tests.services.test_outbox import NUMBERS, draft

AMBIGUOUS = [
    {"mode": "reset_after"},
    {"mode": "hang_after", "delay_ms": 3000},
    {"mode": "hang", "delay_ms": 3000},
    {"mode": "status", "status": 500},
    {"mode": "status", "status": 502},
    {"mode": "status", "status": 504},
    {"mode": "malformed_json"},
    {"mode": "html_200"},
    {"mode": "truncated"},
    {"mode": "empty"},
]
_T3: list[str] = []


@pytest.mark.parametrize(
    "fault", AMBIGUOUS, ids=[f["mode"] + str(f.get("status", "")) for f in AMBIGUOUS]
)
@pytest.mark.parametrize("personalised", [False, True], ids=["inline", "job"])
def test_ambiguous_failures_end_unknown_and_are_never_resent(
    app, workspace, owner, sim, token, run_jobs, figures, fault, personalised
):
    app.config["GOTONE_TIMEOUT"] = 1.0
    sim.control.add_fault(path="/sms/send", **fault)
    text = "Hi {first_name|there}" if personalised else "Hi there"
    people = [Recipient(NUMBERS[0], "Ana")]
    submitted = outbox.submit(workspace, owner, "t3", draft(text, people))
    outbox.start(submitted.request)
    run_jobs()
    reached = len(sim.control.sends(token))
    # Everything that could send it again: replay the form, start again, run the queue.
    outbox.start(outbox.submit(workspace, owner, "t3", draft(text, people)).request)
    run_jobs()
    db.session.expire_all()
    message = submitted.request.messages[0]
    calls = [r for r in sim.control.requests() if r["path"].endswith("/sms/send")]
    assert message.state == UNKNOWN and message.error
    assert len(calls) == 1 and len(sim.control.sends(token)) == reached <= 1
    _T3.append(fault["mode"])
    if len(_T3) == 2 * len(AMBIGUOUS):
        figures(
            "T3",
            f"{len(_T3)} ambiguous failures (10 modes × inline/job): "
            f"{len(_T3)} unknown, 0 automatic resends",
        )


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class _LateForwarder:
    """A TCP port that refuses connections until `open()`, then forwards to the simulator."""

    def __init__(self, target_port: int) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.target_port = target_port
        self.server: _Server | None = None

    def open(self) -> None:
        target = self.target_port

        class Pipe(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                upstream = socket.create_connection(("127.0.0.1", target))

                def pump(src, dst):
                    try:
                        while data := src.recv(65536):
                            dst.sendall(data)
                    except OSError:
                        pass
                    finally:
                        dst.close()

                back = threading.Thread(target=pump, args=(upstream, self.request), daemon=True)
                back.start()
                pump(self.request, upstream)
                back.join(5)

        self.server = _Server(("127.0.0.1", self.port), Pipe)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()


@pytest.fixture
def late_gateway(workspace, sim):
    """The workspace's gateway URL points at a port that refuses until the test opens it."""
    forwarder = _LateForwarder(int(sim.api_url("v3").split(":")[2].split("/")[0]))
    settings = gotone.get_settings(workspace)
    settings.base_url = f"http://127.0.0.1:{forwarder.port}/api/v3"
    db.session.commit()
    yield forwarder
    forwarder.close()


def test_refused_connection_inline_is_retried_and_sent_once(
    app, workspace, owner, sim, token, late_gateway, figures, monkeypatch
):
    # The gateway comes up during the first back-off pause: the first attempt is refused, the
    # next one gets through, whatever the machine's load.
    class Pausing:
        monotonic = staticmethod(time.monotonic)

        @staticmethod
        def sleep(seconds: float) -> None:
            if late_gateway.server is None:
                late_gateway.open()
            time.sleep(seconds)

    monkeypatch.setattr(outbox.sending, "time", Pausing)
    submitted = outbox.submit(workspace, owner, "t4a", draft(phones=NUMBERS[:2]))
    started = time.monotonic()
    outbox.start(submitted.request)
    elapsed = time.monotonic() - started
    db.session.expire_all()
    messages = submitted.request.messages
    assert {m.state for m in messages} == {ACCEPTED}
    assert 2 <= messages[0].attempts <= outbox.INLINE_ATTEMPTS
    assert len(sim.control.sends(token)) == 2
    figures(
        "T4",
        f"connection refused inline: {messages[0].attempts} attempts, accepted once "
        f"in {elapsed:.2f} s, {len(sim.control.sends(token))} sends for 2 recipients",
    )


def test_refused_connection_in_a_job_is_retried_and_sent_once(
    app, workspace, owner, sim, token, late_gateway, run_jobs, figures
):
    people = [Recipient(NUMBERS[0], "Ana"), Recipient(NUMBERS[1], "Bo")]
    submitted = outbox.submit(workspace, owner, "t4b", draft("Hi {first_name}", people))
    outbox.start(submitted.request)
    run_jobs()  # refused: the items go back to the queue with a delay
    db.session.expire_all()
    assert sim.control.sends(token) == []
    assert {m.state for m in submitted.request.messages} == {"queued"}
    late_gateway.open()
    deadline = time.monotonic() + 20
    while submitted.request.state != DONE and time.monotonic() < deadline:
        time.sleep(0.3)
        run_jobs()
    assert {m.state for m in submitted.request.messages} == {ACCEPTED}
    sent = sorted(s["message"] for s in sim.control.sends(token))
    assert sent == ["Hi Ana", "Hi Bo"]
    figures(
        "T4",
        f"connection refused in a job: retried after the delay, {len(sent)} sends "
        f"for 2 recipients, {max(m.attempts for m in submitted.request.messages)} "
        "attempts at most",
    )


@pytest.mark.parametrize("personalised", [False, True], ids=["inline", "job"])
def test_too_many_attempts_is_retried_and_sent_once(
    app, workspace, owner, sim, token, run_jobs, figures, personalised
):
    app.config["JOBS_PACE_WINDOW"] = 0.5  # the pace pause after a 429 lasts at most this
    sim.control.add_fault("too_many_attempts", path="/sms/send", times=1)
    text = "Hi {first_name|there}" if personalised else "Hi there"
    submitted = outbox.submit(
        workspace, owner, f"t4c{personalised}", draft(text, [Recipient(NUMBERS[0], "Ana")])
    )
    outbox.start(submitted.request)
    deadline = time.monotonic() + 20
    while submitted.request.state != DONE and time.monotonic() < deadline:
        run_jobs()
        db.session.expire_all()
        time.sleep(0.2)
    calls = [r for r in sim.control.requests() if r["path"].endswith("/sms/send")]
    assert submitted.request.messages[0].state == ACCEPTED
    assert len(sim.control.sends(token)) == 1 and len(calls) == 2
    figures(
        "T4",
        f"'Too Many Attempts.' ({'job' if personalised else 'inline'}): {len(calls)} calls, 1 send",
    )
