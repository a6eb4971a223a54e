"""T13, first half, beyond tests/web/test_csrf.py (which checks the status codes on a world
without a gateway): a refused state change has no side effect at all.

Every state-changing route of app.url_map, as the owner of a workspace on the simulator with
real objects and with form values that would act if the request got through, with no token,
a wrong token, and a valid token from a page of another site (Sec-Fetch-Site: cross-site, as
every current browser sends it): 400 with the CSRF message, no table changed, no gateway call.
"""

from __future__ import annotations

from app.extensions import db
from app.permissions import Role
from tests.factories import login
from tests.security.snapshots import changes, snapshot
from tests.security.test_isolation import _form, _workspace
from tests.web.test_access import _url
from tests.web.test_csrf import UNSAFE

TOKEN = "74|csrf-refusals-token-Pq5Y"
CROSS_SITE = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
MESSAGE = "expired or did not come from this site"


def test_refused_state_changes_change_nothing(app, sim, figures):
    sim.control.configure(rate_limit=1_000_000)
    sim.control.create_account(token=TOKEN, balance=500)
    ws, users, ids = _workspace(
        sim,
        TOKEN,
        "Guarded",
        "guarded.example",
        "Guarded group",
        {"phone": "12025550170", "first_name": "Gil", "last_name": "G"},
        "Guarded text",
        "Guarded template",
    )
    from app.services import invitations

    owner = users[Role.OWNER]
    membership = next(m for m in ws.memberships if m.user_id == owner.id)
    ids["secret"] = invitations.create(ws, membership, Role.VIEWER)[1]
    client = app.test_client()
    login(client, owner)
    good = client.csrf_token()
    form = _form(ids, ws)
    modes = {
        "no token": ({}, {}),
        "wrong token": ({"csrf_token": good[:-4] + "AAAA"}, {"X-CSRFToken": "IjAwMDAi.x.y"}),
        "valid token, cross-site": ({"csrf_token": good}, CROSS_SITE),
    }
    start = len(sim.control.requests())
    before = snapshot(frozenset({"user_sessions"}))
    problems, requests = [], 0
    for endpoint, rule, method in UNSAFE:
        url = _url(rule, ids)
        for mode, (token, headers) in modes.items():
            response = client.open(url, method=method, data={**form, **token}, headers=headers)
            requests += 1
            if response.status_code != 400 or MESSAGE not in response.get_data(as_text=True):
                problems.append((mode, method, url, response.status_code))
        after = snapshot(frozenset({"user_sessions"}))
        if after != before:
            problems.append((endpoint, "changed", changes(before, after)))
            before = after
    calls = sim.control.requests()[start:]
    assert not problems, problems[:10]
    assert not calls, calls[:3]
    # The same cross-site check lets this site's own requests through.
    renamed = client.post(
        f"/w/{ws.id}/rename",
        data={"name": "Renamed", "csrf_token": good},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert renamed.status_code == 303
    db.session.refresh(ws)
    assert ws.name == "Renamed"
    figures(
        "T13 CSRF",
        f"{len(UNSAFE)} state-changing routes × {len(modes)} (no token, "
        f"wrong token, valid token from another site) = {requests} "
        "requests: all 400, 0 rows changed, 0 gateway calls",
    )
