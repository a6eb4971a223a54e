"""Jinja filters and globals of the portal's templates (registered by create_app, see
app/wiring.py); views may call them too."""

from __future__ import annotations

import functools
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
from flask import g

from .forms.history import REQUEST_STATE_LABELS, STATE_LABELS, TYPE_LABELS
from .services import scheduling


@functools.lru_cache(maxsize=4096)  # ~40 µs a number; a contacts page shows each one twice
def format_phone(digits: str) -> str:
    """Digits with country code, shown the international way (+1 202-555-0775)."""
    try:
        number = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def history_time(moment: datetime | None) -> str:
    """A stored UTC time shown in the workspace's timezone (UTC outside a workspace)."""
    if moment is None:
        return ""
    return moment.astimezone(_workspace_zone()).strftime("%Y-%m-%d %H:%M")


def _workspace_zone() -> ZoneInfo:
    """The current workspace's timezone, looked up once per request (a list shows 25 times)."""
    zone = g.get("_history_zone")
    if zone is None:
        workspace = g.get("workspace")
        zone = scheduling.zone_of(workspace) if workspace is not None else ZoneInfo("UTC")
        g._history_zone = zone
    return zone


def history_state(state: str) -> str:
    """The label of an outbox state."""
    return str(STATE_LABELS.get(state, state))


def request_state(state: str) -> str:
    """The label of a send request's state."""
    return str(REQUEST_STATE_LABELS.get(state, state))


def history_type(kind: str) -> str:
    """The label of a message type."""
    return str(TYPE_LABELS.get(kind, kind))
