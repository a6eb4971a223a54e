"""Every simulated fault: what the client raises, what it retries, and how long it waits."""

from __future__ import annotations

import socket
import time

import pytest

from app.gotone import (
    GoToneClient,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    UnavailableError,
)

from .conftest import NL, TIMEOUT, US, api_requests, free_port


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_unavailable_and_reads_are_not_retried(gotone, control, status):
    control.add_fault("status", path="balance$", status=status)
    with pytest.raises(UnavailableError) as caught:
        gotone.get_balance()
    assert caught.value.http_status == status
    assert type(caught.value) is UnavailableError
    assert len(api_requests(control, "/balance")) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_on_a_send_is_an_unknown_outcome(gotone, control, status):
    control.add_fault("status", path="sms/send", status=status)
    with pytest.raises(UnavailableError) as caught:
        gotone.send_sms([US, NL], "Hi")
    assert caught.value.may_have_been_processed and caught.value.outcome_unknown
    assert not caught.value.definitely_not_received
    assert len(api_requests(control, "/sms/send")) == 1


def test_5xx_with_a_json_error_body_is_still_unavailable(gotone, control):
    control.add_fault(
        "status", path="balance$", status=500, body='{"status":"error","message":"x"}'
    )
    with pytest.raises(UnavailableError):
        gotone.get_balance()


@pytest.mark.parametrize("family", ["v3", "http"])
def test_reset_before_is_retried_once_for_reads(make_client, control, family):
    client = make_client(family)
    control.add_fault("reset_before", path="balance$", times=1)
    assert client.get_balance().amount == 1000
    assert len(api_requests(control, "/balance")) == 2


def test_reset_before_on_a_post_read_is_retried(gotone, control):
    group = gotone.create_group("Retry")
    control.add_fault("reset_before", path="/show$", times=1)
    assert gotone.get_group(group.uid) == group
    assert len(api_requests(control, "/show")) == 2


def test_reads_are_retried_at_most_once(gotone, control):
    control.add_fault("reset_before", path="balance$", times=2)
    with pytest.raises(UnavailableError) as caught:
        gotone.get_balance()
    assert len(api_requests(control, "/balance")) == 2
    assert not caught.value.definitely_not_received


def test_writes_are_not_retried_after_a_reset(gotone, control):
    control.add_fault("reset_before", path="contacts$", method="POST", times=1)
    with pytest.raises(UnavailableError) as caught:
        gotone.create_group("Once")
    assert caught.value.may_have_been_processed
    assert len([r for r in control.requests() if r["method"] == "POST"]) == 1


def test_reset_before_on_a_send_is_not_retried(gotone, control):
    control.add_fault("reset_before", path="sms/send", times=1)
    with pytest.raises(UnavailableError) as caught:
        gotone.send_sms([US, NL], "Hi")
    assert caught.value.may_have_been_processed  # the client cannot tell it apart from after
    assert len(api_requests(control, "/sms/send")) == 1
    assert control.sends() == []


@pytest.mark.parametrize("recipients", [[US], [US, NL]], ids=["single", "bulk"])
def test_reset_after_on_a_send_is_unknown_and_never_retried(gotone, control, recipients):
    control.add_fault("reset_after", path="sms/send", times=1)
    with pytest.raises(UnavailableError) as caught:
        gotone.send_sms(recipients, "Hi")
    error = caught.value
    assert error.may_have_been_processed and not error.definitely_not_received
    assert error.chunk_recipients == tuple(recipients)
    assert len(api_requests(control, "/sms/send")) == 1
    assert [s["to"] for s in control.sends()] == recipients  # it did happen, exactly once


def test_hang_times_out_within_the_deadline(gotone, control):
    control.add_fault("hang", path="balance$", delay_ms=3000)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError) as caught:
        gotone.get_balance()
    assert time.monotonic() - started < TIMEOUT + 0.5
    assert isinstance(caught.value, UnavailableError)
    assert len(api_requests(control, "/balance")) == 1  # a read timeout is not retried


def test_hang_after_on_a_send_is_unknown(gotone, control):
    control.add_fault("hang_after", path="sms/send", delay_ms=3000)
    with pytest.raises(RequestTimeoutError) as caught:
        gotone.send_sms([US, NL], "Hi")
    assert caught.value.may_have_been_processed
    assert len(control.sends()) == 2 and len(api_requests(control, "/sms/send")) == 1


@pytest.mark.parametrize("family", ["v3", "http"])
def test_drip_is_cut_at_the_deadline(make_client, control, family):
    client = make_client(family)
    control.add_fault("drip", path="balance$", delay_ms=200)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        client.get_balance()
    assert time.monotonic() - started < TIMEOUT + 1.0


