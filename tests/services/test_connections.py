"""services.connections: pooled gateway sessions per workspace, sends on connections of their
own, and the short-lived decrypted token (issue 8)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import requests

from app.exceptions import ServiceUnavailableError
from app.extensions import db
from app.models import GoToneSettings
from app.services import gotone, keys
from app.simulator.control import SimulatorControl
from tests.factories import make_user, make_workspace
from tests.services.conftest import TOKEN


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_http(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture(scope="module")
def keepalive_server():
    """The simulator served with keep-alive, as production gateways are (the in-thread test
    server closes every connection, so reuse could not be seen there)."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.simulator", "--keep-alive", "--control", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_http(url + "/_control/config")
        yield SimpleNamespace(control=SimulatorControl(url), api=url + "/api/v3")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.fixture
def kept(app, keepalive_server):
    """(simulator, workspace) on the keep-alive simulator."""
    keepalive_server.control.reset()
    token = keepalive_server.control.create_account(token=TOKEN, balance=10_000)
    return keepalive_server, make_workspace(make_user(), base_url=keepalive_server.api, token=token)


def _calls(sim, path):
    return [r for r in sim.control.requests() if r["path"].endswith(path)]


def test_reads_of_one_workspace_share_one_kept_alive_connection(kept):
    sim, workspace = kept
    for _ in range(3):
        gotone.client_for(workspace).get_balance()  # a new client each time, as pages do
    ports = {r["peer_port"] for r in _calls(sim, "/balance")}
    assert len(_calls(sim, "/balance")) == 3 and len(ports) == 1


def test_workspaces_do_not_share_sessions(kept):
    sim, workspace = kept
    other = make_workspace(make_user(), base_url=sim.api, token=TOKEN)
    gotone.client_for(workspace).get_balance()
    gotone.client_for(other).get_balance()
    assert len({r["peer_port"] for r in _calls(sim, "/balance")}) == 2
    assert gotone.client_for(workspace)._session is not gotone.client_for(other)._session


def test_a_send_never_rides_on_a_kept_alive_connection(kept):
    sim, workspace = kept
    client = gotone.client_for(workspace)
    client.get_balance()
    client.send_sms("12025550100", "one")
    client.send_sms("12025550101", "two")
    client.get_balance()
    reads = {r["peer_port"] for r in _calls(sim, "/balance")}
    sends = [r for r in _calls(sim, "/sms/send")]
    assert len(reads) == 1 and len(sends) == 2
    assert all(r["connection"].lower() == "close" for r in sends)
    assert len({r["peer_port"] for r in sends} | reads) == 3


def test_the_token_is_decrypted_once_then_follows_a_replaced_token(app, sim, workspace, token):
    decrypted = []
    original = keys.decrypt

    def counting(stored, scope):
        decrypted.append(scope)
        return original(stored, scope)

    keys.decrypt = counting
    try:
        for _ in range(3):
            gotone.client_for(workspace).get_balance()
        assert decrypted == [workspace.id]
        other_token = sim.control.create_account(token="88|another-token-Lm4Q", balance=5)
        gotone.set_token(workspace, workspace.memberships[0].user, other_token)
        gotone.client_for(workspace).get_balance()
        assert decrypted == [workspace.id, workspace.id]
        assert _calls(sim, "/balance")[-1]["token"] == other_token
    finally:
        keys.decrypt = original


def test_a_cleared_token_is_not_served_from_the_cache(app, sim, workspace):
    gotone.client_for(workspace).get_balance()
    gotone.clear_token(workspace, workspace.memberships[0].user)
    assert db.session.get(GoToneSettings, workspace.id).token_enc is None
    with pytest.raises(ServiceUnavailableError, match="No GoTone API token"):
        gotone.client_for(workspace)


def test_token_cache_can_be_turned_off(make_app, sim, token, monkeypatch):
    app = make_app(GOTONE_TOKEN_CACHE_SECONDS=0)
    with app.app_context():
        workspace = make_workspace(make_user(), base_url=sim.api_url("v3"), token=token)
        decrypted = []
        original = keys.decrypt

        def counting(stored, scope):
            decrypted.append(scope)
            return original(stored, scope)

        monkeypatch.setattr(keys, "decrypt", counting)
        gotone.client_for(workspace)
        gotone.client_for(workspace)
        assert len(decrypted) == 2
