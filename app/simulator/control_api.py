"""The /_control/ HTTP API: seed, configure, script and inspect the simulator (tests only).

It answers 404 unless the config enables it, is never throttled, faulted or logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, jsonify, request

from . import faults
from .accounts import create_account
from .clock import parse_iso
from .gateway import customer_status, run_scheduler
from .phones import normalise
from .routes_groups import new_group
from .state import SimulatorConfig, SimulatorState

ACCOUNT_FIELDS = {
    "balance",
    "first_name",
    "last_name",
    "email",
    "timezone",
    "locale",
    "sender_id_verification",
    "sender_ids",
    "abilities",
    "permissions",
    "unit_price",
    "coverage",
    "blacklist",
    "currency_format",
    "subscription_ends_at",
    "subscription_active",
    "last_access_at",
}


class ControlError(Exception):
    pass


def _parts() -> tuple[SimulatorConfig, SimulatorState, SimulatorConfig]:
    parts = current_app.extensions["gotone_simulator"]
    return parts["config"], parts["state"], parts["initial"]


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _account(state: SimulatorState, token: str | None) -> dict[str, Any]:
    account = state.account_by_token(token)
    if account is None:
        raise ControlError(f"no account with token {token!r}")
    return account


def reset() -> Any:
    config, state, initial = _parts()
    state.reset()
    config.update(**{k: v for k, v in initial.public().items() if k != "quirks"})
    config.quirks = dict(initial.quirks)
    return {"ok": True}


def accounts() -> Any:
    _, state, _ = _parts()
    options = _body()
    unknown = set(options) - ACCOUNT_FIELDS - {"token"}
    if unknown:
        raise ControlError(f"unknown account options {sorted(unknown)}")
    account = create_account(state, **options)
    return {"token": account["token"], "id": account["id"], "uid": account["uid"]}


def update_account() -> Any:
    _, state, _ = _parts()
    body = _body()
    account = _account(state, body.pop("token", None))
    unknown = set(body) - ACCOUNT_FIELDS
    if unknown:
        raise ControlError(f"unknown account options {sorted(unknown)}")
    account.update(body)
    return {"ok": True}


def groups() -> Any:
    """Seed a group and its contacts directly: no validation, no throttle."""
    _, state, _ = _parts()
    body = _body()
    with state.lock:
        account = _account(state, body.get("token"))
        group = new_group(state, account, str(body.get("name")))
        uids = [_seed_contact(state, group, c) for c in body.get("contacts") or ()]
    return {"uid": group["uid"], "contact_uids": uids}


def _seed_contact(state: SimulatorState, group: dict[str, Any], spec: dict[str, Any]) -> str:
    from .clock import iso_z, now_utc
    from .routes_contacts import LEGACY_ROW_KEYS

    now = iso_z(now_utc())
    contact = {key: None for key in LEGACY_ROW_KEYS}
    contact.update(
        id=state.next_id("contact"),
        uid=state.new_uid(),
        customer_id=group["customer_id"],
        group_id=group["id"],
        phone=int(normalise(str(spec["phone"]))),
        status="subscribe",
        first_name=spec.get("first_name"),
        last_name=spec.get("last_name"),
        created_at=now,
        updated_at=now,
    )
    state.data["contacts"][contact["uid"]] = contact
    return contact["uid"]


def configure() -> Any:
    config, _, _ = _parts()
    try:
        config.update(**_body())
    except (TypeError, ValueError) as exc:
        raise ControlError(str(exc)) from exc
    return config.public()


def get_config() -> Any:
    return _parts()[0].public()


def delivery() -> Any:
    _, state, _ = _parts()
    body = _body()
    account = _account(state, body.get("token"))
    account["delivery"].update(
        {normalise(str(k)) or k: str(v) for k, v in body["outcomes"].items()}
    )
    return {"ok": True}


def blacklist() -> Any:
    _, state, _ = _parts()
    body = _body()
    account = _account(state, body.get("token"))
    account["blacklist"] = sorted(
        {*account["blacklist"], *(normalise(str(n)) for n in body["numbers"])}
    )
    return {"ok": True}


def add_fault() -> Any:
    _, state, _ = _parts()
    try:
        fault = faults.new_fault(_body())
    except (ValueError, TypeError) as exc:
        raise ControlError(str(exc)) from exc
    with state.lock:
        state.faults.append(fault)
    return fault


def clear_faults() -> Any:
    _, state, _ = _parts()
    with state.lock:
        state.faults.clear()
    return {"ok": True}


def list_faults() -> Any:
    _, state, _ = _parts()
    with state.lock:
        return jsonify(list(state.faults))


def requests_log() -> Any:
    _, state, _ = _parts()
    path = request.args.get("path")
    with state.lock:
        entries = [e for e in state.request_log if path is None or e["path"] == path]
        return jsonify(entries)


def _owner_filter(state: SimulatorState, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    token = request.args.get("token")
    if token is None:
        return list(rows)
    owner = _account(state, token)["id"]
    return [row for row in rows if row["user_id"] == owner]


def sends() -> Any:
    _, state, _ = _parts()
    with state.lock:
        return jsonify(_owner_filter(state, state.data["sends"]))


def scheduled() -> Any:
    _, state, _ = _parts()
    with state.lock:
        return jsonify(_owner_filter(state, state.data["scheduled"]))


def scheduler() -> Any:
    _, state, _ = _parts()
    now = _body().get("now")
    return {"dispatched": run_scheduler(state, parse_iso(now) if now else None)}


def balance() -> Any:
    _, state, _ = _parts()
    return {"balance": _account(state, request.args.get("token"))["balance"]}


def report_status() -> Any:
    """A later delivery receipt overwriting a report's status (reference §14)."""
    _, state, _ = _parts()
    body = _body()
    report = state.data["reports"].get(body.get("uid"))
    if report is None:
        raise ControlError(f"no report {body.get('uid')!r}")
    report["status"] = str(body["status"])
    report["customer_status"] = customer_status(report["status"])
    return {"ok": True}


ROUTES: list[tuple[str, str, Callable[[], Any]]] = [
    ("POST", "/reset", reset),
    ("POST", "/accounts", accounts),
    ("POST", "/accounts/update", update_account),
    ("POST", "/groups", groups),
    ("POST", "/configure", configure),
    ("GET", "/config", get_config),
    ("POST", "/delivery", delivery),
    ("POST", "/blacklist", blacklist),
    ("POST", "/faults", add_fault),
    ("DELETE", "/faults", clear_faults),
    ("GET", "/faults", list_faults),
    ("GET", "/requests", requests_log),
    ("GET", "/sends", sends),
    ("GET", "/scheduled", scheduled),
    ("POST", "/scheduler", scheduler),
    ("GET", "/balance", balance),
    ("POST", "/reports/status", report_status),
]


def _guarded(view: Callable[[], Any]) -> Callable[[], Any]:
    def wrapper() -> Any:
        config, state, _ = _parts()
        if not config.control:
            return Response("Not Found", status=404)
        try:
            with state.lock:
                result = view()
                state.save()
            return result
        except (ControlError, KeyError) as exc:
            return jsonify({"error": str(exc)}), 400

    wrapper.__name__ = f"control_{view.__name__}"
    return wrapper


def register(app: Flask) -> None:
    for method, path, view in ROUTES:
        app.add_url_rule(
            f"/_control{path}", f"control_{view.__name__}", _guarded(view), methods=[method]
        )
