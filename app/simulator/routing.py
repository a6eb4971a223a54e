"""Laravel's router and middleware order for both API families (reference §1.2, §3.2, §4).

Order of a request: route match (404 / 405 texts) -> v3 Sanctum auth -> route-model binding
-> `api` rate limiter -> json.response + controller. Failures before the limiter carry no
rate headers and are not counted; everything after it does and is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Request, Response

from . import routes_account, routes_contacts, routes_groups, routes_sms, throttle
from .context import Ctx, bearer_token, model_not_found
from .responses import ApiError, FrameworkError, error, render_framework_error
from .state import SimulatorConfig, SimulatorState

# Router::$verbs: the order Laravel lists "Supported methods" in.
VERBS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ANY = VERBS
FAMILIES = ("v3", "http")

Handler = Callable[[Ctx], Response]


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: str
    handler: Handler

    @property
    def regex(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.pattern) + "$")


def _get(path: str, handler: Handler) -> Route:
    return Route(("GET", "HEAD"), path, handler)


def _routes(family: str) -> list[Route]:
    """Registration order matters: GET v3/sms/send falls through to sms/{report}."""
    send_methods = ANY if family == "http" else ("POST",)
    c, g = routes_contacts, routes_groups
    return [
        _get("me", routes_account.me),
        _get("balance", routes_account.balance),
        Route(("POST",), "contacts/{group}/search/{contact}", c.view_contact),
        Route(("POST",), "contacts/{group}/store", c.store_contact),
        Route(("PATCH",), "contacts/{group}/update/{contact}", c.update_contact),
        Route(("DELETE",), "contacts/{group}/delete/{contact}", c.delete_contact),
        Route(("POST",), "contacts/{group}/all", c.list_contacts),
        Route(("POST",), "contacts/{group}/show", g.show_group),
        _get("contacts", g.list_groups),
        Route(("POST",), "contacts", g.create_group),
        Route(("PUT", "PATCH"), "contacts/{group}", g.update_group),
        Route(("DELETE",), "contacts/{group}", g.delete_group),
        Route(send_methods, "sms/send", routes_sms.send),
        _get("sms/{report}", routes_sms.view),
        _get("sms", routes_sms.index),
    ]


ROUTES = {family: _routes(family) for family in FAMILIES}
COMPILED = {family: [(r, r.regex) for r in routes] for family, routes in ROUTES.items()}


def match(family: str | None, method: str, rest: str, full: str) -> tuple[Route, dict[str, str]]:
    """Find the route or raise Laravel's not-found / method-not-allowed text."""
    candidates = COMPILED.get(family or "", [])
    allowed: set[str] = set()
    for route, regex in candidates:
        found = regex.match(rest)
        if not found:
            continue
        if method in route.methods:
            return route, found.groupdict()
        allowed.update(route.methods)
    if allowed:
        supported = ", ".join(v for v in VERBS if v in allowed and v != method)
        raise FrameworkError(
            f"The {method} method is not supported for route {full}. "
            f"Supported methods: {supported}.",
            404,
        )
    raise FrameworkError(f"The route {full} could not be found.", 404)


def read_input(request: Request) -> dict[str, Any]:
    """input(): JSON body over query string; TrimStrings + ConvertEmptyStringsToNull.

    json.response forces Content-Type to JSON, so form bodies are invisible (reference §1.5).
    """
    merged: dict[str, Any] = dict(request.args.items())
    body = request.get_json(force=True, silent=True) if request.get_data() else None
    if isinstance(body, dict):
        merged.update(body)
    return {key: _clean(value) for key, value in merged.items()}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _bind(ctx: Ctx) -> None:
    """Route-model binding by uid. v3 knows the caller, so foreign objects vanish here."""
    tables = {"group": "groups", "contact": "contacts", "report": "reports"}
    for name, uid in ctx.params.items():
        obj = ctx.state.data[tables[name]].get(uid)
        foreign = (
            obj is not None
            and ctx.v3
            and name != "report"  # reports: M answers "SMS Info not found" in the controller
            and not ctx.owns(obj)
        )
        if obj is None or foreign:
            raise FrameworkError(model_not_found(name, uid), 500)
        ctx.bound[name] = obj


def _authenticate(ctx: Ctx) -> None:
    account = ctx.state.account_by_token(bearer_token(ctx.request))
    if account is None:
        raise FrameworkError("Unauthenticated.", 401)
    ctx.user = account


def _throttle_key(ctx: Ctx) -> str:
    if ctx.v3:
        return f"user:{ctx.user['id']}"
    return f"ip:{ctx.request.remote_addr}"


def handle(
    state: SimulatorState, config: SimulatorConfig, request: Request, family: str | None, rest: str
) -> Response:
    """Run one API request through the middleware order and the controller."""
    full = request.path.lstrip("/")
    ctx = Ctx(state=state, config=config, request=request, family=family or "")
    try:
        route, ctx.params = match(family, request.method, rest, full)
        ctx.route_name = route.pattern
        ctx.input = read_input(request)
        with state.lock:
            if ctx.v3:
                _authenticate(ctx)
            _bind(ctx)
            limit = throttle.hit(state, config, ctx.family, _throttle_key(ctx))
            if not limit.allowed:
                raise FrameworkError("Too Many Attempts.", 404)
            response = _run_controller(ctx, route)
    except FrameworkError as err:
        return render_framework_error(err, request)
    response.headers.update(limit.headers())
    return response


def _run_controller(ctx: Ctx, route: Route) -> Response:
    try:
        return route.handler(ctx)
    except ApiError as err:
        return error(err.message, err.status)
    except Exception as exc:  # noqa: BLE001 - Laravel renders any uncaught error as JSON text
        return error(str(exc) or exc.__class__.__name__)
