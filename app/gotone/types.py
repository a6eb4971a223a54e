"""Result types: frozen dataclasses parsed tolerantly from both gateway generations.

Legacy (L) and modern (M) servers answer in different shapes (reference §8, §9, §15); each
`from_api` accepts both, ignores unknown keys and raises ProtocolError only when a field the
type cannot do without is missing or of the wrong kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from .errors import ProtocolError

T = TypeVar("T")

# Reference §14: the normalised statuses M uses; anything else counts as a failure.
FAILED_STATUSES = frozenset({"Failed", "Rejected", "Undelivered", "Expired"})
PENDING_STATUSES = frozenset({"Enroute", "Accepted"})
KNOWN_STATUSES = FAILED_STATUSES | PENDING_STATUSES | {"Delivered", "Skipped"}


def _mapping(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ProtocolError(f"the gateway sent a {what} that is not a JSON object")
    return data


def _required_text(data: Mapping[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise ProtocolError(f"the gateway sent a {what} without a usable {key!r}")
    return str(value)


def _text(value: Any) -> str:
    """Optional text: None (the gateway's empty string) becomes ""."""
    if value is None or isinstance(value, bool):
        return ""
    return str(value)


def _optional_text(value: Any) -> str | None:
    return None if value is None or isinstance(value, bool) else str(value)


def _digits(value: Any) -> str:
    """Phone numbers come as JSON integers (model cast) or strings; keep them as digit text."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"\D", "", str(value))


def _decimal(value: Any) -> Decimal | None:
    """Costs come as "1", "0.5", 1 or 0.5 (reference §6); anything else is unknown."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list (the gateway's paginator: fixed 25 per page, reference §5)."""

    items: tuple[T, ...]
    page: int
    last_page: int
    total: int
    per_page: int

    @property
    def has_next(self) -> bool:
        return bool(self.items) and self.page < self.last_page

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.has_next else None

    @classmethod
    def from_api(cls, data: Any, parse: Callable[[Any], T]) -> Page[T]:
        body = _mapping(data, "page")
        rows = body.get("data")
        page, last, total = (_int(body.get(k)) for k in ("current_page", "last_page", "total"))
        if not isinstance(rows, list) or page is None or last is None:
            raise ProtocolError("the gateway sent a list that is not a paginator")
        per_page = _int(body.get("per_page")) or 25
        items = tuple(parse(row) for row in rows)
        return cls(items, page, max(last, 1), total if total is not None else len(items), per_page)


@dataclass(frozen=True)
class Group:
    """A contact group."""

    uid: str
    name: str

    @classmethod
    def from_api(cls, data: Any) -> Group:
        body = _mapping(data, "group")
        return cls(uid=_required_text(body, "uid", "group"), name=_text(body.get("name")))


@dataclass(frozen=True)
class Contact:
    """A contact; names come from L's columns or M's FIRST_NAME/LAST_NAME custom fields."""

    uid: str
    phone: str
    first_name: str = ""
    last_name: str = ""
    status: str | None = None
    custom_fields: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def subscribed(self) -> bool | None:
        return None if self.status is None else self.status == "subscribe"

    @classmethod
    def from_api(cls, data: Any) -> Contact:
        body = _mapping(data, "contact")
        raw_fields = body.get("custom_fields")
        custom = (
            {str(k): _text(v) for k, v in raw_fields.items()}
            if isinstance(raw_fields, Mapping)
            else {}
        )
        return cls(
            uid=_required_text(body, "uid", "contact"),
            phone=_digits(body.get("phone", custom.get("PHONE"))),
            first_name=_text(body.get("first_name")) or custom.get("FIRST_NAME", ""),
            last_name=_text(body.get("last_name")) or custom.get("LAST_NAME", ""),
            status=_optional_text(body.get("status")),
            custom_fields=MappingProxyType(custom),
        )


@dataclass(frozen=True)
class Message:
    """An SMS report (sent or received message). `status` is the gateway's free text."""

    uid: str
    to: str
    sender: str | None = None
    text: str = ""
    status: str = ""
    cost: Decimal | None = None
    sms_count: int | None = None
    sms_type: str | None = None
    direction: str | None = None
    sent_at: str | None = None

    @property
    def is_delivered(self) -> bool:
        # Some gateway adapters record "Delivered|<provider message id>" (reference §9.1.3).
        return self.status.startswith("Delivered")

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_STATUSES

    @property
    def is_failed(self) -> bool:
        if self.is_delivered:
            return False
        return self.status in FAILED_STATUSES or self.status not in KNOWN_STATUSES

    @classmethod
    def from_api(cls, data: Any) -> Message:
        body = _mapping(data, "message")
        # M's bulk rows carry the normalised status as customer_status (reference §9.1.4).
        status = body.get("customer_status") or body.get("status")
        return cls(
            uid=_required_text(body, "uid", "message"),
            to=_digits(body.get("to")),
            sender=_optional_text(body.get("from")),
            text=_text(body.get("message")),
            status=_text(status),
            cost=_decimal(body.get("cost")),
            sms_count=_int(body.get("sms_count")),
            sms_type=_optional_text(body.get("sms_type")),
            direction=_optional_text(body.get("direction")),
            sent_at=_optional_text(body.get("sent_at") or body.get("created_at")),
        )


@dataclass(frozen=True)
class Balance:
    """The account balance: the gateway's formatted text plus a best-effort number."""

    remaining_balance: str
    amount: Decimal | None
    unlimited: bool
    expired_on: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> Balance:
        body = _mapping(data, "balance")
        raw = body.get("remaining_balance")
        if raw is None or isinstance(raw, bool | Mapping | list):
            raise ProtocolError("the gateway sent a balance without remaining_balance")
        text = str(raw)
        unlimited = text.strip().lower() == "unlimited"
        amount = None if unlimited else _parse_amount(text)
        return cls(text, amount, unlimited, _optional_text(body.get("expired_on")))


def _parse_amount(text: str) -> Decimal | None:
    """Reference §10.2: keep digits, '.' and '-' ("$1,250" -> 1250, "₱427" -> 427)."""
    kept = re.sub(r"[^0-9.\-]", "", text)
    if not re.fullmatch(r"-?\d+(\.\d+)?", kept):
        return None
    return Decimal(kept)


@dataclass(frozen=True)
class Profile:
    """The account behind the token. The token itself (in the answer) is deliberately dropped."""

    uid: str
    first_name: str
    last_name: str
    email: str
    locale: str | None
    timezone: str | None
    last_access_at: str | None = None

    @classmethod
    def from_api(cls, data: Any) -> Profile:
        body = _mapping(data, "profile")
        return cls(
            uid=_required_text(body, "uid", "profile"),
            first_name=_text(body.get("first_name")),
            last_name=_text(body.get("last_name")),
            email=_text(body.get("email")),
            locale=_optional_text(body.get("locale")),
            timezone=_optional_text(body.get("timezone")),
            last_access_at=_optional_text(body.get("last_access_at")),
        )


@dataclass(frozen=True)
class SendResult:
    """What a send did, merged over every call it took.

    `messages` holds the reports the gateway created now (failed deliveries included: check
    `Message.is_failed`); it is empty for a scheduled send. `errors` holds the gateway's
    per-number error texts (token scrubbed). `scheduled` comes from the request, never from the
    gateway's wording, which says "scheduled" for immediate bulk sends too (reference §17.30).
    """

    messages: tuple[Message, ...]
    errors: tuple[str, ...]
    scheduled: bool
    recipients: tuple[str, ...]
    calls: int = 1

    @property
    def delivered(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.is_delivered)

    @property
    def failed(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.is_failed)

    def merge(self, other: SendResult) -> SendResult:
        """Return the result of this call followed by `other`."""
        return SendResult(
            messages=self.messages + other.messages,
            errors=self.errors + other.errors,
            scheduled=self.scheduled,
            recipients=self.recipients + other.recipients,
            calls=self.calls + other.calls,
        )
