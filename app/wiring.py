"""What create_app sets up once per app besides the extensions, blueprints, error handlers and
CLI: URL converters, Jinja filters and globals, the job system, and the request scope the
services read (services/scope.py).

Here rather than as side effects of registering a blueprint: the order is create_app's, no
blueprint depends on another one having been registered first, and a blueprint only adds
routes.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, request
from werkzeug.routing import BaseConverter, IntegerConverter

from . import filters
from .jobs import init_jobs
from .services import scope
from .services.job_kinds import load_job_kinds
from .services.outbox import sweep as outbox_sweep
from .services.scheduling import dispatch_due


# -- URL converters -------------------------------------------------------------------------------
class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` up to the database's integer: a longer id is a 404, not an overflow (500)."""

    def __init__(self, map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class UidConverter(BaseConverter):
    """A gateway uid (PHP uniqid: 13 lowercase hex); anything else is a 404 before any call."""

    regex = "[0-9a-f]{13}"


def init_converters(app: Flask) -> None:
    """Before any route is added: a rule is compiled with the converters of its map."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.url_map.converters["uid"] = UidConverter


# -- templates -------------------------------------------------------------------------------------
def init_template_helpers(app: Flask) -> None:
    app.add_template_filter(filters.format_phone, "phone")
    app.add_template_filter(filters.history_time, "history_time")
    app.add_template_global(filters.history_state, "history_state")
    app.add_template_global(filters.request_state, "request_state")
    app.add_template_global(filters.history_type, "history_type")


# -- background work -------------------------------------------------------------------------------
def init_job_system(app: Flask) -> None:
    """The queue and its task, the job kinds, and the periodic hooks of every consumer's sweep
    round (app/jobs.py sweep_once): abandoned sends, and scheduled sends that are due."""
    init_jobs(app)
    load_job_kinds(app)  # import, export and send register with the job engine
    app.extensions["jobs.periodic"] = [outbox_sweep.periodic, dispatch_due]


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
