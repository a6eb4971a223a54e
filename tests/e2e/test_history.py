"""History and dashboard in a real browser: boosted search keeps only the table, htmx paging
pushes ?page= into the URL, the dashboard refresh swaps its cards; no CSP violation."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import serve
from tests.e2e.test_onboarding import WATCH_CSP
from tests.factories import PASSWORD, make_user, make_workspace
from tests.services.test_history import outbox_message

pytestmark = pytest.mark.browser
TOKEN = "35|browser-history-token-HIST"


@pytest.fixture
def portal(make_app, sim):
    app = make_app()
    sim.control.create_account(token=TOKEN, balance=42, first_name="Hana")
    with app.app_context():
        user = make_user("historian@example.com")
        workspace = make_workspace(user, "History Co", base_url=sim.api_url("v3"), token=TOKEN)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(30):
            outbox_message(
                workspace,
                user,
                f"120255501{i:02d}",
                f"note {i:02d}",
                created_at=start + timedelta(minutes=i),
            )
        outbox_message(workspace, user, "447700900123", "Meeting moved", created_at=start)
        workspace_id = workspace.id
    with serve(app) as base:
        yield {"base": base, "ws": workspace_id}


def test_search_paging_and_dashboard_refresh_in_the_browser(browser, portal):
    problems: list[str] = []
    context = browser.new_context()
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(portal["base"] + "/auth/login")
    page.fill("#email", "historian@example.com")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/w/\d+$"))

    page.locator("#account-card").get_by_text("42").first.wait_for()
    page.click("#dashboard-cards button[type=submit]")
    page.locator("#account-card").get_by_text("42").first.wait_for()
    assert page.locator("#dashboard-cards").count() == 1

    page.click("header nav a[href$='/messages/history']")
    page.wait_for_url(re.compile(r"/messages/history$"))
    page.click("#history-table a[rel=next]")
    page.wait_for_url(re.compile(r"page=2"))
    page.locator("#history-table").get_by_text("note 04").wait_for()
    assert page.locator("h1").count() == 1  # only the table was swapped

    page.fill("#q", "meeting")
    page.click("#history-filters button[type=submit]")
    page.wait_for_url(re.compile(r"q=meeting"))
    page.locator("#history-table").get_by_text("Meeting moved").wait_for()
    assert page.locator("#history-table tbody tr").count() == 1
    assert page.locator("#history-filters").count() == 1 and page.locator("h1").count() == 1
    assert problems == []
    context.close()
