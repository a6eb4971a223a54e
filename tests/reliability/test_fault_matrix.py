"""T8: every gateway-backed route × every fault of the simulator, as an htmx fragment and as a
full page: never a 500, an error the user can see, and an answer in time.

ROUTES below is the explicit table of endpoints that call the gateway. A meta-test walks
app.url_map, calls every route once with the gateway healthy and counts the simulator's
requests: a route that reaches the gateway but is not in the table fails (add it here), and so
does a table entry that never reaches it.

Fast faults run on every route; hangs and drips (each costs a client timeout) run here on
three representatives (a page of two calls, the dashboard whose cards show errors in place,
a write) and on the send call itself, and on every route under `-m slow`. The client timeout
is 1 s and the circuit breaker is off (tests/reliability/test_circuit_breaker.py covers it):
each request must meet the fault itself, not a breaker opened by the previous ones.
The simulator is this module's own (unthrottled, never reset), in this process.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from app import create_app
from app.extensions import db as _db
from app.models import OutboxMessage, SendRequest
from app.models.outbox import ACCEPTED, FAILED, QUEUED, UNKNOWN
from app.permissions import Role
from app.services import account_cache, gotone, imports, invitations, outbox, scheduling, templates
from app.services.merge import Recipient
from app.simulator.server import SimulatorServer
from tests.conftest import HX, PortalClient, portal_config, report_figure, reset_schema
from tests.factories import add_member, login, make_user, make_workspace

TIMEOUT = 1.0
FAST_LIMIT = 2.0  # seconds: the spec for a fault the gateway answers at once
SLOW_LIMIT = TIMEOUT + 1.0  # a hang or a drip: the deadline plus one second

REFUSED = '{"status":"error","message":"Unauthenticated."}'
FAST = {
    "500": {"mode": "status", "status": 500},
    "502": {"mode": "status", "status": 502},
    "503": {"mode": "status", "status": 503},
    "504": {"mode": "status", "status": 504},
    "reset_before": {"mode": "reset_before"},
    "reset_after": {"mode": "reset_after"},
    "malformed_json": {"mode": "malformed_json"},
    "html_200": {"mode": "html_200"},
    "truncated": {"mode": "truncated"},
    "empty": {"mode": "empty"},
    "huge": {"mode": "huge"},
    "refused_token": {"mode": "status", "status": 401, "body": REFUSED},
    "too_many_attempts": {"mode": "too_many_attempts"},
}
SLOW = {
    "hang": {"mode": "hang", "delay_ms": 2500},
    "drip": {"mode": "drip", "delay_ms": 300},
}
# On a page a hang after processing looks like a hang: it runs on the send call (below).
HANG_AFTER = {"hang_after": {"mode": "hang_after", "delay_ms": 2500}}
# Text only an error shows: the client's messages ("GoTone list groups: ...", "the gateway
# sent ..."), the token and circuit texts of app/errors.py and services/breaker.py.
GATEWAY_ERROR = re.compile(
    r"GoTone [a-z ]+:|GoTone refused|GoTone does not allow|GoTone is not|the gateway sent"
    r"|The gateway could not be reached"
)
# `Too Many Attempts.` on a send is no failure: the outbox queues the rows again and a job
# sends them after the gateway's window (app/services/outbox.py). The status page says queued.
QUEUED_AGAIN = 'class="state-queued"'

ERROR_BOX = re.compile(r'role="alert"|flash-error|class="alert error"')


# -- the world: one app, one simulator account, fresh gateway objects on demand -------------------
@dataclass
class World:
    app: object
    client: PortalClient
    sim: SimulatorServer
    token: str
    workspace: object
    owner: object
    sent: OutboxMessage  # accepted, with a gateway uid: what a status refresh asks about
    csrf: str
    stable: tuple[str, str]  # a group and contact that only reads touch
    _keys: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def base(self) -> str:
        return f"/w/{self.workspace.id}"

    def group(self) -> tuple[str, str]:
        """A new gateway group with one contact: (group uid, contact uid)."""
        seeded = self.sim.control.seed_group(
            self.token, f"G{next(self._keys)}", [{"phone": "12025550100"}]
        )
        return seeded["uid"], seeded["contact_uids"][0]

    def key(self) -> str:
        return f"{next(self._keys):032x}"

    def form(self, data: dict | None) -> dict:
        return {**(data or {}), "csrf_token": self.csrf}  # no extra page load per post

    def unknown_message(self) -> OutboxMessage:
        """A sent message whose outcome is unknown (what a resend confirms)."""
        draft = outbox.Draft(text="Unknown", recipients=[Recipient("12025550101")])
        request = outbox.submit(self.workspace, self.owner, self.key(), draft).request
        message = request.messages[0]
        message.state = UNKNOWN
        request.state = "done"
        _db.session.commit()
        return message

    def missed_request(self) -> int:
        when = outbox.utcnow() + timedelta(minutes=1)
        draft = outbox.Draft(
            text="Missed", recipients=[Recipient("12025550102")], scheduled_for=when, timezone="UTC"
        )
        request = outbox.submit(self.workspace, self.owner, self.key(), draft).request
        scheduling.dispatch_due(now=when + timedelta(minutes=30))
        return request.id


def send_form(world: World, **extra) -> dict:
    data = {
        "send_key": world.key(),
        "type": "plain",
        "numbers": "+1 202 555 0103",
        "text": "Fault matrix",
    }
    data.update(extra)
    return data


# -- the table: every endpoint that calls the gateway ---------------------------------------------
@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    build: object  # (world) -> (path, form data or None); fresh gateway objects each time
    htmx_only: bool = False  # the full page is a redirect that calls nothing
    page_only: bool = False  # the fragment (paging) calls nothing
    inline: bool = False  # the page shows the gateway error in place (200/422), no error page
    follow: bool = False  # may answer with a redirect: the error shows on the page it leads to
    representative: bool = False  # also runs the slow faults in the default run
    # Faults whose answer is a valid success envelope for this route: "huge" is 5 MB of JSON
    # saying success, and a delete reads nothing else from the answer.
    tolerates: frozenset = frozenset()

    @property
    def id(self) -> str:
        return f"{self.method} {self.endpoint}"


def _group(w, suffix="", data=None):
    """A read of the stable group; a write (data given) gets a group of its own."""
    group_uid = w.stable[0] if data is None else w.group()[0]
    return f"{w.base}/groups/{group_uid}{suffix}", data


def _contact(w, suffix="", data=None):
    group_uid, contact_uid = w.stable if data is None else w.group()
    return f"{w.base}/groups/{group_uid}/contacts/{contact_uid}{suffix}", data


def _rename(w):
    group_uid = w.group()[0]
    return f"{w.base}/groups/{group_uid}", {f"edit-{group_uid}-name": "Renamed"}


def _edit_contact(w):
    group_uid, contact_uid = w.group()
    return (
        f"{w.base}/groups/{group_uid}/contacts/{contact_uid}",
        {f"edit-{contact_uid}-phone": "+1 202 555 0112"},
    )


def _at(path, data=None):
    return lambda w: (w.base + path, data(w) if callable(data) else data)


ROUTES = [
    Route("workspaces.show", "GET", _at(""), inline=True, representative=True),
    Route("dashboard.account", "GET", _at("/dashboard/account"), htmx_only=True, inline=True),
    Route("dashboard.profile", "GET", _at("/dashboard/profile"), htmx_only=True, inline=True),
    Route("dashboard.refresh", "POST", _at("/dashboard/refresh", {}), inline=True, follow=True),
    Route("groups.index", "GET", _at("/groups")),
    Route("groups.show", "GET", _group, representative=True),
    Route("groups.row", "GET", lambda w: _group(w, "/row"), htmx_only=True),
    Route("groups.edit", "GET", lambda w: _group(w, "/edit")),
    Route("groups.confirm_delete", "GET", lambda w: _group(w, "/delete")),
    Route("groups.create", "POST", _at("/groups", {"name": "New"})),
    Route("groups.update", "POST", _rename),
    Route(
        "groups.delete",
        "POST",
        lambda w: _group(w, "/delete", {}),
        representative=True,
        tolerates=frozenset({"huge"}),
    ),
    Route("contacts.show", "GET", _contact),
    Route("contacts.row", "GET", lambda w: _contact(w, "/row"), htmx_only=True),
    Route("contacts.edit", "GET", lambda w: _contact(w, "/edit")),
    Route("contacts.create", "POST", lambda w: _group(w, "/contacts", {"phone": "+12025550111"})),
    Route("contacts.update", "POST", _edit_contact),
    Route(
        "contacts.delete",
        "POST",
        lambda w: _contact(w, "/delete", {}),
        tolerates=frozenset({"huge"}),
    ),
    Route("workspaces.test_connection", "POST", _at("/settings/test", {}), inline=True),
    Route("workspaces.health_page", "GET", _at("/settings/health"), inline=True),
    Route("messages.compose", "GET", _at("/messages/compose"), inline=True),
    Route("messages.compose", "POST", _at("/messages/compose", send_form), inline=True),
    Route("messages.panel", "POST", _at("/messages/panel", send_form), inline=True),
    Route("messages.review", "POST", _at("/messages/review", send_form), inline=True),
    Route("messages.send", "POST", _at("/messages/send", send_form), inline=True, follow=True),
    Route(
        "messages.resend",
        "POST",
        lambda w: (f"{w.base}/messages/outbox/{w.unknown_message().id}/resend", {}),
        follow=True,
    ),
    Route(
        "messages.send_missed",
        "POST",
        lambda w: (f"{w.base}/messages/scheduled/{w.missed_request()}/send-now", {}),
        follow=True,
    ),
    # Refreshes the statuses of the listed page: filtered to the one message with a uid.
    Route("messages.refresh_statuses", "POST", _at("/messages/history/refresh?q=Refreshable", {})),
    Route(
        "messages.refresh_message",
        "POST",
        lambda w: (f"{w.base}/messages/history/{w.sent.id}/refresh", {}),
    ),
    Route("messages.gateway_history", "GET", _at("/messages/gateway-history")),
    Route("jobs.index", "GET", _at("/jobs"), inline=True, page_only=True),
    Route("jobs.new_import", "GET", lambda w: (f"{w.base}/jobs/import?group={w.stable[0]}", None)),
    Route(
        "jobs.new_import",
        "POST",
        lambda w: (f"{w.base}/jobs/import?group={w.group()[0]}", {"text": "+1 202 555 0120"}),
    ),
    Route("jobs.new_export", "POST", lambda w: (f"{w.base}/jobs/export", {"group": w.group()[0]})),
]
# Routes that reach a gateway outside this matrix, and why. (/healthz no longer does.)
EXEMPT: set[tuple[str, str]] = set()
STATS: dict[str, object] = {
    "500s": 0,
    "fast": 0.0,
    "slow": 0.0,
    "fast_routes": set(),
    "slow_routes": set(),
    "fast_requests": 0,
    "slow_requests": 0,
    "send_modes": 0,
    "send_calls": 0,
    "duplicates": 0,
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, pg_schema):
    # A simulator of its own: no throttling (hundreds of calls a minute here), never reset.
    with SimulatorServer(rate_limit=1_000_000) as sim:
        config = portal_config(
            tmp_path_factory.mktemp("t8"),
            pg_schema,
            GOTONE_TIMEOUT=TIMEOUT,
            GOTONE_BREAKER_FAILURES=1_000_000,
        )
        app = create_app(config)
        app.test_client_class = PortalClient
        with app.app_context():
            reset_schema()
            token = sim.control.create_account(token="42|t8-matrix-token-Qq7Zx", balance=10**6)
            owner = make_user()
            workspace = make_workspace(owner, base_url=sim.api_url("v3"), token=token)
            client = app.test_client()
            login(client, owner)
            draft = outbox.Draft(text="Refreshable", recipients=[Recipient("12025550109")])
            request = outbox.submit(workspace, owner, "t8-sent", draft).request
            outbox.start(request)
            sent = request.messages[0]
            assert sent.state == ACCEPTED and sent.gateway_uid
            seeded = sim.control.seed_group(token, "Stable", [{"phone": "12025550108"}])
            stable = (seeded["uid"], seeded["contact_uids"][0])
            yield World(
                app, client, sim, token, workspace, owner, sent, client.csrf_token(), stable
            )
            report_figure("T8", _figures())
            _db.session.remove()
            _db.engine.dispose()


def _figures() -> str:
    return (
        f"{len(STATS['fast_routes'])} gateway routes × {len(FAST)} fast faults as fragment "
        f"and page = {STATS['fast_requests']} requests (slowest {STATS['fast']:.2f} s); "
        f"hang and drip on {len(STATS['slow_routes'])} routes = {STATS['slow_requests']} "
        f"requests (slowest {STATS['slow']:.2f} s); {STATS['500s']} × 500; a fault on the "
        f"send call in {STATS['send_modes']} modes: {STATS['send_calls']} reached the "
        f"gateway, {STATS['duplicates']} sent twice"
    )


@dataclass
class Outcome:
    status: int
    seconds: float
    body: str
    shown: str  # the page where the user sees the outcome (after a redirect, that page)


def hit(world: World, route: Route, htmx: bool) -> Outcome:
    """One request of `route` (the fault is in place); follows a redirect once."""
    url, data = route.build(world)
    account_cache.invalidate(world.workspace.id)  # the dashboard must ask the gateway
    headers = dict(HX) if htmx else {}
    started = time.monotonic()
    if route.method == "GET":
        response = world.client.get(url, headers=headers)
    else:
        response = world.client.post(url, data=world.form(data), headers=headers)
    seconds = time.monotonic() - started
    body = shown = response.get_data(as_text=True)
    target = response.headers.get("HX-Redirect") or (
        response.headers.get("Location") if response.status_code in (302, 303) else None
    )
    if target and route.follow:
        shown = world.client.get(target).get_data(as_text=True)
    STATS["500s"] += response.status_code == 500
    return Outcome(response.status_code, seconds, body, shown)


def problems(route: Route, name: str, htmx: bool, outcome: Outcome, limit: float) -> list[str]:
    """What is wrong with one answer (empty: fine)."""
    where = f"{route.id} {name} {'fragment' if htmx else 'page'}"
    found = []
    if name in route.tolerates and outcome.status in (200, 303):
        return found
    if name == "too_many_attempts" and route.follow and QUEUED_AGAIN in outcome.shown:
        return found
    if outcome.status == 500 or outcome.status >= 600:
        found.append(f"{where}: HTTP {outcome.status}")
    if "Traceback" in outcome.body:
        found.append(f"{where}: a traceback")
    if outcome.seconds > limit:
        found.append(f"{where}: {outcome.seconds:.2f} s > {limit} s")
    if not GATEWAY_ERROR.search(outcome.shown):
        found.append(f"{where}: HTTP {outcome.status}, no gateway error shown")
    elif outcome.status >= 400 and htmx and not ERROR_BOX.search(outcome.body):
        found.append(f"{where}: HTTP {outcome.status} fragment without an alert")
    if outcome.status in (502, 503, 504) and route.inline:
        found.append(f"{where}: an error page where the error belongs in place")
    return found


def run_fault(world: World, name: str, fault: dict, routes: list[Route], limit: float) -> list[str]:
    """Every route under one fault (set once), as a fragment and as a page."""
    found, key = [], "slow" if name in SLOW else "fast"
    world.sim.control.add_fault(times=None, path="^/api/", **fault)
    try:
        for route in routes:
            for htmx in (True,) * (not route.page_only) + (False,) * (not route.htmx_only):
                outcome = hit(world, route, htmx)
                STATS[key] = max(STATS[key], outcome.seconds)
                STATS[f"{key}_requests"] += 1
                found += problems(route, name, htmx, outcome, limit)
            STATS[f"{key}_routes"].add(route.id)
    finally:
        world.sim.control.clear_faults()
    return found


@pytest.mark.parametrize("name", FAST)
def test_every_route_shows_the_fast_fault_in_time(world, name):
    found = run_fault(world, name, FAST[name], ROUTES, FAST_LIMIT)
    assert not found, "\n".join(found)


@pytest.mark.parametrize("name", SLOW)
def test_hangs_and_drips_answer_within_the_deadline_plus_one_second(world, name):
    """On the representatives; under `-m slow` on every route (the next test)."""
    routes = [r for r in ROUTES if r.representative]
    found = run_fault(world, name, SLOW[name], routes, SLOW_LIMIT)
    assert not found, "\n".join(found)


@pytest.mark.slow
@pytest.mark.parametrize("name", SLOW)
def test_hangs_and_drips_on_every_route(world, name):
    found = run_fault(world, name, SLOW[name], ROUTES, SLOW_LIMIT)
    assert not found, "\n".join(found)


# -- the table is complete ------------------------------------------------------------------------
def _route_args(world: World) -> dict:
    """A real value for every URL variable, in the matrix's workspace."""
    w = world
    owner_membership = next(m for m in w.workspace.memberships if m.user_id == w.owner.id)
    invitation, secret = invitations.create(w.workspace, owner_membership, Role.MEMBER)
    job = imports.create_import(
        w.workspace, w.owner, w.stable[0], "Stable", None, "+1 202 555 0140"
    )
    scheduled = outbox.Draft(
        text="Later",
        recipients=[Recipient("12025550141")],
        scheduled_for=outbox.utcnow() + timedelta(days=1),
        timezone="UTC",
    )
    request = outbox.submit(w.workspace, w.owner, w.key(), scheduled).request
    return {
        "workspace_id": w.workspace.id,
        "group_uid": w.stable[0],
        "contact_uid": w.stable[1],
        "user_id": add_member(w.workspace, make_user(), Role.VIEWER).id,
        "invitation_id": invitation.id,
        "secret": secret,
        "filename": "css/app.css",
        "job_id": job.id,
        "request_id": request.id,
        "message_id": w.sent.id,
        "template_id": templates.save(w.workspace, w.owner, "T8", "Hello").id,
    }


