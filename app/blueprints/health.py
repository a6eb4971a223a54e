"""/healthz: database, encryption keys and gateway reachability, reported separately."""

from __future__ import annotations

import time

import requests
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from ..extensions import db, limiter
from ..models import GoToneSettings
from ..services import keys

bp = Blueprint("health", __name__)
_GATEWAY_CACHE: dict[str, tuple[float, bool]] = {}
_CACHE_SECONDS = 30


def _database() -> str:
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is the answer here
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def _reachable(url: str) -> bool:
    cached = _GATEWAY_CACHE.get(url)
    if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
        return cached[1]
    try:
        # Any HTTP answer counts: reachability, not authentication, is checked here.
        requests.get(url, timeout=(2, 2), allow_redirects=False)
        ok = True
    except requests.RequestException:
        ok = False
    _GATEWAY_CACHE[url] = (time.monotonic(), ok)
    return ok


def _gateways() -> dict[str, int]:
    try:
        urls = db.session.scalars(
            db.select(GoToneSettings.base_url).where(GoToneSettings.token_enc.is_not(None))
            .distinct().limit(5)
        ).all()  # fmt: skip
    except Exception:  # noqa: BLE001
        db.session.rollback()
        urls = []
    urls = urls or [current_app.config["GOTONE_DEFAULT_URL"]]
    reachable = sum(1 for url in urls if _reachable(url))
    return {"checked": len(urls), "reachable": reachable}


@bp.get("/healthz")
@limiter.exempt
def healthz():
    database = _database()
    problem = keys.keyring_problem()
    gateway = _gateways()
    body = {
        "database": database,
        "encryption_keys": "ok" if problem is None else f"error: {problem}",
        "gateway": "ok" if gateway["reachable"] == gateway["checked"] else "unreachable",
        "gateways": gateway,
    }
    healthy = database == "ok"
    body["status"] = (
        "ok"
        if healthy and problem is None and body["gateway"] == "ok"
        else ("degraded" if healthy else "down")
    )
    return jsonify(body), 200 if healthy else 503
