"""The workspace dashboard: balance, plan expiry, profile and latest messages.

The page itself is the workspace landing (`workspaces.show` renders it with `page_context`);
the routes here return its cards alone for htmx and refresh the cached account data.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, g, redirect, url_for

from ..forms import EmptyForm
from ..forms.history import REQUEST_STATE_LABELS, STATE_LABELS, TYPE_LABELS
from ..rate_limits import refresh_limit
from ..rendering import is_fragment_request, redirect_to, render_page
from ..security import workspace_required
from ..services import dashboard, history, scheduling

bp = Blueprint("dashboard", __name__, url_prefix="/w/<int:workspace_id>/dashboard")
TEMPLATE = "dashboard/index.html"


@bp.app_template_filter("history_time")
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


@bp.app_template_global("history_state")
def history_state(state: str) -> str:
    """The label of an outbox state."""
    return str(STATE_LABELS.get(state, state))


@bp.app_template_global("request_state")
def request_state(state: str) -> str:
    """The label of a send request's state."""
    return str(REQUEST_STATE_LABELS.get(state, state))


@bp.app_template_global("history_type")
def history_type(kind: str) -> str:
    """The label of a message type."""
    return str(TYPE_LABELS.get(kind, kind))


def page_context() -> dict:
    """Everything the dashboard cards show (balance and profile come from the cache)."""
    return {
        "account": dashboard.account_card(g.workspace),
        "profile": dashboard.profile_card(g.workspace),
        "latest": history.latest_messages(g.workspace),
        "refresh_form": EmptyForm(formdata=None),
    }


def _card(block: str, **ctx):
    if not is_fragment_request():
        return redirect(url_for("workspaces.show", workspace_id=g.workspace.id))
    return render_page(TEMPLATE, block, refresh_form=EmptyForm(formdata=None), **ctx)


@bp.get("/account")
@workspace_required("workspace.view")
def account(workspace_id):
    return _card("account_card", account=dashboard.account_card(g.workspace))


@bp.get("/profile")
@workspace_required("workspace.view")
def profile(workspace_id):
    return _card("profile_card", profile=dashboard.profile_card(g.workspace))


@bp.get("/messages")
@workspace_required("workspace.view")
def messages(workspace_id):
    return _card("latest_messages", latest=history.latest_messages(g.workspace))


@bp.post("/refresh")
@refresh_limit
@workspace_required("workspace.view")
def refresh(workspace_id):
    if not EmptyForm().validate_on_submit():
        abort(400)
    dashboard.refresh(g.workspace)
    if is_fragment_request():
        return render_page(TEMPLATE, "dashboard_cards", **page_context())
    return redirect_to(url_for("workspaces.show", workspace_id=workspace_id))
