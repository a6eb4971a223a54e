"""Request-level security: headers, CSP, request ids, safe redirects, workspace access."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_required
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import UnprocessableEntity

from .extensions import db, htmx, login_manager
from .models import Membership
from .permissions import can

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # fits audit_events.request_id
_UNSAFE_NEXT = re.compile(r"[\x00-\x20\x7f\\]")


class TLSAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over TLS (ProxyFix aware)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def save_session(self, app: Flask, session, response) -> None:
        # A static file is the same for everyone: no refreshed cookie and no `Vary: Cookie`
        # (the cookie changes every request, so that Vary would defeat the year-long cache).
        if request.endpoint != "static":
            super().save_session(app, session, response)


def safe_next(target: str | None) -> str | None:
    """Return `target` if it is a path on this site, else None (open-redirect guard)."""
    if not target or len(target) > 2000 or _UNSAFE_NEXT.search(target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _refuse_cross_site() -> None:
    """Defence in depth beside the CSRF token (ASVS 3.5): a change a browser says was started
    by another site is refused. Sec-Fetch-Site rather than Origin: proxies rewrite Host, so
    comparing Origin with it would refuse this site's own forms behind some of them."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and (
        request.headers.get("Sec-Fetch-Site") == "cross-site"
    ):
        raise CSRFError("cross-site request")


class NulInputError(UnprocessableEntity):
    """A posted form holding a NUL character: PostgreSQL text cannot store it (it failed as a
    500 deep in whichever view saved it), and no person types it. Query strings are left to
    their readers (e.g. the history search refuses it, ?next= falls back to the home page)."""


def _refuse_nul_input() -> None:
    # items(multi=True): a field sent twice must not hide a NUL in its second value.
    values = [value for _, value in request.form.items(multi=True)]
    values += [f.filename or "" for _, f in request.files.items(multi=True)]
    if any("\x00" in value for value in values):
        raise NulInputError()


def _set_request_id() -> None:
    """The id that audit rows, log lines and error pages carry. A client could otherwise pick
    it: make its audit rows look like another request's, or collide with them. So a sent id
    is kept only behind a trusted proxy (PORTAL_PROXY_COUNT, the same trust as its
    X-Forwarded-For), which must set or strip the header, and only when well formed."""
    incoming = request.headers.get("X-Request-ID", "")
    trusted = current_app.config["PROXY_COUNT"] > 0
    g.request_id = incoming if trusted and _REQUEST_ID.fullmatch(incoming) else secrets.token_hex(8)


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Request-ID"] = g.get("request_id", "")
    if request.is_secure:
        response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static" and current_user.is_authenticated:
        # Pages of a signed-in user hold workspace data: keep them out of shared caches.
        response.headers["Cache-Control"] = "no-store"
    return response


def _unauthorized():
    """Logged-out htmx requests get 401 + HX-Redirect; plain ones the login page."""
    if htmx:
        current = urlsplit(htmx.current_url or "")
        back = safe_next(current.path + (f"?{current.query}" if current.query else ""))
        response = redirect(url_for("auth.login", next=back))
        response.status_code = 401
        response.headers["HX-Redirect"] = response.headers["Location"]
        del response.headers["Location"]
        return response
    back = safe_next(request.full_path.rstrip("?")) if request.method == "GET" else None
    return redirect(url_for("auth.login", next=back))


def workspace_required(permission: str) -> Callable:
    """Load g.workspace and g.membership from the URL's workspace_id; 404 for non-members."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            membership = db.session.scalar(
                db.select(Membership)
                .options(joinedload(Membership.workspace))  # g.workspace: same statement
                .where(
                    Membership.workspace_id == kwargs["workspace_id"],
                    Membership.user_id == current_user.id,
                )
            )
            if membership is None:
                abort(404)  # never 403: that would confirm the workspace exists
            if not can(membership.role, permission):
                abort(403)
            g.membership = membership
            g.workspace = membership.workspace
            if session.get("workspace_id") != membership.workspace_id:
                # Only on a change: an assignment re-signs and re-sends the cookie every time.
                session["workspace_id"] = membership.workspace_id
            return view(*args, **kwargs)

        wrapper.permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorator


def init_security(app: Flask) -> None:
    """Install the request id, the security headers and the login handlers."""
    app.session_interface = TLSAwareSessionInterface()
    app.before_request(_set_request_id)
    app.before_request(_refuse_cross_site)
    app.before_request(_refuse_nul_input)
    app.after_request(_security_headers)
    login_manager.unauthorized_handler(_unauthorized)
