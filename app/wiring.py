"""What create_app sets up once per app besides the extensions, blueprints, error handlers and
CLI: the request scope the services read (services/scope.py).
"""

from __future__ import annotations

from flask import Flask, g, request

from .services import scope


# -- the request scope -----------------------------------------------------------------------------
def init_request_scope(app: Flask) -> None:
    """Open each request's scope once its id is known (security.py registers that hook
    first); close it when the request ends."""
    app.before_request(_open_scope)
    app.teardown_request(_close_scope)


def _open_scope() -> None:
    scope.open_scope(scope.RequestScope(ip=request.remote_addr, request_id=g.get("request_id")))


def _close_scope(_error: BaseException | None = None) -> None:
    scope.close_scope()
