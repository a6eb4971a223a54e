"""Import a small file through the UI in a real browser: dry run, progress to 100%, rejects."""

from __future__ import annotations

import csv
import re

import pytest

from app.jobs import start_background
from tests.e2e.conftest import serve
from tests.e2e.test_onboarding import WATCH_CSP
from tests.factories import PASSWORD, make_user, make_workspace

pytestmark = pytest.mark.browser
TOKEN = "22|browser-import-token-WXYZ"
CSV = (
    "Mobile,First name,Last name\n"
    "+1 202 555 0100,Ada,Lovelace\n"
    "(202) 555-0101,Alan,Turing\n"
    "+1 202 555 0102,Grace,Hopper\n"
    "42,Not,A Number\n"
    "+1 202 555 0100,Ada,Twice\n"
    "2025550103,Edsger,Dijkstra\n"
)


@pytest.fixture
def portal(make_app, sim):
    """A live portal with a job consumer in threads; the simulator answers slowly enough to
    watch the progress bar move."""
    app = make_app(JOBS_PACE=600, JOBS_SWEEP_SECONDS=1)
    sim.control.create_account(token=TOKEN)
    sim.control.configure(latency_ms=150)
    group = sim.control.seed_group(TOKEN, "Newsletter")["uid"]
    with app.app_context():
        user = make_user("importer@example.com")
        workspace = make_workspace(user, "Import Co", base_url=sim.api_url("v3"), token=TOKEN)
        workspace_id = workspace.id
    stop_jobs = start_background(app, workers=2)
    with serve(app) as base:
        yield {"base": base, "ws": workspace_id, "group": group}
    stop_jobs()


def test_import_a_file_watch_progress_and_download_rejects(browser, portal, sim, tmp_path):
    problems: list[str] = []
    context = browser.new_context(accept_downloads=True)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(portal["base"] + "/auth/login")
    page.fill("#email", "importer@example.com")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/w/\d+$"))
    page.locator("nav").get_by_role("link", name="Jobs", exact=True).click()
    page.wait_for_url(re.compile(r"/jobs$"))
    page.select_option("#import-group", portal["group"])
    page.click("#import-picker button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs/import\?group="))
    assert "Newsletter" in page.locator("h1").inner_text()

    upload = tmp_path / "contacts.csv"
    upload.write_text(CSV, encoding="utf-8")
    page.set_input_files("#file", str(upload))
    page.click("#import-form button[type=submit]")
    page.wait_for_url(re.compile(r"/jobs/\d+$"))
    # The dry run finishes in the background; the polled fragment then shows its counts.
    start = page.get_by_role("button", name="Import 4 contacts")
    start.wait_for()
    assert page.locator("#count-invalid").inner_text() == "1"
    assert page.locator("#count-duplicates").inner_text() == "1"
    assert page.locator("#count-in-group").inner_text() == "0"
    assert sim.control.requests(f"/api/v3/contacts/{portal['group']}/store") == []

    start.click()
    page.locator("#job-progress").wait_for()
    seen = set()
    for _ in range(200):
        value = page.locator("#job-progress").get_attribute("value")
        seen.add(int(value))
        if value == "100":
            break
        page.wait_for_timeout(50)
    assert 100 in seen and len(seen) >= 2, seen  # it moved, and it got there
    page.get_by_text("Finished").wait_for()
    assert page.locator("#count-created").inner_text() == "4"

    with page.expect_download() as info:
        page.click("#download-rejects")
    path = info.value.path()
    rows = list(csv.reader(open(path, encoding="utf-8")))  # noqa: SIM115 - read once
    assert [r[0] for r in rows[1:]] == ["5", "6"]
    assert "Same number as row 2." in rows[2][4]
    assert len(sim.control.requests(f"/api/v3/contacts/{portal['group']}/store")) == 4
    assert problems == []
