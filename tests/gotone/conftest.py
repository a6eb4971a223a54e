"""The GoTone client against a real simulator over HTTP: one server per session, reset per test.

Nothing here mocks requests: every call crosses a real socket to the simulator (or, for the
header checks, to a tiny capturing server).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from app.gotone import GoToneClient
from app.simulator.control import SimulatorControl
from app.simulator.server import SimulatorServer

TOKEN = "7|gotone-client-test-token-Qx81Zr"
TIMEOUT = 1.0  # short: fault tests wait for deadlines
US = "12025550775"
NL = "31612345678"
UK = "447911123456"


@pytest.fixture(scope="session")
def gateway():
    with SimulatorServer() as server:
        yield server


@pytest.fixture
def control(gateway) -> SimulatorControl:
    gateway.control.reset()
    yield gateway.control
    gateway.control.reset()


@pytest.fixture
def token(control) -> str:
    return control.create_account(token=TOKEN)


@pytest.fixture
def make_client(gateway, token) -> Callable[..., GoToneClient]:
    made: list[GoToneClient] = []

    def factory(family: str = "v3", **options: Any) -> GoToneClient:
        options.setdefault("timeout", TIMEOUT)
        client = GoToneClient(gateway.api_url(family), options.pop("token", token), **options)
        made.append(client)
        return client

    yield factory
    for client in made:
        client.close()


@pytest.fixture
def gotone(make_client) -> GoToneClient:
    """A v3 client on the legacy profile (the simulator's default)."""
    return make_client()


@pytest.fixture(params=["v3", "http"])
def family(request) -> str:
    return request.param


@pytest.fixture(params=["legacy", "modern"])
def profile(request, control) -> str:
    control.configure(profile=request.param)
    return request.param


@pytest.fixture
def any_client(make_client, family, profile) -> GoToneClient:
    """A client for every family x profile combination."""
    return make_client(family)


def api_requests(control: SimulatorControl, suffix: str = "") -> list[dict[str, Any]]:
    """The API requests the simulator logged whose path ends with `suffix`."""
    return [r for r in control.requests() if r["path"].endswith(suffix)]


def free_port() -> int:
    """A port with nothing listening on it (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
