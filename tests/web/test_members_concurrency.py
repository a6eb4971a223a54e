"""Issue 12, item 14: two owners demoting (or removing) each other at once leave an owner.

Real concurrent posts through a threaded HTTP server on the suite's database; run it on
PostgreSQL with PORTAL_TEST_DATABASE_URL (the case that left no owner 5 of 5 times), and on
SQLite by default.
"""

from __future__ import annotations

import re

import pytest
import requests

from app.extensions import db
from app.models import Membership
from app.permissions import Role
from tests.e2e.conftest import serve
from tests.factories import PASSWORD, add_member, make_user, make_workspace
from tests.web.test_auth_hardening import CSRF, _at_once


def _signed_in(base: str, email: str) -> tuple[requests.Session, str]:
    web = requests.Session()
    token = CSRF.search(web.get(base + "/auth/login", timeout=10).text).group(1)
    done = web.post(
        base + "/auth/login",
        timeout=30,
        allow_redirects=False,
        data={"email": email, "password": PASSWORD, "csrf_token": token},
    )
    assert done.status_code == 303
    page = web.get(base + "/w", timeout=10).text
    return web, re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)


@pytest.mark.parametrize("action", ["role", "remove"])
def test_two_owners_acting_on_each_other_at_once_leave_an_owner(make_app, action, figures):
    app = make_app()
    rounds, owners_left = 5, []
    with app.app_context():
        dialect = db.engine.dialect.name
        with serve(app) as base:
            for _ in range(rounds):
                ann, bob = make_user(), make_user()
                workspace = make_workspace(ann)
                add_member(workspace, bob, Role.OWNER)
                ids, ws = (ann.id, bob.id), workspace.id
                browsers = [_signed_in(base, user.email) for user in (ann, bob)]

                def work(i, ids=ids, ws=ws, browsers=browsers):
                    web, token = browsers[i]
                    other = ids[1 - i]
                    path = f"/w/{ws}/members/{other}/{action}"
                    data = {"role": Role.ADMIN} if action == "role" else {}
                    return web.post(
                        base + path,
                        data=data,
                        headers={"X-CSRFToken": token},
                        timeout=30,
                        allow_redirects=False,
                    ).status_code

                statuses = _at_once(2, work)
                assert all(status < 500 for status in statuses), statuses
                db.session.expire_all()
                owners_left.append(
                    db.session.scalar(
                        db.select(db.func.count()).where(
                            Membership.workspace_id == ws, Membership.role == Role.OWNER
                        )
                    )
                )
    assert owners_left == [1] * rounds, owners_left
    figures(
        "B14",
        f"two owners {action} each other at once, {rounds} rounds on "
        f"{dialect}: owners left {owners_left}",
    )
