"""The simulator's Flask app: one catch-all view in front of the Laravel-like router.

Per API request: log it, dispatch scheduled messages that fell due, apply an injected fault,
add the configured latency, run the router, spoil the answer if a fault says so, snapshot.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, redirect, request

from . import control_api, faults, routing
from .context import Ctx, bearer_token
from .gateway import run_scheduler
from .responses import FrameworkError, render_framework_error
from .state import SimulatorConfig, SimulatorState

ALL_METHODS = list(routing.VERBS)
EXTENSION = "gotone_simulator"


def create_simulator_app(
    config: SimulatorConfig | None = None, state: SimulatorState | None = None
) -> Flask:
    config = config or SimulatorConfig()
    state = state or SimulatorState()
    app = Flask("app.simulator")
    app.extensions[EXTENSION] = {"config": config, "state": state, "initial": config.copy()}
    app.wsgi_app = _AbortingMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    control_api.register(app)
    app.add_url_rule(
        "/",
        "root",
        _catch_all,
        defaults={"path": ""},
        methods=ALL_METHODS,
        provide_automatic_options=False,
    )
    app.add_url_rule(
        "/<path:path>",
        "catch_all",
        _catch_all,
        methods=ALL_METHODS,
        provide_automatic_options=False,
    )
    return app


def simulator_parts(app: Flask) -> tuple[SimulatorConfig, SimulatorState]:
    parts = app.extensions[EXTENSION]
    return parts["config"], parts["state"]


class _AbortingMiddleware:
    """Turn a view's abort flag into a dropped connection.

    Raising ConnectionResetError out of the WSGI app makes werkzeug's server treat the
    connection as gone; the server in server.py then closes it with SO_LINGER 0 (a TCP RST).
    """

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = self.wsgi_app(environ, start_response)
        if environ.get(faults.ABORT_FLAG):
            if hasattr(body, "close"):
                body.close()
            raise ConnectionResetError("simulated connection reset")
        return body


def _catch_all(path: str) -> Response:
    from flask import current_app

    config, state = simulator_parts(current_app)
    if path.endswith("/") and path.strip("/"):
        # Apache's stock .htaccess: 301 to the path without the slash (reference §1.2).
        query = request.query_string.decode()
        target = request.host_url.rstrip("/") + "/" + path.rstrip("/")
        return redirect(target + (f"?{query}" if query else ""), code=301)
    family, rest = _split(path)
    if family is None:
        err = FrameworkError(f"The route {path} could not be found.", 404)
        return render_framework_error(err, request)
    _log_request(state, config, family)
    run_scheduler(state)
    response = _faulted(config, state, family, rest)
    state.save()
    return response


def _split(path: str) -> tuple[str | None, str]:
    parts = path.split("/", 2)
    if len(parts) >= 2 and parts[0] == "api":
        return parts[1], parts[2] if len(parts) == 3 else ""
    return None, ""


def _faulted(config: SimulatorConfig, state: SimulatorState, family: str, rest: str) -> Response:
    fault = faults.take(state, request.path, request.method)
    if fault and fault["mode"] in faults.BEFORE:
        early = faults.before(fault, state, request.environ)
        if early is not None:
            return early
    if config.latency_ms:
        faults.pause(state, config.latency_ms)
    response = routing.handle(state, config, request, family, rest)
    if fault and fault["mode"] in faults.AFTER:
        return faults.after(fault, state, request.environ, response)
    return response


def _log_request(state: SimulatorState, config: SimulatorConfig, family: str) -> None:
    ctx = Ctx(state=state, config=config, request=request, family=family)
    ctx.input = routing.read_input(request)
    token = ctx.presented_token() if family in routing.FAMILIES else None
    if family == "http" and token is None:
        token = bearer_token(request)
    with state.lock:
        state.request_log.append(
            {
                "method": request.method,
                "path": request.path,
                "family": family,
                "token": token,
                "json": request.get_json(force=True, silent=True) if request.get_data() else None,
                "query": dict(request.args.items()),
                "time": time.time(),
                # Which client connection carried the call (tests of connection reuse).
                "peer_port": request.environ.get("REMOTE_PORT"),
                "connection": request.headers.get("Connection", ""),
            }
        )
