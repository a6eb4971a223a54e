"""T9: tenant isolation with two real workspaces, each on its own simulator account.

Members of workspace B, in every role, request every workspace route with A's workspace id,
then with A's object ids forged into B's URLs (an A group uid under /w/B/groups/..., A's
numeric outbox, job, template, invitation and member ids under /w/B/...), and A's ids in B's
forms and query strings. Each answer must be a refusal (404, or 403 where B's role is too low)
that shows none of A's names, phones or texts; no database row may change; A's gateway account
must be untouched; and the simulator, which logs the token of every call, must never have seen
A's token during the run.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from app.extensions import db
from app.gotone import GoToneClient
from app.jobs import drain
from app.permissions import ROUTE_ACCESS, Role, can
from app.services import invitations, jobs, outbox, templates
from app.services.merge import Recipient
from tests.conftest import HX
from tests.factories import add_member, login, make_user, make_workspace
from tests.security.snapshots import changes, snapshot
from tests.web.test_access import ROUTES, _url

TOKEN_A = "71|alpha-gateway-token-Kq3VwP"
TOKEN_B = "72|bravo-gateway-token-Zr8TnM"
ROLES = (Role.OWNER, Role.ADMIN, Role.MEMBER, Role.VIEWER)
DUAL = "owner of B, viewer of A"
# Strings only A's data holds: none may appear in an answer to a member of B.
A_MARKERS = (
    "Alpha Secret Group",
    "Alphonsine",
    "Zyxwvut",
    "2025550199",
    "202-555-0199",
    "Alpha confidential",
    "Alpha template",
    "alpha.example",
    "Alpha Works",
)
# Sessions are the requester's own rows: sessions.load may move last_seen_at (at most once a
# minute) on any request. Nothing else may change while B's members probe A.
IGNORED_TABLES = frozenset({"user_sessions"})
SNAPSHOT_EVERY = 12
AUDITED_READS = ("messages.exported", "gateway_history.viewed")
OBJECT_PARAMS = (
    "group_uid",
    "contact_uid",
    "job_id",
    "request_id",
    "message_id",
    "template_id",
    "invitation_id",
    "user_id",
)
WORKSPACE_ROUTES = [r for r in ROUTES if "<int:workspace_id>" in r[1]]
OBJECT_ROUTES = [r for r in WORKSPACE_ROUTES if any(p in r[1] for p in OBJECT_PARAMS)]
OWN_LISTS = [r for r in WORKSPACE_ROUTES if r[2] == "GET" and r not in OBJECT_ROUTES]


@pytest.fixture
def app(make_app):
    app = make_app(JOBS_PACE=100_000)
    with app.app_context():
        yield app
        db.session.remove()


def _workspace(
    sim, token: str, name: str, domain: str, group: str, contact: dict, text: str, template: str
):
    """A workspace with a token, members of every role and real objects on both sides."""
    owner = make_user(f"owner@{domain}")
    ws = make_workspace(owner, name, base_url=sim.api_url("v3"), token=token)
    users = {Role.OWNER: owner}
    for role in (Role.ADMIN, Role.MEMBER, Role.VIEWER):
        users[role] = add_member(ws, make_user(f"{role.value}@{domain}"), role)
    seeded = sim.control.seed_group(token, group, [contact])
    client = GoToneClient(sim.api_url("v3"), token)
    sent = outbox.submit(
        ws,
        owner,
        uuid.uuid4().hex,
        outbox.Draft(
            text=text + " sent", recipients=[Recipient(contact["phone"], contact["first_name"])]
        ),
    )
    outbox.send_inline(sent.request, client)
    later = outbox.submit(
        ws,
        owner,
        uuid.uuid4().hex,
        outbox.Draft(
            text=text + " scheduled",
            recipients=[Recipient(contact["phone"])],
            scheduled_for=outbox.utcnow() + timedelta(days=1),
        ),
    )
    owner_membership = next(m for m in ws.memberships if m.user_id == owner.id)
    invitation, _secret = invitations.create(ws, owner_membership, Role.MEMBER)
    imported = jobs.create_job(ws, owner, "import", "ready", seeded["uid"], group)
    jobs.create_job(ws, owner, "export", "done", seeded["uid"], group)
    saved = templates.save(ws, owner, template, template + " body")
    db.session.commit()
    ids = {
        "workspace_id": ws.id,
        "group_uid": seeded["uid"],
        "contact_uid": seeded["contact_uids"][0],
        "job_id": imported.id,
        "request_id": later.request.id,
        "message_id": sent.request.messages[0].id,
        "template_id": saved.id,
        "invitation_id": invitation.id,
        "user_id": users[Role.MEMBER].id,
        "filename": "css/app.css",
    }
    return ws, users, ids


@pytest.fixture
def world(app, sim):
    sim.control.configure(rate_limit=1_000_000)
    sim.control.create_account(token=TOKEN_A, balance=500, email="billing@alpha.example")
    sim.control.create_account(token=TOKEN_B, balance=500, email="billing@bravo.example")
    a = _workspace(
        sim,
        TOKEN_A,
        "Alpha Works",
        "alpha.example",
        "Alpha Secret Group",
        {"phone": "12025550199", "first_name": "Alphonsine", "last_name": "Zyxwvut"},
        "Alpha confidential",
        "Alpha template",
    )
    b = _workspace(
        sim,
        TOKEN_B,
        "Bravo Works",
        "bravo.example",
        "Bravo Group",
        {"phone": "12025550122", "first_name": "Bertrand", "last_name": "Bravo"},
        "Bravo text",
        "Bravo template",
    )
    sent = [m for m in sim.control.sends(TOKEN_A)]
    assert sent and all(s["user_id"] for s in sent), "A really sent through its own account"
    return a, b


def _form(a_ids: dict, b_ws) -> dict:
    """Valid-looking values for every form: a route that let the request through would act."""
    group, contact = a_ids["group_uid"], a_ids["contact_uid"]
    soon = (date.today() + timedelta(days=3)).isoformat()
    return {
        "name": "Hijacked",
        "text": "Hijacked text",
        "phone": "+1 202 555 0111",
        "first_name": "Hi",
        "last_name": "Jack",
        f"edit-{group}-name": "Hijacked",
        f"edit-{contact}-phone": "+1 202 555 0111",
        f"edit-{contact}-first_name": "Hi",
        "role": "viewer",
        "user_id": str(a_ids["user_id"]),
        "confirm_name": "Alpha Works",
        "token": "hijacked-token-0000",
        "base_url": "http://127.0.0.1:9/api/v3",
        "family": "v3",
        "timezone": "UTC",
        "default_country": "US",
        "calls": "30",
        "send_on": soon,
        "send_at": "10:00",
        "numbers": "+1 202 555 0111",
        "type": "plain",
        "send_key": uuid.uuid4().hex,
        "group": group,
        "groups": [group],
        "has_header": "y",
    }


def _gateway_state(sim, token: str) -> dict:
    """A's account as the gateway holds it (read with A's token: outside the probe window)."""
    client = GoToneClient(sim.api_url("v3"), token)
    groups = list(client.iter_all(client.list_groups))
    return {
        "groups": sorted((g.uid, g.name) for g in groups),
        "contacts": sorted(
            (c.uid, c.phone, c.first_name, c.last_name)
            for g in groups
            for c in client.iter_all(client.list_contacts, g.uid)
        ),
        "sends": len(sim.control.sends(token)),
        "scheduled": len(sim.control.scheduled(token)),
        "balance": sim.control.balance(token),
    }


def _probes(a_ids: dict, b_ids: dict) -> list[tuple[str, str, str, str, dict, dict]]:
    """(kind, endpoint, method, url, headers, data): every forged request a member of B makes."""
    out = []
    for endpoint, rule, method in WORKSPACE_ROUTES:
        # A's workspace id with A's own object ids: B's members are not members of A.
        out.append(("a_workspace", endpoint, method, _url(rule, a_ids), {}, {}))
    for endpoint, rule, method in OBJECT_ROUTES:
        # B's workspace id, A's object ids; a GET also as a fragment (it makes other calls).
        url = _url(rule, {**a_ids, "workspace_id": b_ids["workspace_id"]})
        out.append(("a_object_in_b", endpoint, method, url, {}, {}))
        if method == "GET":
            out.append(("a_object_in_b", endpoint, method, url, dict(HX), {}))
        if "<uid:contact_uid>" in rule:
            # B's own group, A's contact uid.
            url = _url(
                rule,
                {**a_ids, "workspace_id": b_ids["workspace_id"], "group_uid": b_ids["group_uid"]},
            )
            out.append(("a_contact_in_b_group", endpoint, method, url, dict(HX), {}))
    b = f"/w/{b_ids['workspace_id']}"
    for endpoint, method, url, data in (
        ("messages.compose", "GET", f"{b}/messages/compose?template={a_ids['template_id']}", {}),
        ("messages.panel", "POST", f"{b}/messages/panel", {"numbers": ""}),
        ("messages.review", "POST", f"{b}/messages/review", {"numbers": ""}),
        ("messages.send", "POST", f"{b}/messages/send", {"numbers": ""}),
        ("jobs.new_import", "GET", f"{b}/jobs/import?group={a_ids['group_uid']}", {}),
        (
            "jobs.new_import",
            "POST",
            f"{b}/jobs/import?group={a_ids['group_uid']}",
            {"text": "+1 202 555 0111,Hi"},
        ),
        ("jobs.new_export", "POST", f"{b}/jobs/export", {}),
        ("workspaces.transfer_ownership", "POST", f"{b}/transfer", {}),
        ("messages.history", "GET", f"{b}/messages/history?member={a_ids['user_id']}", {}),
        (
            "messages.history_export",
            "GET",
            f"{b}/messages/history.csv?member={a_ids['user_id']}",
            {},
        ),
    ):
        out.append(("a_id_in_form", endpoint, method, url, {}, data))
    return out


def _own_pages(b_ids: dict) -> list[tuple[str, str, str, str, dict, dict]]:
    """B's own lists, pages and fragments, as B's owner: nothing of A's in them."""
    return [
        ("b_own_page", endpoint, method, _url(rule, b_ids), headers, {})
        for endpoint, rule, method in OWN_LISTS
        for headers in ({}, dict(HX))
    ]


