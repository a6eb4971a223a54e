"""The access matrix: every route × every kind of visitor, against app.permissions.

Routes come from app.url_map, so a new route shows up here by itself; if it is missing from
ROUTE_ACCESS the first test fails, and its expected answers come from the table.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from app import create_app
from app.extensions import db
from app.permissions import LOGIN, PUBLIC, ROUTE_ACCESS, Role, can
from app.services import invitations, jobs
from tests.conftest import HX, portal_config
from tests.factories import add_member, login, make_user, make_workspace

ACTORS = ["anonymous", "htmx_anonymous", "non_member", "viewer", "member", "admin", "owner"]
_MAP_APP = create_app(
    portal_config(Path(tempfile.gettempdir()), None, SQLALCHEMY_DATABASE_URI="sqlite://")
)


def _routes():
    routes = []
    for rule in _MAP_APP.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, rule.rule, method))
    return sorted(routes)


ROUTES = _routes()


def test_every_route_is_in_the_permission_table():
    endpoints = {endpoint for endpoint, _, _ in ROUTES}
    assert endpoints - set(ROUTE_ACCESS) == set(), "add these endpoints to ROUTE_ACCESS"
    assert set(ROUTE_ACCESS) - endpoints == set(), "ROUTE_ACCESS lists endpoints that do not exist"


def test_workspace_routes_declare_the_permission_of_the_table():
    for endpoint, rule, _ in ROUTES:
        access = ROUTE_ACCESS[endpoint]
        view = _MAP_APP.view_functions[endpoint]
        if access in (PUBLIC, LOGIN):
            assert "<int:workspace_id>" not in rule, endpoint
        else:
            assert "<int:workspace_id>" in rule, endpoint
            assert view.permission == access, endpoint


@pytest.fixture
def world(app):
    owner = make_user("owner@example.com")
    workspace = make_workspace(owner, "Acme")
    actors = {"owner": owner}
    for role in (Role.ADMIN, Role.MEMBER, Role.VIEWER):
        actors[role.value] = add_member(workspace, make_user(f"{role.value}@example.com"), role)
    target = add_member(workspace, make_user("target@example.com"), Role.VIEWER)
    outsider = make_user("outsider@example.com")
    make_workspace(outsider, "Elsewhere")
    actors["non_member"] = outsider
    owner_membership = next(m for m in workspace.memberships if m.user_id == owner.id)
    invitation, secret = invitations.create(workspace, owner_membership, Role.MEMBER)
    args = {
        "workspace_id": workspace.id,
        "user_id": target.id,
        "invitation_id": invitation.id,
        "secret": secret,
        "filename": "css/app.css",
        # Gateway uids: the workspace has no token, so these routes answer 503 past the checks.
        "group_uid": "0123456789abc",
        "contact_uid": "0123456789abd",
    }
    # A dry-run import of the workspace (no token, so nothing ever reaches a gateway).
    args["job_id"] = jobs.create_job(
        workspace, owner, "import", "ready", "0123456789abc", "Customers"
    ).id
    # A scheduled send, its one message and a message template (nothing reaches a gateway).
    scheduled = _scheduled_request(workspace, owner)
    args["request_id"] = scheduled.id
    args["message_id"] = scheduled.messages[0].id
    args["template_id"] = _template(workspace, owner).id
    db.session.commit()
    return actors, args


def _scheduled_request(workspace, owner):
    from datetime import timedelta

    from app.models.types import utcnow
    from app.services import outbox
    from app.services.merge import Recipient

    draft = outbox.Draft(
        text="Access matrix",
        recipients=[Recipient("15550100001")],
        scheduled_for=utcnow() + timedelta(days=1),
    )
    return outbox.submit(workspace, owner, "access-matrix", draft).request


def _template(workspace, owner):
    from app.services import templates

    return templates.save(workspace, owner, "Access matrix", "Hello {first_name|there}")


def _url(rule: str, args: dict) -> str:
    url = rule
    for name, value in args.items():
        url = url.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
        url = url.replace(f"<path:{name}>", str(value)).replace(f"<uid:{name}>", str(value))
    assert "<" not in url, url
    return url


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint, rule, method", ROUTES, ids=[f"{m} {r}" for _, r, m in ROUTES])
def test_route_answers_each_actor_as_the_table_says(client, world, endpoint, rule, method, actor):
    actors, args = world
    headers = dict(HX) if actor == "htmx_anonymous" else {}
    if actor in actors:
        login(client, actors[actor])
    url = _url(rule, args)
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        response = client.open(
            url, method=method, headers=headers, data={"csrf_token": client.csrf_token()}
        )
    status = response.status_code
    access = ROUTE_ACCESS[endpoint]

    if access == PUBLIC:
        assert status not in (401, 403, 404, 500), (status, response.headers)
        return
    if actor == "anonymous":
        assert status == 302 and response.headers["Location"].startswith("/auth/login"), status
        return
    if actor == "htmx_anonymous":
        assert status == 401 and response.headers["HX-Redirect"].startswith("/auth/login")
        return
    if access == LOGIN:
        assert status not in (401, 403, 404, 500), status
        return
    if actor == "non_member":
        assert status == 404, f"a non-member must not learn the workspace exists (got {status})"
        return
    if can(actor, access):
        assert status not in (401, 403, 404, 500), status
    else:
        assert status == 403, status
