"""Groups and contacts in a real browser, with htmx and with JavaScript turned off."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import serve
from tests.e2e.test_onboarding import WATCH_CSP
from tests.factories import PASSWORD, make_user, make_workspace

pytestmark = pytest.mark.browser
TOKEN = "21|browser-groups-token-ABCD"


@pytest.fixture
def portal(make_app, sim):
    """A live portal whose workspace talks to the simulator; the big group is seeded."""
    app = make_app()
    sim.control.create_account(token=TOKEN)
    contacts = [{"phone": f"1202555{i:04d}", "first_name": f"Person{i:02d}"} for i in range(60)]
    big = sim.control.seed_group(TOKEN, "Big group", contacts)
    with app.app_context():
        user = make_user("browser@example.com")
        workspace = make_workspace(user, "Browser Co", base_url=sim.api_url("v3"), token=TOKEN)
        workspace_id = workspace.id
    with serve(app) as base:
        yield {"base": base, "ws": workspace_id, "big": big}


def _is_problem(message) -> bool:
    # Chromium logs every non-2xx answer; a 422 is the refused phone number the test types.
    return message.type == "error" and "status of 422" not in message.text


def _page(browser, problems, javascript=True):
    context = browser.new_context(java_script_enabled=javascript)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: problems.append(m.text) if _is_problem(m) else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def _log_in(page, portal):
    page.goto(portal["base"] + "/auth/login")
    page.fill("#email", "browser@example.com")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/w/\d+$"))
    page.click("nav >> text=Groups")
    page.wait_for_url(re.compile(r"/groups$"))


def _row(page, table, text):
    return page.locator(f"{table} tbody tr", has_text=text)


def _contacts_journey(page, portal, javascript):
    """Everything the issue lists; the assertions hold with and without JavaScript."""
    groups_url = f"{portal['base']}/w/{portal['ws']}/groups"
    # Create a group: the portal goes to its page.
    page.fill("#name", "<Browser friends>")
    page.click("#group-form button[type=submit]")
    page.wait_for_url(re.compile(r"/groups/[0-9a-f]{13}$"))
    assert page.locator("h1").inner_text() == "<Browser friends>"
    page.locator("main").get_by_text("Add the first one").wait_for()

    # Add contacts; a bad number is refused in place.
    page.fill("#phone", "12")
    page.click("#contact-form button[type=submit]")
    page.locator("#contact-form .field-error").wait_for()
    for phone, name in (("(202) 555-0101", "Ann"), ("+44 20 7946 0958", "Bob")):
        page.fill("#phone", phone)
        page.fill("#first_name", name)
        page.click("#contact-form button[type=submit]")
        _row(page, "#contacts-table", name).wait_for()
    assert "+1 202-555-0101" in _row(page, "#contacts-table", "Ann").inner_text()
    assert page.input_value("#phone") == ""

    # Edit one inline, delete the other in place.
    _row(page, "#contacts-table", "Ann").get_by_role("button", name="Edit").click()
    page.locator("input[name$='-first_name']").fill("Anna")
    page.get_by_role("button", name="Save").click()
    _row(page, "#contacts-table", "Anna").wait_for()
    _row(page, "#contacts-table", "Bob").get_by_role("button", name="Delete").click()
    _row(page, "#contacts-table", "Bob").wait_for(state="detached")
    assert _row(page, "#contacts-table", "Anna").count() == 1

    # Page 2 of the seeded group of 60, and back.
    page.goto(groups_url)
    page.click("text=Big group")
    page.wait_for_url(re.compile(portal["big"]["uid"] + "$"))
    page.locator("#contacts-table").get_by_role("link", name="Next").click()
    page.wait_for_url(re.compile(r"\?page=2$"))
    _row(page, "#contacts-table", "Person25").wait_for()
    assert _row(page, "#contacts-table", "Person24").count() == 0
    page.go_back()
    page.wait_for_url(re.compile(portal["big"]["uid"] + "$"))
    _row(page, "#contacts-table", "Person00").wait_for()
    page.go_forward()
    _row(page, "#contacts-table", "Person49").wait_for()
    page.reload()
    _row(page, "#contacts-table", "Person49").wait_for()

    # Rename the group from the list, then delete it with its contacts.
    page.goto(groups_url)
    _row(page, "#groups-table", "<Browser friends>").get_by_role("button", name="Rename").click()
    page.locator("input[name$='-name']").fill("Renamed friends")
    page.get_by_role("button", name="Save").click()
    _row(page, "#groups-table", "Renamed friends").wait_for()
    _row(page, "#groups-table", "Renamed friends").get_by_role("button", name="Delete").click()
    page.get_by_text("Its contacts are deleted with it (1 in total).").wait_for()
    page.get_by_role("button", name="Delete group and contacts").click()
    page.locator("#flash").get_by_text("Group deleted, with its contacts.").wait_for()
    assert _row(page, "#groups-table", "Renamed friends").count() == 0
    assert page.url.startswith(groups_url)


def test_groups_and_contacts_with_htmx(browser, portal):
    problems: list[str] = []
    page = _page(browser, problems)
    _log_in(page, portal)
    _contacts_journey(page, portal, javascript=True)
    assert problems == []


def test_groups_and_contacts_without_javascript(browser, portal):
    problems: list[str] = []
    page = _page(browser, problems, javascript=False)
    _log_in(page, portal)
    _contacts_journey(page, portal, javascript=False)
    assert problems == []
