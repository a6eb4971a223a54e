"""Customer accounts: creation, permissions, balance formatting (reference §1.3, §10, §13)."""

from __future__ import annotations

import secrets
import string
import zlib
from datetime import timedelta
from typing import Any

from .clock import human, iso_z, now_utc, parse_iso
from .state import SimulatorState

# Everything a customer can be granted; a token's abilities are a copy of the permissions.
ALL_PERMISSIONS = (
    "developers",
    "view_contact_group",
    "create_contact_group",
    "update_contact_group",
    "delete_contact_group",
    "view_contact",
    "create_contact",
    "update_contact",
    "delete_contact",
    "view_reports",
    "sms_sending",
)

UNLIMITED = -1


def sanctum_token(account_id: int) -> str:
    """`<id>|<40 random><crc32 hex>`: the Sanctum 3.3+ shape the gateway issues now."""
    alphabet = string.ascii_letters + string.digits
    secret = "".join(secrets.choice(alphabet) for _ in range(40))
    return f"{account_id}|{secret}{zlib.crc32(secret.encode()):08x}"


def create_account(state: SimulatorState, **options: Any) -> dict[str, Any]:
    """Add a customer; options mirror SimulatorControl.create_account."""
    with state.lock:
        account_id = state.next_id("account")
        token = options.get("token") or sanctum_token(account_id)
        if state.account_by_token(token):
            raise ValueError("an account with that token already exists")
        now = now_utc()
        account = {
            "id": account_id,
            "uid": state.new_uid(),
            "token": token,
            "first_name": options.get("first_name", "Demo"),
            "last_name": options.get("last_name", "User"),
            "email": options.get("email", "demo@example.com"),
            "locale": options.get("locale", "en"),
            "timezone": options.get("timezone", "UTC"),
            "balance": _number(options.get("balance", 1000)),
            "currency_format": options.get("currency_format", "${PRICE}"),
            "subscription_ends_at": options.get("subscription_ends_at")
            or iso_z(now + timedelta(days=365)),
            "subscription_active": bool(options.get("subscription_active", True)),
            "last_access_at": iso_z(now),
            "sender_id_verification": bool(options.get("sender_id_verification", False)),
            "sender_ids": list(options.get("sender_ids") or ()),
            "abilities": _optional_list(options.get("abilities")),
            "permissions": _optional_list(options.get("permissions")),
            "unit_price": _number(options.get("unit_price", 1)),
            "coverage": _coverage(options.get("coverage")),
            "blacklist": [str(n) for n in options.get("blacklist") or ()],
            "delivery": {},
            "created_at": iso_z(now),
        }
        state.data["accounts"].append(account)
        return account


def _optional_list(value: Any) -> list[str] | None:
    return None if value is None else [str(v) for v in value]


def _coverage(value: Any) -> dict[str, Any] | None:
    """Coverage: None = every country at unit_price; else {calling code: price or {type: price}}."""
    if value is None:
        return None
    return {str(code).lstrip("+"): price for code, price in dict(value).items()}


def _number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def has(account: dict[str, Any], kind: str, name: str) -> bool:
    """kind is "abilities" (token) or "permissions" (user); None means everything."""
    granted = account.get(kind)
    return granted is None or name in granted


def php_number(value: float) -> str:
    """How PHP prints a float in string interpolation: `1000`, `0.5`, `1.25`."""
    number = _number(value)
    return str(number) if isinstance(number, int) else repr(number)


def format_balance(account: dict[str, Any]) -> str:
    """`Unlimited`, or the currency pattern around `1,250` / `12.50` (reference §10.2)."""
    balance = float(account["balance"])
    if balance == UNLIMITED:
        return "Unlimited"
    text = f"{balance:,.0f}" if balance.is_integer() else f"{balance:,.2f}"
    return str(account.get("currency_format") or "{PRICE}").replace("{PRICE}", text)


def expired_on(account: dict[str, Any], tz_name: str) -> str:
    return human(parse_iso(account["subscription_ends_at"]), tz_name)


def unit_price(account: dict[str, Any], country_code: int, sms_type: str) -> float | None:
    """Price per segment for a destination, or None when the country is not covered."""
    coverage = account.get("coverage")
    if coverage is None:
        return float(account["unit_price"])
    price = coverage.get(str(country_code))
    if price is None:
        return None
    if isinstance(price, dict):
        key = "plain" if sms_type == "unicode" else sms_type
        return float(price.get(key, price.get("plain", account["unit_price"])))
    return float(price)


def adjust_balance(account: dict[str, Any], delta: float) -> None:
    account["balance"] = _number(float(account["balance"]) + delta)
