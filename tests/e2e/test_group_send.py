"""A personalised send to a group in a real browser: compose, review, send, watch the job
finish, then find every message in the history under the sender's name."""

from __future__ import annotations

import re

import pytest

from app.jobs import start_background
from tests.e2e.conftest import serve
from tests.e2e.test_send import _page
from tests.factories import PASSWORD, make_user, make_workspace

pytestmark = pytest.mark.browser
TOKEN = "44|browser-group-send-token-GRP"
PEOPLE = [
    {"phone": "12025550111", "first_name": "Ada"},
    {"phone": "12025550112", "first_name": "Alan"},
    {"phone": "12025550113", "first_name": ""},  # takes the fallback
]


@pytest.fixture
def portal(make_app, sim):
    """A live portal with a job consumer in threads; the gateway answers in 100 ms so the
    progress of the job can be seen."""
    app = make_app(JOBS_PACE=600, JOBS_SWEEP_SECONDS=1)
    sim.control.create_account(token=TOKEN, balance=500)
    sim.control.configure(latency_ms=100)
    group = sim.control.seed_group(TOKEN, "Members", PEOPLE)["uid"]
    with app.app_context():
        user = make_user("grace@example.com")
        workspace = make_workspace(user, "Club", base_url=sim.api_url("v3"), token=TOKEN)
        workspace_id = workspace.id
    stop_jobs = start_background(app, workers=2)
    with serve(app) as base:
        yield {"base": base, "ws": workspace_id, "group": group}
    stop_jobs()


def test_personalised_group_send_reaches_history_with_the_sender(browser, portal, sim):
    problems: list[str] = []
    page = _page(browser, problems)
    page.goto(portal["base"] + "/auth/login")
    page.fill("#email", "grace@example.com")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/w/\d+$"))

    page.goto(f"{portal['base']}/w/{portal['ws']}/messages/compose")
    page.select_option("#groups", portal["group"])
    page.fill("#text", "Hi {first_name|friend}, the club opens at nine")
    page.click("#compose-form button:text('Review')")
    page.wait_for_url(re.compile(r"/messages/review$"))
    preview = page.locator("main ul").first.inner_text()
    assert "Hi Ada, the club opens at nine" in preview
    empty = page.locator("#empty-fields").inner_text()
    assert empty == "Recipients with empty fields: 1 — a fallback fills every one"

    page.click("#send-button")
    page.wait_for_url(re.compile(r"/messages/sends/\d+$"))
    page.locator("progress").wait_for()  # a personalised send runs as a job
    page.locator("#send-status[data-state='done']").wait_for(timeout=30_000)
    assert page.locator("#send-status tbody tr").count() == 3

    sent = {s["to"]: s["message"] for s in sim.control.sends(TOKEN)}
    assert sent == {
        "12025550111": "Hi Ada, the club opens at nine",
        "12025550112": "Hi Alan, the club opens at nine",
        "12025550113": "Hi friend, the club opens at nine",
    }

    page.locator("nav").get_by_role("link", name="History", exact=True).click()
    page.wait_for_url(re.compile(r"/messages/history"))
    rows = page.locator("#history-table tbody tr")
    assert rows.count() == 3
    for index in range(3):
        assert "grace@example.com" in rows.nth(index).inner_text()
    page.fill("#history-filters input[type=search]", "Alan")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=Alan"))
    page.locator("#history-table tbody tr").first.wait_for()
    assert page.locator("#history-table tbody tr").count() == 1
    assert problems == []
