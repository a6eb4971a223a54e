"""Send in a real browser with the gateway slowed to 1 s: however the button is hit, one message."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import serve
from tests.e2e.test_onboarding import WATCH_CSP
from tests.factories import PASSWORD, make_user, make_workspace

pytestmark = pytest.mark.browser
TOKEN = "31|browser-send-token-SEND"


@pytest.fixture
def portal(make_app, sim):
    app = make_app()
    sim.control.create_account(token=TOKEN, balance=500)
    with app.app_context():
        user = make_user("sender@example.com")
        workspace = make_workspace(user, "Send Co", base_url=sim.api_url("v3"), token=TOKEN)
        workspace_id = workspace.id
    with serve(app) as base:
        yield {"base": base, "ws": workspace_id}


def _page(browser, problems, javascript=True):
    context = browser.new_context(java_script_enabled=javascript)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def _log_in(page, portal):
    page.goto(portal["base"] + "/auth/login")
    page.fill("#email", "sender@example.com")
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/w/\d+$"))
    page.goto(f"{portal['base']}/w/{portal['ws']}/messages/compose")


def _review(page, portal):
    _log_in(page, portal)
    page.goto(f"{portal['base']}/w/{portal['ws']}/messages/compose")
    page.fill("#numbers", "+1 202 555 0147")
    page.fill("#text", "Doors open at nine")
    page.click("#compose-form button:text('Review')")
    page.wait_for_url(re.compile(r"/messages/review$"))
    page.locator("#send-button").wait_for()


def _hit_twice_with_enter(page):
    page.focus("#send-button")
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")


HITS = {
    "double-click": lambda page: page.dblclick("#send-button"),
    "triple-click": lambda page: page.click("#send-button", click_count=3),
    "enter-twice": _hit_twice_with_enter,
}


@pytest.mark.parametrize("hit", list(HITS))
def test_repeated_send_sends_one_message(browser, portal, sim, hit, figures):
    problems: list[str] = []
    page = _page(browser, problems)
    _review(page, portal)
    sim.control.configure(latency_ms=1000)

    HITS[hit](page)
    page.wait_for_url(re.compile(r"/messages/sends/\d+$"))
    page.locator("#send-status[data-state='done']").wait_for()
    time.sleep(1.5)  # a second request, had one got through, would have reached the gateway

    sends = sim.control.sends(TOKEN)
    assert len(sends) == 1
    assert page.locator("#send-status").count() == 1
    rows = page.locator("#send-status tbody tr")
    assert rows.count() == 1 and "Accepted" in rows.inner_text()
    assert problems == []
    figures("T2", f"{hit} on Send in Chromium, gateway slowed to 1 s: {len(sends)} message")


def test_double_click_without_javascript_sends_one_message(browser, portal, sim):
    """No htmx to disable the button: the second POST finds the first by its key."""
    problems: list[str] = []
    page = _page(browser, problems, javascript=False)
    _review(page, portal)
    sim.control.configure(latency_ms=1000)

    page.dblclick("#send-button")
    page.wait_for_url(re.compile(r"/messages/sends/\d+$"))
    time.sleep(1.5)
    page.reload()

    assert len(sim.control.sends(TOKEN)) == 1
    assert page.locator("#send-status").get_attribute("data-state") == "done"
    assert page.locator("#send-status tbody tr").count() == 1
    assert problems == []


def test_compose_fields_follow_the_type(browser, portal):
    problems: list[str] = []
    page = _page(browser, problems)
    _log_in(page, portal)
    assert page.locator("#type-fields select, #type-fields input").count() == 0

    page.select_option("#type", "voice")
    page.locator("#type-fields #language").wait_for()
    page.select_option("#language", "en-gb")
    page.select_option("#gender", "female")
    assert page.locator("#media_url").count() == 0

    page.select_option("#type", "mms")
    page.locator("#type-fields #media_url").wait_for()
    assert page.locator("#language").count() == 0
    page.fill("#media_url", "https://example.com/a.png")

    page.select_option("#type", "voice")
    page.locator("#type-fields #language").wait_for()
    page.select_option("#type", "plain")
    page.locator("#type-fields #language").wait_for(state="detached")
    assert page.locator("#type-fields select, #type-fields input").count() == 0
    assert problems == []


def test_compose_change_type_without_javascript(browser, portal):
    problems: list[str] = []
    page = _page(browser, problems, javascript=False)
    _log_in(page, portal)
    page.fill("#text", "Kept across the switch")
    page.select_option("#type", "voice")
    page.click("#change-type")
    page.locator("#type-fields #language").wait_for()
    assert page.input_value("#text") == "Kept across the switch"
    assert page.locator("label[for=language]").count() == 1
    assert problems == []
