"""SimulatorControl: a small requests client for the simulator's /_control/ API.

Usable against a simulator in another process (`python -m app.simulator --control`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import requests

TIMEOUT = 10


class SimulatorControlError(RuntimeError):
    pass


class SimulatorControl:
    def __init__(self, host_url: str) -> None:
        self.host_url = host_url.rstrip("/")

    def _call(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        response = requests.request(
            method, f"{self.host_url}/_control{path}", json=json, params=params, timeout=TIMEOUT
        )
        if response.status_code != 200:
            raise SimulatorControlError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def reset(self) -> None:
        """Wipe accounts, data, faults, logs and throttle counters; restore the start config."""
        self._call("POST", "/reset")

    def create_account(
        self,
        token: str | None = None,
        balance: float = 1000,
        first_name: str = "Demo",
        last_name: str = "User",
        email: str = "demo@example.com",
        timezone: str = "UTC",
        sender_id_verification: bool = False,
        sender_ids: Iterable[str] = (),
        abilities: Iterable[str] | None = None,
        permissions: Iterable[str] | None = None,
        unit_price: float = 1,
        coverage: dict[str, Any] | None = None,
        **extra: Any,
    ) -> str:
        """Returns the token. coverage: {calling code: price or {type: price}}; None = all."""
        options = {
            "token": token,
            "balance": balance,
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "timezone": timezone,
            "sender_id_verification": sender_id_verification,
            "sender_ids": list(sender_ids),
            "abilities": None if abilities is None else list(abilities),
            "permissions": None if permissions is None else list(permissions),
            "unit_price": unit_price,
            "coverage": coverage,
            **extra,
        }
        return self._call("POST", "/accounts", json=options)["token"]

    def update_account(self, token: str, **fields: Any) -> None:
        self._call("POST", "/accounts/update", json={"token": token, **fields})

    def seed_group(self, token: str, name: str, contacts: Iterable[dict[str, Any]] = ()) -> dict:
        body = {"token": token, "name": name, "contacts": list(contacts)}
        return self._call("POST", "/groups", json=body)

    def configure(self, **settings: Any) -> dict[str, Any]:
        return self._call("POST", "/configure", json=settings)

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def set_delivery(self, token: str, outcomes: dict[str, str]) -> None:
        self._call("POST", "/delivery", json={"token": token, "outcomes": outcomes})

    def blacklist(self, token: str, numbers: Iterable[str]) -> None:
        self._call("POST", "/blacklist", json={"token": token, "numbers": list(numbers)})

    def add_fault(
        self,
        mode: str,
        *,
        path: str | None = None,
        method: str | None = None,
        times: int | None = 1,
        status: int | None = None,
        delay_ms: int | None = None,
        body: Any = None,
    ) -> None:
        spec = {
            "mode": mode,
            "path": path,
            "method": method,
            "times": times,
            "status": status,
            "delay_ms": delay_ms,
            "body": body,
        }
        self._call("POST", "/faults", json=spec)

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/requests", params={"path": path} if path else None)

    def sends(self, token: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "/sends", params={"token": token} if token else None)

    def scheduled(self, token: str | None = None) -> list[dict[str, Any]]:
        """Scheduled bulk messages not dispatched yet."""
        return self._call("GET", "/scheduled", params={"token": token} if token else None)

    def run_scheduler(self, now: datetime | str | None = None) -> int:
        moment = now.isoformat() if isinstance(now, datetime) else now
        return self._call("POST", "/scheduler", json={"now": moment})["dispatched"]

    def balance(self, token: str) -> float:
        return float(self._call("GET", "/balance", params={"token": token})["balance"])

    def set_report_status(self, uid: str, status: str) -> None:
        """Simulate a later delivery receipt overwriting a report's status."""
        self._call("POST", "/reports/status", json={"uid": uid, "status": status})