def test_drip_slower_than_the_read_timeout_per_byte_is_still_cut(make_client, control):
    """Each byte arrives before the socket's read timeout; only the deadline ends the call."""
    client = make_client(timeout=1.5)
    control.add_fault("drip", path="me$", delay_ms=600)
    started = time.monotonic()
    with pytest.raises(RequestTimeoutError):
        client.get_profile()
    assert time.monotonic() - started < 1.5 + 1.0


def test_latency_within_the_deadline_is_fine(gotone, control):
    control.add_fault("latency", path="balance$", delay_ms=300)
    assert gotone.get_balance().amount == 1000


@pytest.mark.parametrize(
    "mode", ["malformed_json", "html_200", "truncated", "empty", "wrong_shape"]
)
def test_bad_bodies_are_protocol_errors(gotone, control, mode):
    control.add_fault(mode, path="balance$")
    with pytest.raises(ProtocolError) as caught:
        gotone.get_balance()
    assert caught.value.http_status == 200
    assert caught.value.may_have_been_processed
    assert len(api_requests(control, "/balance")) == 1


@pytest.mark.parametrize(
    "mode", ["malformed_json", "html_200", "truncated", "empty", "wrong_shape"]
)
def test_bad_bodies_on_a_send_are_unknown(gotone, control, mode):
    control.add_fault(mode, path="sms/send")
    with pytest.raises(ProtocolError) as caught:
        gotone.send_sms([US, NL], "Hi")
    assert caught.value.may_have_been_processed


def test_huge_body_under_the_cap_is_parsed(make_client, control):
    """About 5 MB of valid JSON under a raised cap: read and parsed, refused for its shape."""
    control.add_fault("huge", path="balance$")
    with pytest.raises(ProtocolError, match="not a JSON object"):
        make_client(max_body_bytes=8 * 1024 * 1024).get_balance()


def test_huge_body_over_the_cap_is_refused(make_client, control):
    client = make_client(max_body_bytes=1024 * 1024)
    control.add_fault("huge", path="sms$")
    with pytest.raises(ProtocolError, match="exceeded"):
        client.list_sms()


def test_default_cap_is_a_few_megabytes(gotone, control):
    """The 5 MB answer is over the default cap (4 MB): nobody's page or health check reads
    hundreds of MB into a worker."""
    assert gotone.max_body_bytes == 4 * 1024 * 1024
    control.add_fault("huge", path="balance$")
    with pytest.raises(ProtocolError, match="exceeded 4194304 bytes"):
        gotone.get_balance()


def test_too_many_attempts_is_rate_limited(family, make_client, control):
    client = make_client(family)
    control.add_fault("too_many_attempts", path="balance$")
    with pytest.raises(RateLimitedError) as caught:
        client.get_balance()
    assert 0 < caught.value.retry_after <= 60
    assert client.rate_limit_remaining == 0


def test_real_throttling_and_rate_limit_headers(family, make_client, control):
    control.configure(rate_limit=3)
    client = make_client(family)
    assert client.rate_limit_remaining is None
    client.get_balance()
    assert (client.rate_limit_limit, client.rate_limit_remaining) == (3, 2)
    client.get_profile()
    client.list_groups()
    assert client.rate_limit_remaining == 0
    with pytest.raises(RateLimitedError) as caught:
        client.get_balance()
    assert caught.value.retry_after <= 60 and not caught.value.may_have_been_processed


def test_connection_refused_is_definitely_not_received(control):
    client = GoToneClient(f"http://127.0.0.1:{free_port()}", "1|token-abcdefgh", timeout=TIMEOUT)
    with pytest.raises(UnavailableError) as caught:
        client.send_sms([US, NL], "Hi")
    error = caught.value
    assert error.definitely_not_received and not error.may_have_been_processed
    assert error.http_status is None
    with pytest.raises(UnavailableError):
        client.get_balance()  # a read: retried once, refused twice


def test_connect_timeout_is_definitely_not_received():
    """A listener whose accept backlog is full drops new SYNs: connect() times out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        try:
            client = GoToneClient(f"http://127.0.0.1:{port}", "1|token-abcdefgh", timeout=TIMEOUT)
            started = time.monotonic()
            with pytest.raises(RequestTimeoutError) as caught:
                client.send_sms([US, NL], "Hi")
            assert caught.value.definitely_not_received
            assert not caught.value.may_have_been_processed
            assert time.monotonic() - started < TIMEOUT + 0.5
        finally:
            for filler in fillers:
                filler.close()


def test_unresolvable_host_is_definitely_not_received():
    client = GoToneClient("http://gotone.invalid", "1|token-abcdefgh", timeout=TIMEOUT)
    with pytest.raises(UnavailableError) as caught:
        client.get_profile()
    assert caught.value.definitely_not_received


def test_faults_do_not_leak_into_the_next_call(gotone, control):
    control.add_fault("malformed_json", path="balance$", times=1)
    with pytest.raises(ProtocolError):
        gotone.get_balance()
    assert gotone.get_balance().amount == 1000