def _expected(kind: str, endpoint: str, role: str, status: int, response, b_ids) -> bool:
    allowed = can(role, ROUTE_ACCESS[endpoint])
    if kind == "a_workspace":
        return status == 404  # never 403: that would confirm A exists
    if not allowed:
        return status == 403
    if kind in ("a_object_in_b", "a_contact_in_b_group"):
        if endpoint.endswith(".row") and "HX-Request" not in response.request.headers:
            # A row fragment asked for as a page: back to B's list, before any lookup.
            return status == 302 and response.headers["Location"].startswith(
                f"/w/{b_ids['workspace_id']}/groups"
            )
        return status == 404
    if kind == "a_id_in_form":
        return status < 500  # refused, or B's own page without A's data (checked apart)
    return status in (200, 302, 303)  # b_own_page


def _audited_reads(before: dict, after: dict, b_id: int) -> bool:
    """The only rows a read may add: B's own audit rows of audited reads (exports, the
    gateway's message list), by design (app/blueprints/messages/history.py)."""
    diff = changes(before, after)
    if set(diff) != {"audit_events"} or diff["audit_events"]["gone"]:
        return False
    columns = [c.name for c in db.metadata.tables["audit_events"].columns]
    for row in diff["audit_events"]["new"]:
        event = dict(zip(columns, row, strict=True))
        if event["workspace_id"] != repr(b_id) or event["action"] not in map(repr, AUDITED_READS):
            return False
    return True


