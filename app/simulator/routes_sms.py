"""/sms/send, /sms/{uid}, /sms (reference §9)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Response

from .clock import db_timestamp, is_timezone, now_utc, parse_iso, zone
from .context import NO_ABILITY, Ctx, model_not_found
from .pagination import paginate, parse_page
from .responses import ApiError, success
from .sending import send_bulk, send_single, validate


def send(ctx: Ctx) -> Response:
    request = validate(ctx)
    # E sent scheduled singles through the bulk routine; L and M ignore the schedule there.
    single_ignores_schedule = ctx.quirk("quirk_single_schedule_ignored")
    if "," in request.recipient or (request.schedule_time and not single_ignores_schedule):
        return send_bulk(ctx, request)
    return send_single(ctx, request)


def _check_reports_access(ctx: Ctx, generic_developers_message: bool = False) -> None:
    ctx.caller()
    if generic_developers_message and ctx.v3:
        ctx.require_developers(NO_ABILITY)
    else:
        ctx.require_developers()
    ctx.require_ability("view_reports", "permissions" if ctx.modern else "abilities")


def view(ctx: Ctx) -> Response:
    _check_reports_access(ctx)
    report = ctx.bound["report"]
    if report["user_id"] != ctx.caller()["id"] and not ctx.quirk("quirk_unscoped_uids"):
        if ctx.modern:
            raise ApiError("SMS Info not found", 404)
        raise ApiError(model_not_found("report", report["uid"]))
    if ctx.modern:
        return success(_modern_item(report, with_id=False, with_sent_at=False))
    return success(_legacy_item(report))


def index(ctx: Ctx) -> Response:
    # M's v3 list answers the generic text when `developers` is missing (reference §1.4).
    _check_reports_access(ctx, generic_developers_message=True)
    reports = sorted(ctx.state.data["reports"].values(), key=lambda r: r["id"], reverse=True)
    everyone = not ctx.modern and ctx.quirk("quirk_list_sms_all_users")
    if not everyone:
        reports = [r for r in reports if r["user_id"] == ctx.caller()["id"]]
    page = parse_page(ctx.get("page"))
    path = ctx.public_url()
    if not ctx.modern:
        return success(paginate([_legacy_item(r) for r in reports], page, path))
    reports = _modern_filter(ctx, reports)
    items = [_modern_item(r, with_id=ctx.v3, with_sent_at=True) for r in reports]
    return success(paginate(items, page, path), "SMS data fetched successfully")


def _legacy_item(report: dict[str, Any]) -> dict[str, Any]:
    keys = ("uid", "to", "from", "message", "status", "cost")
    return {key: report[key] for key in keys}


def _modern_item(report: dict[str, Any], with_id: bool, with_sent_at: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"id": report["id"]} if with_id else {}
    item.update(
        uid=report["uid"],
        to=report["to"],
        **{"from": report["from"]},
        message=report["message"],
        sms_type=report["sms_type"],
        direction=report["direction"],
        status=report["customer_status"],
        sms_count=report["sms_count"],
        cost=report["cost"],
    )
    if with_sent_at:
        item["sent_at"] = db_timestamp(parse_iso(report["created_at"]))
    return item


def _modern_filter(ctx: Ctx, reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """M's filters: timezone, start/end (Y-m-d H:i:s, default last 30 days), type, direction."""
    tz_name = ctx.get("timezone") or ctx.caller().get("timezone") or "UTC"
    if not isinstance(tz_name, str) or not is_timezone(tz_name):
        raise ApiError("Invalid timezone provided.", 422)
    tz = zone(tz_name)
    now = now_utc()
    start = _parse_bound(ctx.get("start_date"), tz) or now - timedelta(days=30)
    end = _parse_bound(ctx.get("end_date"), tz) or now
    if start > end:
        raise ApiError("Start datetime must be before end datetime.", 422)
    kept = []
    for report in reports:
        sent = parse_iso(report["created_at"])
        if not start <= sent <= end:
            continue
        if ctx.get("sms_type") is not None and report["sms_type"] != ctx.get("sms_type"):
            continue
        if ctx.get("direction") is not None and report["direction"] != ctx.get("direction"):
            continue
        kept.append(report)
    return kept


def _parse_bound(value: Any, tz) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise ApiError("Invalid datetime format. Use Y-m-d H:i:s", 422) from exc
    return moment.replace(tzinfo=tz)
