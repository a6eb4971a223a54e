"""Date formats the gateway emits (reference §2, §9.3, §10.3)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def iso_z(moment: datetime) -> str:
    """Model attribute serialisation: the database keeps whole seconds, hence `.000000Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def db_timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        return f"{day}th"
    return f"{day}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th') }"


def human(moment: datetime, tz_name: str | None) -> str:
    """PHP `jS M y, g:i A` in the given zone, e.g. `5th Mar 26, 3:04 PM`."""
    local = moment.astimezone(zone(tz_name))
    hour = local.hour % 12 or 12
    return (
        f"{ordinal(local.day)} {local.strftime('%b %y')}, "
        f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    )
