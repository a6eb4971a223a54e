"""SQL statements per page: a fixed handful, whatever the number of rows shown (no N+1).

Each list page is fetched with a few rows of everything, then again after more rows (by more
members) were added: the statement count must not move. The counts are printed as a figure.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from app.extensions import db
from app.models import Job
from app.models.outbox import ACCEPTED, FAILED, MessageTemplate, SendRequest
from app.services import audit
from tests.factories import add_member, login
from tests.services.test_history import outbox_message

PAGES = {
    "dashboard": "",
    "groups": "/groups",
    "history": "/messages/history",
    "scheduled": "/messages/scheduled",
    "templates": "/messages/templates",
    "compose": "/messages/compose",
    "jobs": "/jobs",
    "members": "/members",
    "audit": "/audit",
    "settings": "/settings",
}
# A page needs: the login session, its user, the membership, the workspace, the gateway
# settings, the workspace switcher, and its own rows (a list and a count, a few look-ups).
BUDGET = 14


@pytest.fixture
def owner(client, sim_workspace):
    user = sim_workspace.memberships[0].user
    login(client, user)
    return user


def _add_rows(workspace, owner, count: int) -> None:
    """`count` more of every kind of row a list page shows, half of them by new members."""
    when = datetime.now(UTC)
    for n in range(count):
        author = owner if n % 2 else add_member(workspace)
        outbox_message(
            workspace, author, f"1202555{n:04d}", f"text {n}", state=ACCEPTED if n % 3 else FAILED
        )
        db.session.add(
            MessageTemplate(
                workspace_id=workspace.id,
                name=f"t{n}-{when.timestamp()}",
                text="Hi {first_name}",
                created_by_id=author.id,
            )
        )
        db.session.add(
            SendRequest(
                workspace_id=workspace.id,
                created_by_id=author.id,
                created_by_email=author.email,
                send_key=f"s{n}-{when}",
                fingerprint="f" * 64,
                text="later",
                recipients=1,
                state="scheduled",
                source={},
                scheduled_for=when + timedelta(days=1 + n),
            )
        )
        db.session.add(
            Job(
                workspace_id=workspace.id,
                created_by_id=author.id,
                kind="import",
                state="done",
                group_uid="g",
                group_name="G",
            )
        )
        audit.record(author, workspace, "group.created", "groups", name=f"g{n}")
    db.session.commit()


def _statements(app, client, url: str) -> int:
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        answer = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert answer.status_code == 200, (url, answer.status_code)
    return len(seen)


def test_statements_per_page_stay_the_same_with_more_rows(
    app, client, sim, owner, sim_workspace, figures
):
    base = f"/w/{sim_workspace.id}"
    _add_rows(sim_workspace, owner, 2)
    for path in PAGES.values():
        client.get(base + path)  # first visits create defaults (settings row, caches)
    few = {name: _statements(app, client, base + path) for name, path in PAGES.items()}
    _add_rows(sim_workspace, owner, 24)
    many = {name: _statements(app, client, base + path) for name, path in PAGES.items()}
    assert many == few, "a page's statement count grew with its rows (N+1)"
    assert max(many.values()) <= BUDGET, many
    figures(
        "issue 8",
        "SQL statements per page (2 rows, then 26 rows of each kind): "
        + ", ".join(f"{name} {count}" for name, count in many.items()),
    )
