"""Simulator configuration and state: one lock, plain dicts, optional JSON snapshot file.

Everything the gateway would keep in its database lives in `SimulatorState.data` (plain JSON
types, so a snapshot is a `json.dump`). Runtime-only things (faults, request log, throttle
buckets) live beside it and are never persisted.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

PROFILES = ("legacy", "modern")

# Reference §16.7: every quirk reproduces a vendor bug, so all are off except the one that is
# verified behaviour of both server generations.
DEFAULT_QUIRKS: dict[str, bool] = {
    "quirk_first_name_required": False,
    "quirk_single_schedule_ignored": True,
    "quirk_list_sms_all_users": False,
    "quirk_unscoped_uids": False,
    "quirk_http_group_delete_error": False,
    "quirk_modern_contact_list_sql_error": False,
    "quirk_http_single_send_user_key": False,
    "quirk_missing_token_matches_null_user": False,
    "quirk_bulk_charges_unlimited": False,
    # Not in §16.7, but §8.2 describes it: M's http view-contact always answers 403.
    "quirk_modern_http_view_contact_forbidden": False,
}


@dataclass
class SimulatorConfig:
    profile: str = "legacy"
    rate_limit: int = 60
    # The reference's window is 60 s; tests shorten it instead of sleeping.
    rate_window_s: float = 60.0
    latency_ms: int = 0
    control: bool = False
    http_accepts_bearer: bool = False
    quirks: dict[str, bool] = field(default_factory=dict)
    public_base_url: str | None = None
    # APP_TIMEZONE: used for human dates on the http family, where no user is logged in (§10.3).
    app_timezone: str = "UTC"

    def __post_init__(self) -> None:
        self.quirks = {**DEFAULT_QUIRKS, **(self.quirks or {})}
        self.validate()

    def validate(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, not {self.profile!r}")
        unknown = set(self.quirks) - set(DEFAULT_QUIRKS)
        if unknown:
            raise ValueError(f"unknown quirk flags: {sorted(unknown)}")
        if int(self.rate_limit) < 1:
            raise ValueError("rate_limit must be >= 1")

    def quirk(self, name: str) -> bool:
        return bool(self.quirks.get(name, False))

    def update(self, **settings: Any) -> None:
        """Apply control-API settings; `quirks` is merged, not replaced."""
        names = {f.name for f in fields(self)}
        for key, value in settings.items():
            if key not in names:
                raise ValueError(f"unknown setting {key!r}")
            if key == "quirks":
                self.quirks = {**self.quirks, **(value or {})}
            else:
                setattr(self, key, value)
        self.validate()

    def copy(self) -> SimulatorConfig:
        return SimulatorConfig(**copy.deepcopy(asdict(self)))

    def public(self) -> dict[str, Any]:
        return asdict(self)


def empty_data() -> dict[str, Any]:
    return {
        "accounts": [],
        "groups": {},
        "contacts": {},
        "reports": {},
        "scheduled": [],
        "sends": [],
        "counters": {},
        "last_uid": 0,
    }


class SimulatorState:
    """All mutable simulator state behind one re-entrant lock.

    Callers take `with state.lock:` around a whole request so a request is atomic, the way a
    database transaction would make it on the real gateway.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.path = os.fspath(path) if path else None
        # Set when the serving thread stops, so sleeping faults (hang, drip) end quickly.
        self.stopping = threading.Event()
        self.data: dict[str, Any] = empty_data()
        self.faults: list[dict[str, Any]] = []
        self.request_log: list[dict[str, Any]] = []
        self.throttle: dict[tuple[str, str], list[float]] = {}
        if self.path and os.path.exists(self.path) and os.path.getsize(self.path) > 0:
            self.load()

    # -- persistence -------------------------------------------------------------------
    def load(self) -> None:
        with self.lock, open(self.path, encoding="utf-8") as fh:
            loaded = json.load(fh)
            self.data = {**empty_data(), **loaded}

    def save(self) -> None:
        """Write an atomic snapshot (temp file + rename) so a crash never leaves half a file."""
        if not self.path:
            return
        with self.lock:
            directory = os.path.dirname(os.path.abspath(self.path))
            fd, tmp = tempfile.mkstemp(prefix=".sim-", dir=directory)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self.data, fh)
            os.replace(tmp, self.path)

    def reset(self) -> None:
        with self.lock:
            self.data = empty_data()
            self.faults.clear()
            self.request_log.clear()
            self.throttle.clear()
            self.save()

    # -- identifiers -------------------------------------------------------------------
    def new_uid(self) -> str:
        """PHP uniqid(): 8 hex of seconds + 5 hex of microseconds, 13 lowercase hex.

        Forced strictly increasing so two objects made in the same microsecond still differ.
        """
        with self.lock:
            now = time.time()
            candidate = (int(now) << 20) | int((now % 1) * 1_000_000)
            value = max(candidate, int(self.data["last_uid"]) + 1)
            self.data["last_uid"] = value
            return f"{value >> 20:08x}{value & 0xFFFFF:05x}"

    def next_id(self, kind: str) -> int:
        with self.lock:
            counters = self.data["counters"]
            counters[kind] = int(counters.get(kind, 0)) + 1
            return counters[kind]

    # -- lookups -----------------------------------------------------------------------
    def account_by_token(self, token: str | None) -> dict[str, Any] | None:
        if not token:
            return None
        return next((a for a in self.data["accounts"] if a["token"] == token), None)

    def account_by_id(self, account_id: int) -> dict[str, Any] | None:
        return next((a for a in self.data["accounts"] if a["id"] == account_id), None)
