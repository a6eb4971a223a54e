"""Error pages and alert fragments: every error, the portal's own (app/exceptions.py), the
gateway's and HTTP's, mapped to a page or fragment; nothing here ever shows a traceback."""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from .exceptions import ServiceUnavailableError
from .extensions import db, limiter, login_manager
from .gotone.errors import AuthError, GoToneError, NotFoundError, PermissionDeniedError
from .rendering import is_fragment_request
from .security import NulInputError

log = logging.getLogger(__name__)


def _titles() -> dict[int, str]:
    return {
        400: _("Bad request"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        413: _("Too large"),
        422: _("Invalid input"),
        429: _("Too many attempts"),
        500: _("Something went wrong"),
        502: _("Gateway error"),
        503: _("Unavailable"),
        504: _("Gateway timeout"),
    }


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Reload the page and try again."),
        403: _("Your role in this workspace does not allow this."),
        404: _("This page does not exist, or you do not have access to it."),
        405: _("This address does not accept that kind of request."),
        413: _(
            "This request is larger than the portal accepts here. Shorten what you entered "
            "and send it again."
        ),
        429: _("Too many attempts. Wait a few minutes and try again."),
        500: _("The error has been logged. Please try again."),
    }


def _render(status: int, message: str, template: str, **extra) -> tuple[str, int]:
    title = _titles().get(status, _("Error"))
    ctx = {"status": status, "title": title, "message": message, "request_id": g.get("request_id")}
    ctx.update(extra)
    if is_fragment_request():
        return render_template("partials/_alert.html", **ctx), status
    return render_template(template, **ctx), status


def handle_http(error: HTTPException):
    if error.code is None or error.code < 400:
        return error  # routing redirects and the like
    code = error.code
    message = _messages().get(code, _("The request could not be completed."))
    if isinstance(error, NulInputError):
        message = _("The input holds a NUL character, which cannot be stored. Remove it.")
    if isinstance(error, CSRFError):
        message = _(
            "The form expired or did not come from this site. Reload the page and try again."
        )
    template = {403: "errors/403.html", 404: "errors/404.html"}.get(code, "errors/error.html")
    extra, wait = {}, _retry_after(error) if code == 429 else None
    if isinstance(error, RateLimitExceeded) and error.limit.error_message:
        # A member limit (app/rate_limits.py): its own words, the wait, and the form kept.
        message = error.description
        if wait is not None:
            message += " " + _wait(wait)
        extra["repost"] = _repost()
    body, status = _render(code, message, template, **extra)
    headers = {}
    allowed = getattr(error, "valid_methods", None)  # set on MethodNotAllowed only
    if code == 405 and allowed:
        headers["Allow"] = ", ".join(allowed)
    if wait is not None:
        headers["Retry-After"] = str(wait)
    return body, status, headers


def _repost() -> dict | None:
    """What a refused plain form post needs to be sent again as it was (htmx leaves the form
    on the page by itself): its URL and fields, the CSRF token and send key included."""
    if request.method != "POST" or is_fragment_request():
        return None
    return {"url": request.full_path.rstrip("?"), "fields": list(request.form.items(multi=True))}


def _wait(seconds: int) -> str:
    return ngettext(
        "Wait %(num)s second, then try again.", "Wait %(num)s seconds, then try again.", seconds
    )


def _retry_after(error: HTTPException) -> int | None:
    """Seconds to wait: the login throttle's own figure, or the route limit's window."""
    if isinstance(error, RateLimitExceeded):
        current = limiter.current_limit
        return max(1, math.ceil(current.window.reset_time - time.time())) if current else None
    wait = getattr(error, "retry_after", None)
    return int(wait) if isinstance(wait, int | float) else None


def handle_gateway(error: GoToneError):
    # The client's message is written to be safe to show (never the token or a message body).
    log.warning("gateway error %s: %s", type(error).__name__, error)
    if isinstance(error, NotFoundError):
        # Deleted meanwhile, or another account's uid: the same answer as any missing page.
        return _render(404, _messages()[404], "errors/404.html")
    status, headers = 502, {}
    message, hint = str(error), _("Try again in a moment.")
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        status, headers["Retry-After"] = 503, str(int(retry_after))
        hint = _wait(int(retry_after))
    elif "timeout" in type(error).__name__.lower():
        status = 504
    token_problem = isinstance(error, AuthError | PermissionDeniedError)
    if token_problem:
        message, hint = _("GoTone refused this workspace's API token."), None
        if isinstance(error, PermissionDeniedError):
            message = _("GoTone does not allow this workspace's API token to do this.")
    body, status = _render(
        status,
        message,
        "errors/gateway.html",
        gateway_error=True,
        hint=hint,
        token_problem=token_problem,
    )
    return body, status, headers


def handle_unavailable(error: ServiceUnavailableError):
    log.warning("service unavailable: %s", error.message)
    body, status = _render(
        503, error.message, "errors/gateway.html", settings_link=error.settings_link
    )
    return body, status, {"Retry-After": "60"}


def handle_database_down(error: OperationalError):
    """The database refused or dropped the connection (or is locked): a 503, never a 500.

    The page is rendered as for a visitor: the signed-in user and the workspace switcher
    would need the very database that is missing.
    """
    try:
        db.session.rollback()
    except SQLAlchemyError:
        log.debug("rollback after a database outage failed too", exc_info=True)
    log.error(
        "database unavailable (request %s): %s",
        g.get("request_id"),
        type(getattr(error, "orig", None) or error).__name__,
        exc_info=error,
    )
    g._login_user = login_manager.anonymous_user()
    message = _("The portal's database cannot be reached right now. Try again in a minute.")
    body, status = _render(503, message, "errors/error.html")
    return body, status, {"Retry-After": "30"}


def handle_500(error: InternalServerError):
    db.session.rollback()
    original = getattr(error, "original_exception", None)
    log.error("unhandled error (request %s)", g.get("request_id"), exc_info=original)
    return _render(500, _messages()[500], "errors/500.html")


def register_error_handlers(app: Flask) -> None:
    """Answer every error with a page or, for fragment requests, an alert fragment."""
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(GoToneError, handle_gateway)
    app.register_error_handler(ServiceUnavailableError, handle_unavailable)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(InternalServerError, handle_500)
