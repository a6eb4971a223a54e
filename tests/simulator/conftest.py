"""One real simulator server per test session; every test starts from a reset."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from app.simulator.server import SimulatorServer

JSON = {"Accept": "application/json"}
US = "12025550775"
UK = "447911123456"
NL = "31612345678"


class Api:
    """Calls one family as a well-behaved client: JSON Accept, token where the family reads it."""

    def __init__(self, sim: SimulatorServer, token: str | None, family: str = "v3") -> None:
        self.sim, self.token, self.family = sim, token, family

    def url(self, path: str) -> str:
        return f"{self.sim.api_url(self.family)}/{path.lstrip('/')}"

    def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        hdrs = dict(JSON)
        params = dict(params or {})
        if self.token is not None and self.family == "v3":
            hdrs["Authorization"] = f"Bearer {self.token}"
        elif self.token is not None:
            if method == "GET":
                params["api_token"] = self.token
            else:
                json = {**(json or {}), "api_token": self.token}
        hdrs.update(headers or {})
        kwargs.setdefault("timeout", 10)
        return requests.request(
            method,
            self.url(path),
            json=json,
            params=params or None,
            headers=hdrs,
            allow_redirects=False,
            **kwargs,
        )

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.call("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.call("POST", path, json=json, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.call("PATCH", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.call("DELETE", path, **kw)

    def send(self, recipient: str, message: str = "Hello", **extra: Any) -> requests.Response:
        return self.post("sms/send", {"recipient": recipient, "message": message, **extra})


@pytest.fixture(scope="session")
def server():
    with SimulatorServer() as sim:
        yield sim


@pytest.fixture
def sim(server):
    server.control.reset()
    yield server
    server.control.reset()


@pytest.fixture
def control(sim):
    return sim.control


@pytest.fixture
def token(control):
    return control.create_account(token="7|test-token-a")


@pytest.fixture
def api(sim, token):
    return Api(sim, token)


@pytest.fixture
def http_api(sim, token):
    return Api(sim, token, family="http")


@pytest.fixture(params=["v3", "http"])
def family_api(request, sim, token):
    return Api(sim, token, family=request.param)


@pytest.fixture
def modern(control):
    control.configure(profile="modern")


def body(response: requests.Response) -> dict[str, Any]:
    return response.json()


def error_of(response: requests.Response) -> tuple[int, str]:
    payload = response.json()
    assert payload["status"] == "error", payload
    assert "data" not in payload
    return response.status_code, payload["message"]
