"""A live portal (werkzeug, threaded, 127.0.0.1 port 0) and headless Chromium via Playwright.

Browser tests never skip in CI (CI set): a missing Chromium is a failure there.
"""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def serve(app):
    """Serve `app` threaded on a free 127.0.0.1 port; yields its base URL, then stops it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def live_portal(make_app, sim):
    with serve(make_app(GOTONE_DEFAULT_URL=sim.api_url("v3"))) as base:
        yield base


@pytest.fixture(scope="session")
def chromium():
    """One Chromium per test process: launching it for every test cost more than most of
    the tests themselves."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; browser tests must run in CI")
        pytest.skip("Chromium is not installed (install the Debian package `chromium`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium):
    """The process's Chromium. A test opens its own contexts (each with its own cookies and
    storage, and the options it needs); whatever it leaves open is closed after it, so no
    login, cookie or page outlives its test."""
    yield chromium
    for context in list(chromium.contexts):
        context.close()
