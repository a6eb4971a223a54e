"""The upstream gateway: scripted delivery outcomes, report rows and their projections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import phonenumbers

from .accounts import adjust_balance
from .clock import iso_z, now_utc
from .schedule import due_entries
from .state import SimulatorState

KNOWN_CUSTOMER_STATUSES = (
    "Delivered",
    "Failed",
    "Rejected",
    "Undelivered",
    "Enroute",
    "Accepted",
    "Expired",
    "Skipped",
)


def phone_parse_error(exc: phonenumbers.NumberParseException) -> str:
    """libphonenumber's own text (the Python port carries the PHP wording)."""
    return str(getattr(exc, "_msg", "") or exc)


def outcome_for(account: dict[str, Any], to: str) -> str:
    """Scripted result for a destination; `*` scripts every number; default `Delivered`."""
    if to in account.get("blacklist", []):
        return "Number contains in the blacklist"
    delivery = account.get("delivery", {})
    return str(delivery.get(to, delivery.get("*", "Delivered")))


def customer_status(status: str) -> str:
    """M's normalised status: `Delivered|id` becomes `Delivered`; free text stays as is."""
    if status.startswith("Delivered"):
        return "Delivered"
    return status


def deliver(
    state: SimulatorState,
    account: dict[str, Any],
    to: str,
    request: Any,
    price: float,
    api_key: str | None,
    scheduled_for: str | None = None,
) -> dict[str, Any]:
    """Hand one message to the gateway and store its report row (status = gateway text)."""
    status = outcome_for(account, to)
    now = iso_z(now_utc())
    report = {
        "id": state.next_id("report"),
        "uid": state.new_uid(),
        "user_id": account["id"],
        "to": to,
        "from": request.sender_id,
        "message": request.message,
        "sms_type": request.sms_type,
        "status": status,
        "customer_status": customer_status(status),
        "sms_count": request.segments,
        "cost": _cost_text(price),
        "direction": "api",
        "send_by": "api",
        "api_key": api_key,
        "media_url": request.media_url,
        "sending_server_id": 1,
        "created_at": now,
        "updated_at": now,
    }
    state.data["reports"][report["uid"]] = report
    state.data["sends"].append(
        {
            "uid": report["uid"],
            "user_id": account["id"],
            "to": to,
            "from": request.sender_id,
            "message": request.message,
            "status": status,
            "type": request.sms_type,
            "sms_count": request.segments,
            "cost": report["cost"],
            "scheduled_for": scheduled_for,
        }
    )
    return report


def _cost_text(price: float) -> str:
    number = float(price)
    return str(int(number)) if number.is_integer() else repr(number)


def _cost_number(report: dict[str, Any]) -> int | float:
    number = float(report["cost"])
    return int(number) if number.is_integer() else number


def report_shape_single(report: dict[str, Any], modern: bool) -> dict[str, Any]:
    """Single-path success `data` (reference §9.1.3)."""
    if modern:
        return {
            "id": report["id"],
            "uid": report["uid"],
            "to": report["to"],
            "from": report["from"],
            "message": report["message"],
            "status": report["customer_status"],
            "cost": _cost_number(report),
            "sms_count": report["sms_count"],
            "media_url": report["media_url"],
        }
    row: dict[str, Any] = {
        "user_id": report["user_id"],
        "to": report["to"],
        "message": report["message"],
        "sms_type": report["sms_type"],
        "status": report["status"],
        "sms_count": report["sms_count"],
        "cost": _cost_number(report),
        "sending_server_id": report["sending_server_id"],
    }
    if report["from"] is not None:  # L leaves the column out of the insert
        row["from"] = report["from"]
    row.update(
        api_key=report["api_key"],
        send_by="api",
        uid=report["uid"],
        updated_at=report["updated_at"],
        created_at=report["created_at"],
        id=report["id"],
    )
    return row


def report_shape_bulk(report: dict[str, Any], modern: bool) -> dict[str, Any]:
    """Bulk-path `data` items (reference §9.1.4 step 10)."""
    head = {"id": report["id"]} if modern else {}
    status_key = "customer_status" if modern else "status"
    return {
        **head,
        "uid": report["uid"],
        "to": report["to"],
        "from": report["from"],
        "message": report["message"],
        status_key: report[status_key],
        "cost": report["cost"],
        "sms_count": report["sms_count"],
    }


class _Queued:
    """Adapter so a scheduled entry looks like the send request `deliver` expects."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.sender_id = entry["from"]
        self.message = entry["message"]
        self.sms_type = entry["sms_type"]
        self.segments = entry["segments"]
        self.media_url = entry["media_url"]


def run_scheduler(state: SimulatorState, now: datetime | None = None) -> int:
    """Dispatch every due scheduled message; failures refund their share. Returns the count."""
    with state.lock:
        due = due_entries(state.data, now)
        for entry in due:
            account = state.account_by_id(entry["user_id"])
            if account is None:
                continue
            report = deliver(
                state,
                account,
                entry["to"],
                _Queued(entry),
                entry["price"],
                api_key=entry["api_key"],
                scheduled_for=entry["scheduled_for"],
            )
            if "Delivered" not in report["status"] and entry["charged"]:
                adjust_balance(account, entry["price"])
        return len(due)
