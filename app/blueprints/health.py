"""/healthz for monitors: the process and the database, and one word when something else needs
the administrator. It calls no gateway and names no reason (services/health.py explains why);
the details are on each workspace's admin health page and in `flask health`."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..extensions import limiter
from ..services import health

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    status, code = health.public_status()
    return jsonify({"status": status, "database": "ok" if code == 200 else "error"}), code
