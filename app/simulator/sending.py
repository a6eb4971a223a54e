"""The send pipeline: checks, single and bulk paths, charging and refunds (reference §9.1, §13)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import phonenumbers

from app.gotone.segments import count_segments

from .accounts import UNLIMITED, adjust_balance, php_number, unit_price
from .clock import now_utc
from .context import Ctx
from .gateway import deliver, phone_parse_error, report_shape_bulk, report_shape_single
from .responses import ApiError, success
from .schedule import ScheduleParseError, as_entry_time, parse_schedule

TYPES = ("plain", "unicode", "voice", "mms", "whatsapp", "viber", "otp")
BAD_TYPE = (
    "Please insert valid sms type called plain, unicode, voice, mms, viber, OTP and whatsapp."
)
SCHEDULED = "Message is scheduled successfully."
DELIVERED = "Your message was successfully delivered"
MAX_RECIPIENTS = 100
_STRIP = re.compile(r"[+()\- ]")
_URL = re.compile(r"^[a-z][a-z0-9+.\-]*://[^\s/?#]+[^\s]*$", re.IGNORECASE)


@dataclass
class SendRequest:
    recipient: str
    message: str
    sender_id: str | None
    sms_type: str
    segments: int
    media_url: str | None
    schedule_time: str | None


def validate(ctx: Ctx) -> SendRequest:
    """Steps before the single/bulk split, in the gateway's order (reference §9.1.2)."""
    if ctx.v3:
        ctx.required("recipient", "message")
    else:
        ctx.required("recipient", "message", "api_token")
        ctx.http_user()
    account = ctx.caller()
    ctx.require_developers()
    if ctx.modern and not account.get("subscription_active", True):
        raise ApiError("Purchased plan is not active. Please contact support team.", 404)
    message = str(ctx.get("message"))
    sms_type = ctx.get("type") or "plain"
    info = count_segments(message)
    if info.encoding == "UTF16" and not (ctx.modern and sms_type == "whatsapp"):
        sms_type = "unicode"
    if sms_type not in TYPES:
        raise ApiError(BAD_TYPE, 404)
    _check_type_parameters(ctx, sms_type)
    segments = info.segments
    if segments == 0 and (sms_type == "mms" or (ctx.modern and sms_type == "voice")):
        segments = 1
    request = SendRequest(
        recipient=str(ctx.get("recipient")),
        message=message,
        sender_id=_text(ctx.get("sender_id")),
        sms_type=sms_type,
        segments=segments,
        media_url=_text(ctx.get("media_url")),
        schedule_time=_text(ctx.get("schedule_time")),
    )
    if ctx.modern:
        _modern_presend_checks(account, request)
    return request


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _check_type_parameters(ctx: Ctx, sms_type: str) -> None:
    if sms_type == "voice":
        # L wants both filled; M only checks that the keys are present.
        if ctx.modern:
            ok = "gender" in ctx.input and "language" in ctx.input
        else:
            ok = ctx.get("gender") is not None and ctx.get("language") is not None
        if not ok:
            raise ApiError("Language and gender parameters are required", 404)
    if sms_type == "mms":
        media_url = ctx.get("media_url")
        if media_url is None:
            raise ApiError("media_url parameter is required", 404)
        if not _URL.match(str(media_url)):
            raise ApiError("Valid media url is required.", 404)


def _modern_presend_checks(account: dict[str, Any], request: SendRequest) -> None:
    if float(account["balance"]) == 0:
        raise ApiError("You have exceeded your sending limit.", 404)
    if not sender_allowed(account, request.sender_id):
        raise ApiError(
            f'Sender ID "{request.sender_id or ""}" is not authorized to send this message.', 404
        )


def sender_allowed(account: dict[str, Any], sender_id: str | None) -> bool:
    """Reference §12: only enforced when the customer has verification switched on."""
    if not account.get("sender_id_verification"):
        return True
    return bool(sender_id) and sender_id in account.get("sender_ids", [])


def not_enough_balance(balance: float, price: float) -> ApiError:
    return ApiError(
        "There is not enough balance available to send this message."
        f"You have {php_number(balance)} of the {php_number(price)}",
        403,
    )