def _fill(rule: str, args: dict) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(args[m.group(1)]), rule)


def test_every_route_that_reaches_the_gateway_is_in_the_matrix(world):
    """Call every route once with the gateway healthy; count the simulator's requests."""
    table = {(r.endpoint, r.method): r for r in ROUTES}
    args = _route_args(world)
    reached: dict[tuple[str, str], int] = {}
    for rule in world.app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "static":
                continue
            route = table.get((rule.endpoint, method))
            reached[(rule.endpoint, method)] = 0
            for headers in (dict(HX), {}):  # the fragment and the page may differ
                url, data = route.build(world) if route else (_fill(rule.rule, args), {})
                account_cache.invalidate(world.workspace.id)
                before = len(world.sim.state.request_log)  # the simulator in this process
                if method == "GET":
                    response = world.client.get(url, headers=headers)
                else:
                    response = world.client.open(
                        url, method=method, data=world.form(data), headers=headers
                    )
                assert response.status_code != 500, (rule.endpoint, method)
                reached[(rule.endpoint, method)] += len(world.sim.state.request_log) - before
                if gotone.get_settings(world.workspace).token_enc is None:  # clear_token ran
                    gotone.set_token(world.workspace, world.owner, world.token)
                if rule.endpoint == "auth.logout":  # a new session, and its CSRF token
                    login(world.client, world.owner)
                    world.csrf = world.client.csrf_token()
    unlisted = sorted(k for k, n in reached.items() if n and k not in table and k not in EXEMPT)
    silent = sorted(k for k in table if not reached.get(k))
    assert unlisted == [], "these reach the gateway: add them to ROUTES"
    assert silent == [], "these table entries never reached the gateway"


