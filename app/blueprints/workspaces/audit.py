"""The workspace's audit log, for admins."""

from __future__ import annotations

from flask import g, request

from ...rendering import render_page
from ...security import workspace_required
from ...services import audit
from .base import bp


@bp.get("/w/<int:workspace_id>/audit")
@workspace_required("audit.view")
def audit_log(workspace_id):
    page = request.args.get("page", 1, type=int)
    return render_page(
        "workspaces/audit.html", "audit_table", result=audit.list_events(g.workspace, page)
    )
