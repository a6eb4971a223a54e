"""Contact groups: /contacts, /contacts/{group}[/show] (reference §7)."""

from __future__ import annotations

from typing import Any

from flask import Response

from .clock import iso_z, now_utc
from .context import Ctx
from .pagination import paginate, parse_page
from .responses import ApiError, success


def list_groups(ctx: Ctx) -> Response:
    account = ctx.caller()
    ctx.require_developers()
    ctx.require_ability("view_contact_group")
    groups = [g for g in _groups(ctx) if g["customer_id"] == account["id"]]
    items = [{"uid": g["uid"], "name": g["name"]} for g in groups]
    return success(paginate(items, parse_page(ctx.get("page")), ctx.public_url()))


def create_group(ctx: Ctx) -> Response:
    account = ctx.caller()
    ctx.authorize_form("create_contact_group")
    name = _valid_name(ctx, account, ignore=None)
    ctx.require_developers()
    group = new_group(ctx.state, account, name)
    return success(
        {"name": group["name"], "uid": group["uid"]}, "Contact group was successfully added"
    )


def show_group(ctx: Ctx) -> Response:
    ctx.caller()
    group = ctx.group()
    ctx.require_developers()
    ctx.require_ability("view_contact_group")
    return success({"uid": group["uid"], "name": group["name"]})


def update_group(ctx: Ctx) -> Response:
    account = ctx.caller()
    group = ctx.group()
    ctx.authorize_form("update_contact_group")
    name = _valid_name(ctx, account, ignore=group)
    ctx.require_developers()
    group["name"] = name
    group["updated_at"] = iso_z(now_utc())
    return success(
        {"name": group["name"], "uid": group["uid"]}, "Contact group was successfully updated"
    )


def delete_group(ctx: Ctx) -> Response:
    ctx.caller()
    group = ctx.group()
    ctx.require_developers()
    ctx.require_ability("delete_contact_group")
    data = ctx.state.data
    data["groups"].pop(group["uid"], None)
    for uid in [uid for uid, c in data["contacts"].items() if c["group_id"] == group["id"]]:
        del data["contacts"][uid]
    if not ctx.v3 and ctx.quirk("quirk_http_group_delete_error"):
        # The repository reads the session user, absent on http routes, after deleting.
        raise ApiError('Attempt to read property "id" on null')
    return success(None, "Contact group was successfully deleted")


def _groups(ctx: Ctx) -> list[dict[str, Any]]:
    return sorted(ctx.state.data["groups"].values(), key=lambda g: g["id"])


def _valid_name(ctx: Ctx, account: dict[str, Any], ignore: dict[str, Any] | None) -> str:
    """name: required and unique among the caller's groups (case-insensitive, like MySQL)."""
    ctx.required("name")
    name = str(ctx.get("name"))
    taken = any(
        g["customer_id"] == account["id"] and g["name"].lower() == name.lower() and g is not ignore
        for g in ctx.state.data["groups"].values()
    )
    if taken:
        if ctx.v3:
            raise ApiError(f"{name} already available as your contact group.")
        raise ApiError("The name has already been taken.")
    return name


def new_group(state, account: dict[str, Any], name: str) -> dict[str, Any]:
    now = iso_z(now_utc())
    group = {
        "id": state.next_id("group"),
        "uid": state.new_uid(),
        "customer_id": account["id"],
        "name": name,
        "created_at": now,
        "updated_at": now,
    }
    state.data["groups"][group["uid"]] = group
    return group
