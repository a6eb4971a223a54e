"""schedule_time parsing (Carbon-like leniency) and the scheduler (reference §9.1.5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from .clock import iso_z, now_utc, parse_iso, zone

_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_SLASHED_YMD = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::\d{2})?)?$")
_US_MDY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::\d{2})?)?$")
_EU_DMY = re.compile(r"^(\d{1,2})[-.](\d{1,2})[-.](\d{4})(?:\s+(\d{1,2}):(\d{2})(?::\d{2})?)?$")
_RELATIVE = re.compile(r"^\+?\s*(\d+)\s*(minute|min|hour|day|week)s?$", re.IGNORECASE)
_KEYWORD = re.compile(r"^(now|today|tomorrow|yesterday)(?:\s+(\d{1,2}):(\d{2}))?$", re.IGNORECASE)


class ScheduleParseError(ValueError):
    pass


def carbon_error(value: str) -> str:
    """Carbon's InvalidFormatException text wrapping PHP's DateTime message."""
    first = value[:1] or " "
    return (
        f"Could not parse '{value}': DateTime::__construct(): Failed to parse time string "
        f"({value}) at position 0 ({first}): The timezone could not be found in the database"
    )


def _wall_clock(value: str, local_now: datetime) -> datetime:
    """Return a naive wall-clock datetime; any UTC offset in the text is ignored."""
    text = value.strip()
    for pattern, order in (
        (_ISO, "ymd"),
        (_SLASHED_YMD, "ymd"),
        (_US_MDY, "mdy"),
        (_EU_DMY, "dmy"),
    ):
        found = pattern.match(text)
        if found:
            parts = found.groups()
            fields = dict(zip(order, (int(p) for p in parts[:3]), strict=True))
            hour, minute = int(parts[3] or 0), int(parts[4] or 0)
            return datetime(fields["y"], fields["m"], fields["d"], hour, minute)
    found = _KEYWORD.match(text)
    if found:
        word = found.group(1).lower()
        base = local_now.replace(tzinfo=None)
        if word != "now" or found.group(2):
            base = base.replace(hour=0, minute=0, second=0, microsecond=0)
        base += timedelta(days={"tomorrow": 1, "yesterday": -1}.get(word, 0))
        if found.group(2):
            base = base.replace(hour=int(found.group(2)), minute=int(found.group(3)))
        return base
    found = _RELATIVE.match(text)
    if found:
        unit = found.group(2).lower()
        unit = "minute" if unit == "min" else unit
        return local_now.replace(tzinfo=None) + timedelta(**{unit + "s": int(found.group(1))})
    raise ScheduleParseError(carbon_error(value))


def parse_schedule(value: str, tz_name: str | None, now: datetime | None = None) -> datetime:
    """Date and H:i of `value`, seconds dropped, read in the user's timezone; returned in UTC."""
    tz = zone(tz_name)
    local_now = (now or now_utc()).astimezone(tz)
    try:
        wall = _wall_clock(value, local_now)
    except ValueError as exc:  # also out-of-range dates such as 2024-13-40
        if isinstance(exc, ScheduleParseError):
            raise
        raise ScheduleParseError(carbon_error(value)) from exc
    return wall.replace(second=0, microsecond=0, tzinfo=tz).astimezone(UTC)


def due_entries(data: dict[str, Any], now: datetime | None = None) -> list[dict[str, Any]]:
    """Remove and return the scheduled messages whose time has come, oldest first."""
    moment = now or now_utc()
    due = [e for e in data["scheduled"] if parse_iso(e["scheduled_for"]) <= moment]
    if due:
        data["scheduled"] = [e for e in data["scheduled"] if e not in due]
    return sorted(due, key=lambda e: (e["scheduled_for"], e["seq"]))


def as_entry_time(moment: datetime) -> str:
    return iso_z(moment)
