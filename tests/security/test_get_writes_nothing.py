"""T13, second half: a GET never changes the database.

Every GET route of app.url_map (tests/web/test_access.ROUTES), as the owner of a workspace on
the simulator with real objects (groups, contacts, sent and scheduled messages, templates,
jobs, an invitation), as a page and as an htmx fragment. Row count and a hash of every table
are compared before and after each request.

Two exceptions, by design, and nothing else:
* user_sessions: sessions.load moves last_seen_at at most once a minute (the idle timeout
  needs it); the number of sessions must not change.
* audit_events, for the reads that are audited on purpose: a CSV export of the history and
  the gateway's own message list (legacy gateways list other customers' messages). Exactly
  one row, for the owner, in this workspace.
"""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import AuditEvent, OutboxMessage, UserSession
from app.models.outbox import UNKNOWN
from app.permissions import Role
from tests.conftest import HX
from tests.factories import login
from tests.security.snapshots import changes, fingerprint, snapshot
from tests.security.test_isolation import _workspace
from tests.web.test_access import ROUTES, _url

GETS = [(endpoint, rule) for endpoint, rule, method in ROUTES if method == "GET"]
TOKEN = "73|get-writes-nothing-Wq2X"
AUDITED_READS = {
    "messages.history_export": "messages.exported",
    "messages.gateway_history": "gateway_history.viewed",
}


@pytest.fixture
def app(make_app):
    app = make_app(JOBS_PACE=100_000)
    with app.app_context():
        yield app
        db.session.remove()


def test_get_routes_write_nothing(app, sim, figures):
    sim.control.configure(rate_limit=1_000_000)
    sim.control.create_account(token=TOKEN, balance=500)
    ws, users, ids = _workspace(
        sim,
        TOKEN,
        "Reads Only",
        "reads.example",
        "Readers",
        {"phone": "12025550150", "first_name": "Rita", "last_name": "R"},
        "Read me",
        "Reading",
    )
    owner = users[Role.OWNER]
    from app.services import invitations

    membership = next(m for m in ws.memberships if m.user_id == owner.id)
    ids["secret"] = invitations.create(ws, membership, Role.VIEWER)[1]
    # An outcome-unknown message: its resend confirmation page is a GET too.
    db.session.get(OutboxMessage, ids["message_id"]).state = UNKNOWN
    db.session.commit()
    client = app.test_client()
    login(client, owner)
    client.get("/w")  # the session's first touch happens before the measurements
    sessions = db.session.scalar(db.select(db.func.count()).select_from(UserSession))

    problems, requests, audited = [], 0, 0
    before = snapshot(frozenset({"user_sessions"}))
    for endpoint, rule in GETS:
        url = _url(rule, ids)
        if endpoint == "jobs.new_import":
            url += f"?group={ids['group_uid']}"
        for headers in ({}, dict(HX)):
            response = client.get(url, headers=headers)
            requests += 1
            assert response.status_code < 500, (url, response.status_code)
            after = snapshot(frozenset({"user_sessions"}))
            unchanged = fingerprint(before) == fingerprint(after)
            diff, before = changes(before, after), after
            if unchanged:
                continue
            if endpoint in AUDITED_READS and set(diff) == {"audit_events"}:
                count = len(diff["audit_events"]["new"])
                latest = db.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(count)
                new = db.session.scalars(latest).all()
                if (
                    len(new) == 1
                    and not diff["audit_events"]["gone"]
                    and new[0].action == AUDITED_READS[endpoint]
                    and new[0].workspace_id == ws.id
                    and new[0].actor_id == owner.id
                ):
                    audited += 1
                    continue
            problems.append((endpoint, url, "htmx" if headers else "page", diff))
    assert db.session.scalar(db.select(db.func.count()).select_from(UserSession)) == sessions
    assert not problems, problems[:5]
    assert audited == 2 * len(AUDITED_READS)
    figures(
        "T13 GET",
        f"{len(GETS)} GET routes × page/htmx = {requests} requests as owner on the "
        f"simulator; 0 database writes (besides {audited} audited reads by design "
        "and the session's last-seen)",
    )