# -- a fault on the send call itself --------------------------------------------------------------
PROCESSED = {"reset_after", "truncated", "hang_after", "drip"}  # the simulator sent, then failed
SEND_STATE = {"refused_token": FAILED, "too_many_attempts": QUEUED}  # otherwise: unknown


@pytest.mark.parametrize("name", [*FAST, *SLOW, *HANG_AFTER])
def test_a_fault_on_the_send_ends_failed_or_unknown_never_500_never_twice(world, name):
    """Only /sms/send fails: the outbox rules decide the state; a replay sends nothing more."""
    fault = {**FAST, **SLOW, **HANG_AFTER}[name]
    url = f"{world.base}/messages/send"
    data = world.form(send_form(world, numbers="+1 202 555 0150"))
    sends = len(world.sim.control.sends(world.token))
    world.sim.control.add_fault(times=None, path="/sms/send$", **fault)
    try:
        started = time.monotonic()
        first = world.client.post(url, data=data)
        seconds = time.monotonic() - started
    finally:
        world.sim.control.clear_faults()
    healed = world.client.post(url, data=data, headers=HX)  # the same form again: a replay
    assert (first.status_code, healed.status_code) == (303, 200)
    assert seconds < (FAST_LIMIT if name in FAST else SLOW_LIMIT)
    request = _db.session.scalar(
        _db.select(SendRequest).where(SendRequest.send_key == data["send_key"])
    )
    states = {m.state for m in request.messages}
    assert states == {SEND_STATE.get(name, UNKNOWN)}, states
    sent = len(world.sim.control.sends(world.token)) - sends
    STATS["send_modes"] += 1
    STATS["send_calls"] += sent
    STATS["duplicates"] += max(0, sent - 1)
    STATS["500s"] += first.status_code == 500
    assert sent == (1 if name in PROCESSED else 0)  # and never a second time
    page = world.client.get(first.headers["Location"]).get_data(as_text=True)
    if UNKNOWN in states:
        assert "Delivery status unknown" in page and "Resend" in page
    elif FAILED in states:
        assert GATEWAY_ERROR.search(page)
