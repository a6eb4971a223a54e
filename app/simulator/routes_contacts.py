"""Contacts inside a group (reference §8): legacy columns or modern custom-field tags."""

from __future__ import annotations

from typing import Any

from flask import Response

from .clock import iso_z, now_utc
from .context import Ctx
from .pagination import paginate, parse_page
from .phones import is_possible, matches_pattern, normalise
from .responses import ApiError, success

NOT_FOUND_PAGE = "Sorry, but the page you were trying to view does not exist."
LEGACY_ROW_KEYS = (
    "id",
    "uid",
    "customer_id",
    "group_id",
    "phone",
    "status",
    "first_name",
    "last_name",
    "email",
    "username",
    "company",
    "address",
    "birth_date",
    "anniversary_date",
    "created_at",
    "updated_at",
)
# M's default group fields besides PHONE, in field order, and their labels.
MODERN_FIELDS = ("FIRST_NAME", "LAST_NAME")
PHONE_LABEL = "Phone"
# The text M's list endpoint fails with (reference §8.5); only reproduced, never executed.
SQL_ERROR = (
    "SQLSTATE[42S22]: Column not found: 1054 Unknown column 'first_name' in 'field list' "
    "(Connection: mysql, SQL: select `uid`, `phone`, `first_name`, `last_name` from "
    "`contacts` where `group_id` = {group_id} limit 25 offset 0)"
)


def _name_value(ctx: Ctx, key: str) -> Any:
    """Accept either spelling; the profile's own spelling wins."""
    own, other = (key.upper(), key) if ctx.modern else (key, key.upper())
    return ctx.get(own) if ctx.get(own) is not None else ctx.get(other)


def _subscribed_error(group: dict[str, Any]) -> ApiError:
    return ApiError(f"You have already subscribed to {group['name']}")


def _in_group(ctx: Ctx, group: dict[str, Any]) -> list[dict[str, Any]]:
    contacts = [c for c in ctx.state.data["contacts"].values() if c["group_id"] == group["id"]]
    return sorted(contacts, key=lambda c: c["id"])


# -- create ----------------------------------------------------------------------------------
def store_contact(ctx: Ctx) -> Response:
    ctx.caller()
    group = ctx.group()
    ctx.authorize_form("create_contact")
    if ctx.modern:
        return _store_modern(ctx, group)
    raw = _legacy_phone(ctx)
    # L compares the raw input with the stored digits, so "+1..." never counts as a duplicate.
    if any(str(c["phone"]) == raw for c in _in_group(ctx, group)):
        raise _subscribed_error(group)
    digits = normalise(raw)
    if not is_possible(digits):
        raise ApiError(f"{digits} is a invalid phone number")
    if ctx.quirk("quirk_first_name_required"):
        for key in ("first_name", "last_name"):
            if key not in ctx.input:
                raise ApiError(f'Undefined array key "{key}"')
    contact = _new_contact(ctx, group, digits)
    keys = (
        "customer_id",
        "group_id",
        "phone",
        "status",
        "first_name",
        "last_name",
        "uid",
        "updated_at",
        "created_at",
        "id",
    )
    return success({k: contact[k] for k in keys}, "Contact was successfully added")


def _legacy_phone(ctx: Ctx) -> str:
    ctx.required("phone")
    raw = str(ctx.get("phone"))
    if not matches_pattern(raw):
        raise ApiError(f"{raw} is a invalid phone number")
    return raw


def _store_modern(ctx: Ctx, group: dict[str, Any]) -> Response:
    if ctx.v3:
        ctx.required("PHONE")  # rendered "The p h o n e field is required."
    ctx.require_developers()
    lower = ctx.get("phone")
    if lower is not None and any(str(c["phone"]) == str(lower) for c in _in_group(ctx, group)):
        raise _subscribed_error(group)
    digits = _modern_phone(ctx, group, ignore=None)
    contact = _new_contact(ctx, group, digits)
    return success(_modern_shape(contact), "Contact was successfully added")


def _modern_phone(ctx: Ctx, group: dict[str, Any], ignore: dict[str, Any] | None) -> str:
    """The custom-field validator: 422 with the first message (reference §8.1 M step 4)."""
    raw = ctx.get("PHONE")
    if raw is None:
        raise ApiError(f"The {PHONE_LABEL} is required", 422)
    raw = str(raw)
    digits = normalise(raw)
    if not matches_pattern(raw) or not digits or not is_possible(digits):
        raise ApiError(f"The {PHONE_LABEL} must be a valid phone number.", 422)
    if any(str(c["phone"]) == digits and c is not ignore for c in _in_group(ctx, group)):
        raise ApiError(f"The {PHONE_LABEL} has already been taken.", 422)
    if digits in ctx.caller().get("blacklist", []):
        raise ApiError("This phone number is blacklisted.", 422)
    return digits


