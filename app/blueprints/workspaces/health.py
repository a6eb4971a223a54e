"""The workspace's health page for its admins: what the public /healthz no longer tells.

This workspace's token (does it decrypt with the server's keys) and gateway (called as
"Test connection" does), and the server's database and Redis. Counts and the portal's own
words only: never a token, never what answered at the gateway URL.
"""

from __future__ import annotations

from flask import g

from ...rendering import render_page
from ...security import workspace_required
from ...services import health, keys
from .base import bp


@bp.get("/w/<int:workspace_id>/settings/health")
@workspace_required("health.view")
def health_page(workspace_id):
    tokens = health.stored_tokens(workspace_id=g.workspace.id)
    return render_page(
        "workspaces/health.html",
        database=health.database(),
        redis=health.redis_reachable(),
        keyring_ok=keys.keyring_problem() is None,
        tokens=tokens,
        # A token that does not decrypt cannot be used: the gateway is not called then.
        gateway=health.gateway(g.workspace) if tokens.ok else None,
    )
