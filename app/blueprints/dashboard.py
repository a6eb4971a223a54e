"""The workspace dashboard: balance, plan expiry, profile and latest messages.

The page itself is the workspace landing (`workspaces.show` renders it with
app/pages.py dashboard_context); the routes here return its cards alone for htmx and refresh
the cached account data.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, url_for

from ..forms import EmptyForm
from ..pages import dashboard_context
from ..rate_limits import refresh_limit
from ..rendering import is_fragment_request, redirect_to, render_page
from ..security import workspace_required
from ..services import dashboard, history

bp = Blueprint("dashboard", __name__, url_prefix="/w/<int:workspace_id>/dashboard")
TEMPLATE = "dashboard/index.html"


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
        return render_page(TEMPLATE, "dashboard_cards", **dashboard_context())
    return redirect_to(url_for("workspaces.show", workspace_id=workspace_id))