def _new_contact(ctx: Ctx, group: dict[str, Any], digits: str) -> dict[str, Any]:
    now = iso_z(now_utc())
    contact = {key: None for key in LEGACY_ROW_KEYS}
    contact.update(
        id=ctx.state.next_id("contact"),
        uid=ctx.state.new_uid(),
        customer_id=group["customer_id"],
        group_id=group["id"],
        phone=int(digits),
        status="subscribe",
        first_name=_name_value(ctx, "first_name"),
        last_name=_name_value(ctx, "last_name"),
        created_at=now,
        updated_at=now,
    )
    ctx.state.data["contacts"][contact["uid"]] = contact
    return contact


def _modern_shape(contact: dict[str, Any]) -> dict[str, Any]:
    fields = {tag: contact[tag.lower()] or "" for tag in MODERN_FIELDS}
    return {
        "uid": contact["uid"],
        "phone": contact["phone"],
        "status": contact["status"],
        "custom_fields": fields,
    }


def _legacy_brief(contact: dict[str, Any]) -> dict[str, Any]:
    return {k: contact[k] for k in ("uid", "phone", "first_name", "last_name")}


# -- view / update / delete ------------------------------------------------------------------
def view_contact(ctx: Ctx) -> Response:
    ctx.caller()
    group, contact = ctx.group(), ctx.contact()
    ctx.require_developers()
    if ctx.modern and not ctx.v3 and ctx.quirk("quirk_modern_http_view_contact_forbidden"):
        raise ApiError("Sorry, but you do not have permissions to access this page.", 403)
    ctx.require_ability("view_contact")
    in_group = contact["group_id"] == group["id"]
    if ctx.modern:
        if not in_group:
            raise ApiError(NOT_FOUND_PAGE, 404)
        return success(_modern_shape(contact), "Contact was successfully retrieved")
    return success(_legacy_brief(contact) if in_group else None)


def update_contact(ctx: Ctx) -> Response:
    ctx.caller()
    group, contact = ctx.group(), ctx.contact()
    ctx.authorize_form("update_contact")
    if ctx.modern:
        return _update_modern(ctx, group, contact)
    raw = _legacy_phone(ctx)
    if contact["group_id"] != group["id"]:
        raise ApiError(NOT_FOUND_PAGE, 404)
    others = [c for c in _in_group(ctx, group) if c is not contact]
    if raw != str(contact["phone"]) and any(str(c["phone"]) == raw for c in others):
        raise _subscribed_error(group)
    digits = normalise(raw)
    if not is_possible(digits):
        raise ApiError(NOT_FOUND_PAGE, 404)
    contact["phone"] = int(digits)
    for key in ("first_name", "last_name"):  # only the keys that were sent
        if key in ctx.input or key.upper() in ctx.input:
            contact[key] = _name_value(ctx, key)
    contact["updated_at"] = iso_z(now_utc())
    return success({k: contact[k] for k in LEGACY_ROW_KEYS}, "Contact was successfully updated")


def _update_modern(ctx: Ctx, group: dict[str, Any], contact: dict[str, Any]) -> Response:
    if ctx.v3:
        ctx.required("PHONE")
    ctx.require_developers()
    if not ctx.v3:
        ctx.required("phone")
    if contact["group_id"] != group["id"]:
        raise ApiError(NOT_FOUND_PAGE, 404)
    contact["phone"] = int(_modern_phone(ctx, group, ignore=contact))
    for key in ("first_name", "last_name"):  # absent or null tags keep their value
        value = _name_value(ctx, key)
        if value is not None:
            contact[key] = value
    contact["updated_at"] = iso_z(now_utc())
    return success(_modern_shape(contact), "Contact was successfully updated")


def delete_contact(ctx: Ctx) -> Response:
    ctx.caller()
    group, contact = ctx.group(), ctx.contact()
    ctx.require_developers()
    ctx.require_ability("delete_contact")
    if contact["group_id"] != group["id"]:
        raise ApiError("Something went wrong. Please try again", 404)
    del ctx.state.data["contacts"][contact["uid"]]
    return success(None, "Contact was successfully deleted")


def list_contacts(ctx: Ctx) -> Response:
    ctx.caller()
    group = ctx.group()
    ctx.require_developers()
    ctx.require_ability("view_contact")
    if ctx.modern and ctx.quirk("quirk_modern_contact_list_sql_error"):
        raise ApiError(SQL_ERROR.format(group_id=group["id"]))
    items = [_legacy_brief(c) for c in _in_group(ctx, group)]
    return success(paginate(items, parse_page(ctx.get("page")), ctx.public_url()))