# -- single path (no comma) ----------------------------------------------------------------
def send_single(ctx: Ctx, request: SendRequest):
    account = ctx.caller()
    # An L bug (reference §9.1.3): M reads the key the http controller passes.
    if not ctx.v3 and not ctx.modern and ctx.quirk("quirk_http_single_send_user_key"):
        raise ApiError('Undefined array key "user"')
    digits = _STRIP.sub("", request.recipient)
    if ctx.modern:
        digits = digits.lstrip("0")
    try:
        number = phonenumbers.parse("+" + digits)
    except phonenumbers.NumberParseException as exc:
        raise ApiError(phone_parse_error(exc), 403) from exc
    region = phonenumbers.region_code_for_number(number)
    if not phonenumbers.is_possible_number(number) or (ctx.modern and region in (None, "ZZ")):
        raise ApiError(f"{digits} is a invalid phone number", 403)
    to = f"{number.country_code}{phonenumbers.national_significant_number(number)}"
    if account.get("coverage") == {} and not ctx.modern:
        raise ApiError("Please add coverage on your plan.", 403)
    unit = unit_price(account, number.country_code, request.sms_type)
    if unit is None:
        raise ApiError(
            "Permission to send an SMS has not been enabled for the region indicated by the "
            f"'To' number: {to}",
            403,
        )
    if to in account["blacklist"] or digits in account["blacklist"]:
        raise ApiError("Number contains in the blacklist", 403)
    price = request.segments * unit
    balance = float(account["balance"])
    if balance != UNLIMITED and price > balance:
        raise not_enough_balance(balance, price)
    report = deliver(ctx.state, account, to, request, price, api_key=ctx.presented_token())
    if "Delivered" not in report["status"]:
        raise ApiError(report["status"], 403)
    if balance != UNLIMITED:
        adjust_balance(account, -price)
    return success(report_shape_single(report, ctx.modern), DELIVERED)


# -- bulk path (at least one comma) --------------------------------------------------------
def send_bulk(ctx: Ctx, request: SendRequest):
    account = ctx.caller()
    balance = float(account["balance"])
    if balance == 0:
        raise ApiError("You have exceeded your sending limit.", 403)
    if not account.get("subscription_active", True):
        raise ApiError("No active subscription", 403)
    if not ctx.modern and not sender_allowed(account, request.sender_id):
        raise ApiError(
            f"Originator {request.sender_id or ''} is not authorized to send this message", 403
        )
    # Exact duplicate strings go before normalisation, so "1" and "+1" both stay.
    items = list(dict.fromkeys(request.recipient.split(",")))
    if len(items) > MAX_RECIPIENTS:
        raise ApiError("You cannot send more than 100 SMS in a single request.", 403)
    valid, errors = _sort_numbers(account, items, request.sms_type)
    total = sum(request.segments * unit for _, unit in valid)
    if balance != UNLIMITED and total > balance:
        raise not_enough_balance(balance, total)
    scheduled_for = _schedule(ctx, account, request)
    charged = balance != UNLIMITED or ctx.quirk("quirk_bulk_charges_unlimited")
    if charged:
        adjust_balance(account, -total)
    message = " ".join(errors) or SCHEDULED
    if scheduled_for is not None:
        for to, unit in valid:
            _queue(ctx, account, to, request, request.segments * unit, scheduled_for, charged)
        return success(None, message)
    rows = []
    for to, unit in valid:
        price = request.segments * unit
        report = deliver(ctx.state, account, to, request, price, api_key=ctx.presented_token())
        if "Delivered" not in report["status"] and charged:
            adjust_balance(account, price)
        rows.append(report_shape_bulk(report, ctx.modern))
    return success(rows, message)


def _sort_numbers(
    account: dict[str, Any], items: list[str], sms_type: str
) -> tuple[list[tuple[str, float]], list[str]]:
    """Per-number checks; failures are collected as texts, not fatal (reference §9.1.4)."""
    valid: list[tuple[str, float]] = []
    errors: list[str] = []
    for item in items:
        cleaned = _STRIP.sub("", item)
        if not 7 <= len(re.sub(r"[^0-9+\-]", "", cleaned)) <= 15:
            errors.append(f"{cleaned} is a invalid phone number")
            continue
        try:
            number = phonenumbers.parse("+" + cleaned)
        except phonenumbers.NumberParseException as exc:
            errors.append(phone_parse_error(exc))
            continue
        unit = unit_price(account, number.country_code, sms_type)
        if unit is None:
            errors.append(
                "Permission to send an SMS has not been enabled for the region indicated by "
                f"the 'To' number: {cleaned}"
            )
            continue
        valid.append((cleaned, unit))
    return valid, errors


def _schedule(ctx: Ctx, account: dict[str, Any], request: SendRequest):
    if request.schedule_time is None:
        return None
    try:
        return parse_schedule(request.schedule_time, account.get("timezone"))
    except ScheduleParseError as exc:
        raise ApiError(str(exc)) from exc


def _queue(ctx, account, to, request: SendRequest, price, scheduled_for, charged) -> None:
    """Scheduled messages are not reports yet; the scheduler turns them into reports."""
    ctx.state.data["scheduled"].append(
        {
            "seq": ctx.state.next_id("scheduled"),
            "user_id": account["id"],
            "to": to,
            "from": request.sender_id,
            "message": request.message,
            "sms_type": request.sms_type,
            "segments": request.segments,
            "media_url": request.media_url,
            "price": price,
            "charged": charged,
            "api_key": ctx.presented_token(),
            "scheduled_for": as_entry_time(scheduled_for),
            "queued_at": as_entry_time(now_utc()),
        }
    )
