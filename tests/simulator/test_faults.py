"""Control-API faults, each observed from a plain requests client."""

from __future__ import annotations

import json
import time

import pytest
import requests

from app.simulator.server import SimulatorServer

from .conftest import UK, US, Api


def test_latency(api, control):
    control.add_fault("latency", delay_ms=300)
    started = time.monotonic()
    assert api.get("me").json()["status"] == "success"
    assert time.monotonic() - started >= 0.3
    control.configure(latency_ms=150)
    started = time.monotonic()
    api.get("me")
    assert time.monotonic() - started >= 0.15


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_status_faults_do_not_process(api, control, token, status):
    control.add_fault("status", path=r"/sms/send$", status=status)
    response = api.send(US)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("text/html")
    assert control.sends(token) == [] and control.balance(token) == 1000
    assert api.send(US).status_code == 200  # times=1: the next call is normal


def test_reset_before_processing(api, control, token):
    control.add_fault("reset_before", path="sms/send")
    with pytest.raises(requests.ConnectionError):
        api.send(US)
    assert control.sends(token) == []
    assert [e["path"] for e in control.requests()] == ["/api/v3/sms/send"]


def test_reset_after_processing(api, control, token):
    control.add_fault("reset_after", path="sms/send")
    with pytest.raises(requests.ConnectionError):
        api.send(US)
    assert len(control.sends(token)) == 1
    assert control.balance(token) == 999


def test_hang_and_hang_after(api, control, token):
    control.add_fault("hang", delay_ms=2000)
    with pytest.raises(requests.ReadTimeout):
        api.post("sms/send", {"recipient": US, "message": "m"}, timeout=0.3)
    assert control.sends(token) == []
    control.add_fault("hang_after", delay_ms=2000)
    with pytest.raises(requests.ReadTimeout):
        api.post("sms/send", {"recipient": US, "message": "m"}, timeout=0.3)
    assert len(control.sends(token)) == 1


def test_drip(api, control):
    control.add_fault("drip", path="me", delay_ms=2)
    started = time.monotonic()
    response = api.get("me")
    assert response.json()["status"] == "success"
    assert time.monotonic() - started >= len(response.content) * 0.002 * 0.9


def test_bad_bodies(api, control, token):
    control.add_fault("malformed_json", path="me")
    response = api.get("me")
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    control.add_fault("html_200")
    page = api.get("me")
    assert page.status_code == 200 and page.text.startswith("<!DOCTYPE html>")
    control.add_fault("empty")
    assert api.get("me").content == b""
    control.add_fault("wrong_shape")
    assert isinstance(api.get("me").json(), list)
    control.add_fault("huge")
    huge = api.get("me")
    assert len(huge.content) > 4_000_000 and huge.json()["status"] == "success"


def test_truncated_is_processed(api, control, token):
    control.add_fault("truncated", path="sms/send")
    response = api.send(US)
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert response.text.startswith('{"status":"success"')
    assert len(control.sends(token)) == 1


def test_too_many_attempts_fault(api, control):
    control.add_fault("too_many_attempts")
    response = api.get("me")
    assert response.json() == {"status": "error", "message": "Too Many Attempts."}
    assert "X-RateLimit-Limit" not in response.headers


def test_matching_by_path_method_and_times(api, control):
    control.add_fault("status", path="balance", method="GET", times=2, status=502)
    assert api.get("me").status_code == 200
    assert [api.get("balance").status_code for _ in range(3)] == [502, 502, 200]
    control.add_fault("status", method="POST", times=None, status=503)
    assert api.get("me").status_code == 200
    assert [api.post("contacts", {"name": "x"}).status_code for _ in range(3)] == [503] * 3
    control.clear_faults()
    assert api.post("contacts", {"name": "x"}).status_code == 200


def test_request_log(api, http_api, token, control):
    api.send(f"{US},{UK}", "Hi")
    http_api.get("balance", params={"page": "1"})
    entries = control.requests()
    assert [(e["method"], e["path"], e["family"], e["token"]) for e in entries] == [
        ("POST", "/api/v3/sms/send", "v3", token),
        ("GET", "/api/http/balance", "http", token),
    ]
    assert entries[0]["json"] == {"recipient": f"{US},{UK}", "message": "Hi"}
    assert entries[1]["query"] == {"page": "1", "api_token": token}
    assert len(control.requests(path="/api/http/balance")) == 1


def test_stop_does_not_wait_for_hanging_requests():
    with SimulatorServer() as sim:
        token = sim.control.create_account()
        sim.control.add_fault("hang", delay_ms=60_000)
        with pytest.raises(requests.ReadTimeout):
            Api(sim, token).get("me", timeout=0.2)
        started = time.monotonic()
    assert time.monotonic() - started < 2


def test_control_api_off_unless_enabled():
    with SimulatorServer(control=False) as sim:
        assert requests.post(sim.host_url + "/_control/reset", timeout=5).status_code == 404
        response = requests.get(
            sim.api_url() + "/me", headers={"Accept": "application/json"}, timeout=5
        )
        assert response.json()["message"] == "Unauthenticated."
