"""/me and /balance in both families (reference §10)."""

from __future__ import annotations

from flask import Response

from .accounts import expired_on, format_balance
from .clock import human, parse_iso
from .context import Ctx
from .responses import success


def _display_zone(ctx: Ctx) -> str:
    """v3 formats in the user's zone; the http family has no logged-in user: APP_TIMEZONE."""
    return ctx.caller()["timezone"] if ctx.v3 else ctx.config.app_timezone


def me(ctx: Ctx) -> Response:
    account = ctx.caller()
    ctx.require_developers()
    data = {
        "uid": account["uid"],
        "api_token": account["token"],
        "first_name": account["first_name"],
        "last_name": account["last_name"],
        "email": account["email"],
        "locale": account["locale"],
        "timezone": account["timezone"],
    }
    last_access = account.get("last_access_at")
    if ctx.modern:
        if last_access:  # M omits the key when null and sends the raw datetime otherwise
            data["last_access_at"] = last_access
    else:
        data["last_access_at"] = human(parse_iso(last_access), _display_zone(ctx))
    return success(data)


def balance(ctx: Ctx) -> Response:
    account = ctx.caller()
    ctx.require_developers()
    return success(
        {
            "remaining_balance": format_balance(account),
            "expired_on": expired_on(account, _display_zone(ctx)),
        }
    )