def test_members_of_b_never_reach_workspace_a(app, sim, world, figures):
    (a_ws, a_users, a_ids), (b_ws, b_users, b_ids) = world
    probes = _probes(a_ids, b_ids)
    # Also an owner of B who is a viewer of A: A's ids under B's URLs are still not B's.
    dual = add_member(b_ws, make_user("dual@bravo.example"), Role.OWNER)
    add_member(a_ws, dual, Role.VIEWER)
    actors = {role.value: (b_users[role], role) for role in ROLES}
    actors[DUAL] = (dual, Role.OWNER)
    clients = {}
    for name, (user, _role) in actors.items():
        clients[name] = app.test_client()
        login(clients[name], user)
    csrf = {name: c.csrf_token() for name, c in clients.items()}
    form = _form(a_ids, b_ws)
    a_gateway = _gateway_state(sim, TOKEN_A)
    start = len(sim.control.requests())
    before = snapshot(IGNORED_TABLES)

    wrong, leaks, writes, total = [], [], [], 0
    runs = [(role.value, probes) for role in ROLES] + [
        (DUAL, [p for p in probes if p[0] != "a_workspace"]),  # A's own URLs are its to see
        (Role.OWNER.value, _own_pages(b_ids)),
    ]
    for actor, batch in runs:
        client, (_user, role) = clients[actor], actors[actor]
        # The page frame of a member of both names both workspaces.
        markers = [m for m in A_MARKERS if actor != DUAL or m != "Alpha Works"]
        for number, (kind, endpoint, method, url, headers, data) in enumerate(batch):
            if method == "GET":
                response = client.get(url, headers=headers)
            else:
                values = {**form, **data, "csrf_token": csrf[actor]}
                response = client.open(url, method=method, headers=headers, data=values)
            total += 1
            status, body = response.status_code, response.get_data(as_text=True)
            where = f"{actor} {kind} {method} {url}{' htmx' if headers else ''} -> {status}"
            if not _expected(kind, endpoint, role, status, response, b_ids):
                wrong.append(where)
            if any(marker in body or marker in str(response.headers) for marker in markers):
                leaks.append(where)
            if (number + 1) % SNAPSHOT_EVERY == 0 or number + 1 == len(batch):
                # Compared in small batches (a snapshot per request costs too much on PG).
                after = snapshot(IGNORED_TABLES)
                if after != before and not _audited_reads(before, after, b_ids["workspace_id"]):
                    first = number - number % SNAPSHOT_EVERY
                    batch_urls = [f"{p[2]} {p[3]}" for p in batch[first : number + 1]]
                    writes.append((actor, batch_urls, changes(before, after)))
                before = after
    drain(app)  # whatever B's requests queued runs too, inside the window
    calls = sim.control.requests()[start:]
    a_token_calls = [c for c in calls if c["token"] == TOKEN_A]
    b_token_calls = sum(c["token"] == TOKEN_B for c in calls)

    assert not leaks, f"A's data shown to members of B: {leaks[:10]}"
    assert not writes, f"rows changed by refused requests: {writes[:3]}"
    assert not a_token_calls, f"A's token used for B's requests: {a_token_calls[:3]}"
    assert not wrong, f"{len(wrong)} unexpected answers: {wrong[:15]}"
    assert _gateway_state(sim, TOKEN_A) == a_gateway, "A's gateway account changed"
    # The forged uids did reach the gateway, with B's token: the checks above can fail.
    assert b_token_calls >= 50
    kinds: dict[str, int] = {}
    for kind, *_rest in probes:
        kinds[kind] = kinds.get(kind, 0) + 1
    detail = " + ".join(f"{n} {k}" for k, n in kinds.items())
    figures(
        "T9",
        f"({detail}) forged requests × {len(ROLES)} roles of B (+ the forged ids "
        f"for an owner of B who views A) + {len(_own_pages(b_ids))} own pages = "
        f"{total} requests over "
        f"{len(WORKSPACE_ROUTES)} workspace routes; 0 cross-workspace reads, "
        f"0 writes, 0 calls with A's token ({b_token_calls} gateway calls, all B's)",
    )
