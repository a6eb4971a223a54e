"""T15: crawl every page of a seeded workspace in Chromium with the CSP enforced.

Starting from the landing page, the crawler follows every same-origin link (GET only; logout
is a form and downloads are skipped), submits the GET forms (import picker, history search),
and clicks the htmx links and selects it finds (inline editors, their Cancel, pagers, the
message type), once per endpoint and target. It records CSP violations, console errors, page
errors and answers >= 500, checks the security headers of every portal answer and what is
left in localStorage. It runs as the owner and as a viewer; the viewer must see no form it
may not use.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.jobs import start_background, wake
from app.models import Job
from app.permissions import Role, can
from app.services import exports, outbox, templates
from app.services.merge import Recipient
from tests.e2e.conftest import serve
from tests.e2e.test_onboarding import WATCH_CSP
from tests.factories import PASSWORD, add_member, make_user, make_workspace

pytestmark = pytest.mark.browser
TOKEN = "62|browser-crawl-token-CRWL"
OWNER, VIEWER = "owner@example.com", "viewer@example.com"
NAMES = [f"Crawlname{i:02d}" for i in range(30)]
PHONES = [f"1202555{2000 + i}" for i in range(30)]

# GET endpoints no crawl can reach, and why (everything else a role may open must be reached).
EXCLUDED = {
    "static": "assets, not pages (loaded by every page)",
    "health.healthz": "JSON for monitors; no page links to it",
    "auth.two_factor": "only during a login with two-factor authentication",
    "workspaces.invitation": "needs an invitation secret, shown once to the inviter",
    "workspaces.pending_invitation": "only after an invitation link was opened in this browser",
    "jobs.download": "a download (the brief skips downloads)",
    "jobs.rejects": "a download",
    "messages.history_export": "a download",
    "dashboard.account": "a card fragment no page requests (the dashboard renders it inline)",
    "dashboard.profile": "a card fragment no page requests",
    "dashboard.messages": "a card fragment no page requests",
}
# Reached only from an inline editor, which only roles that may edit contacts open.
EDITOR_ONLY = {"groups.row", "contacts.row"}
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
CSP_MUST = ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self'")
GET_FORM_URLS = """() => Array.from(document.querySelectorAll('form[method=get i]'), (f) => {
  const url = new URL(f.action, location.href);
  for (const [k, v] of new FormData(f)) if (typeof v === 'string') url.searchParams.append(k, v);
  return url.href;
})"""
HTMX_SELECTOR = "a[hx-get], select[hx-get]"
HTMX_GETS = f"""() => Array.from(document.querySelectorAll('{HTMX_SELECTOR}'), (e, index) => ({{
  index, url: new URL(e.getAttribute('hx-get'), location.href).href,
  target: e.getAttribute('hx-target') || '', visible: e.getClientRects().length > 0,
  options: e.tagName === 'SELECT' ? Array.from(e.options, (o) => o.value) : null,
}}))"""
POST_FORMS = """() => Array.from(document.querySelectorAll('form'), (f) =>
  (f.getAttribute('method') || 'get').toLowerCase() === 'post' ? f.action : null
).concat(Array.from(document.querySelectorAll('[hx-post]'), (e) =>
  new URL(e.getAttribute('hx-post'), location.href).href)).filter(Boolean)"""


@pytest.fixture
def portal(make_app, sim):
    """Owner and viewer of one workspace with groups (one of 30 contacts: two pages), 30
    messages sent (two pages), one of unknown outcome, a template, a scheduled send and a
    finished export job."""
    app = make_app(JOBS_PACE=6000, JOBS_SWEEP_SECONDS=1, SEND_FILE_MAX_AGE_DEFAULT=3600)
    sim.control.create_account(token=TOKEN, balance=100_000)
    sim.control.configure(rate_limit=100_000)
    people = [
        {"phone": p, "first_name": n, "last_name": "Crawl"}
        for p, n in zip(PHONES, NAMES, strict=True)
    ]
    big = sim.control.seed_group(TOKEN, "Crawl members", people)
    sim.control.seed_group(TOKEN, "Crawl small", people[:2])
    stop_jobs = start_background(app, workers=1)
    with app.app_context():
        owner = make_user(OWNER)
        workspace = make_workspace(owner, "Crawl Co", base_url=sim.api_url("v3"), token=TOKEN)
        add_member(workspace, make_user(VIEWER), Role.VIEWER)
        for n, person in enumerate(people):
            _send(workspace, owner, f"crawl {n}", [person])
        later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        _send(workspace, owner, "scheduled crawl", people[:2], scheduled_for=later)
        # Last, so that it heads the history: its page links to the confirmed resend.
        sim.control.add_fault("status", path=r"/sms/send$", method="POST", status=500)
        _send(workspace, owner, "outcome unknown", [people[0]])
        templates.save(workspace, owner, "Crawl template", "Hello {first_name|there}")
        job = exports.create_export(workspace, owner, big["uid"], "Crawl members")
        wake(job.id)
        deadline = time.monotonic() + 30
        while db.session.get(Job, job.id).state != "done":
            assert time.monotonic() < deadline, "the export job did not finish"
            time.sleep(0.2)
            db.session.expire_all()
        workspace_id = workspace.id
    with serve(app) as base:
        yield {"app": app, "base": base, "ws": workspace_id}
    stop_jobs()


def _send(workspace, user, text, people, scheduled_for=None) -> None:
    recipients = [Recipient(p["phone"], p["first_name"], p["last_name"]) for p in people]
    draft = outbox.Draft(
        text=text, recipients=recipients, scheduled_for=scheduled_for, timezone="UTC"
    )
    submitted = outbox.submit(workspace, user, f"crawl-{text}", draft)
    outbox.start(submitted.request)


class Crawl:
    """One role's crawl in one browser context."""

    def __init__(self, browser, portal, role):
        self.base, self.role = portal["base"], role
        self.adapter = portal["app"].url_map.bind("127.0.0.1")
        self.views = portal["app"].view_functions
        self.context = browser.new_context()
        self.context.add_init_script(WATCH_CSP)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.problems: list[str] = []
        self.server_errors: list[str] = []
        self.bad_headers: list[str] = []
        self.answers = 0
        self.endpoints: set[str] = set()
        self.per_endpoint: dict[str, int] = {}
        self.pages = 0
        self.clicked: set[tuple[str, str]] = set()
        self.forbidden_forms: set[str] = set()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.on("response", self._response)

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"{self.page.url}: {message.text}")

    def endpoint(self, url: str, method: str = "GET") -> str | None:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.base:
            return None
        try:
            return self.adapter.match(parts.path, method=method)[0]
        except HTTPException:
            return None

    def _response(self, response) -> None:
        endpoint = self.endpoint(response.url, response.request.method)
        if endpoint is None:
            return
        self.answers += 1
        if response.request.method == "GET" and response.status < 400:
            self.endpoints.add(endpoint)
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.url}")
        headers = response.headers
        csp = headers.get("content-security-policy", "")
        missing = [d for d in CSP_MUST if d not in csp] + [
            name for name, value in HEADERS.items() if headers.get(name) != value
        ]
        if missing or "unsafe-" in csp:
            self.bad_headers.append(f"{response.url}: {missing or csp}")

    def visit(self, url: str) -> list[str]:
        """Open a page; return the same-origin GET links and GET-form URLs on it."""
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        self.pages += 1
        links = self.page.eval_on_selector_all(
            "a[href]:not([download])", "(els) => els.map((a) => a.href)"
        )
        links += self.page.evaluate(GET_FORM_URLS)
        self._check_forms()
        self._click_htmx()
        return [link.split("#")[0] for link in links]

    def _check_forms(self) -> None:
        """The forms and hx-post elements on the page: each must be one this role may use."""
        for action in self.page.evaluate(POST_FORMS):
            endpoint = self.endpoint(action, "POST")
            permission = getattr(self.views.get(endpoint), "permission", None)
            if permission and not can(self.role, permission):
                self.forbidden_forms.add(endpoint)

    def _next_htmx(self):
        """A visible htmx GET link or select not clicked yet for its (endpoint, target)."""
        for found in self.page.evaluate(HTMX_GETS):
            done = (self.endpoint(found["url"]), found["target"])
            if found["visible"] and done[0] is not None and done not in self.clicked:
                self.clicked.add(done)
                return self.page.locator(HTMX_SELECTOR).nth(found["index"]), found
        return None, None

    def _click_htmx(self) -> None:
        """Click each htmx link (and change each htmx select) once; then what it brought."""
        while True:
            element, found = self._next_htmx()
            if element is None:
                return
            path = urlsplit(found["url"]).path
            with self.page.expect_response(lambda r, path=path: urlsplit(r.url).path == path):
                if found["options"]:
                    element.select_option(found["options"][-1])
                else:
                    element.click()
            self.page.wait_for_timeout(100)  # let htmx swap and settle

    def run(self, start: str, per_endpoint: int = 2) -> None:
        """Breadth first from `start`; at most `per_endpoint` URLs of each endpoint."""
        queue, seen = [start], {start}
        while queue:
            url = queue.pop(0)
            for link in self.visit(url):
                endpoint = self.endpoint(link)
                if endpoint is None or endpoint in EXCLUDED or link in seen:
                    continue
                if self.per_endpoint.get(endpoint, 0) >= per_endpoint:
                    continue
                self.per_endpoint[endpoint] = self.per_endpoint.get(endpoint, 0) + 1
                seen.add(link)
                queue.append(link)

    def log_in(self, email: str) -> None:
        self.page.goto(self.base + "/auth/login")
        self.page.fill("#email", email)
        self.page.fill("#password", PASSWORD)
        self.page.click("#login-form button[type=submit]")
        self.page.wait_for_url(re.compile(r"/w/\d+$"))


def reachable(app, role: str) -> set[str]:
    """GET endpoints this role may open, from the url_map, minus the documented exclusions."""
    found = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in EXCLUDED:
            continue
        permission = getattr(app.view_functions[rule.endpoint], "permission", None)
        if permission and not can(role, permission):
            continue
        if rule.endpoint in EDITOR_ONLY and not can(role, "contacts.edit"):
            continue
        found.add(rule.endpoint)
    return found


def _crawl(browser, portal, role, email) -> tuple[Crawl, set[str]]:
    crawl = Crawl(browser, portal, role)
    crawl.run(portal["base"] + "/")  # logged out: the login and sign-up pages
    crawl.log_in(email)
    crawl.run(portal["base"] + "/")
    storage = crawl.page.evaluate("() => JSON.stringify(Object.entries(localStorage))")
    crawl.context.close()

    expected = reachable(portal["app"], role)
    assert crawl.problems == [], crawl.problems
    assert crawl.server_errors == [], crawl.server_errors
    assert crawl.bad_headers == [], crawl.bad_headers[:5]
    assert expected - crawl.endpoints == set(), f"{role}: never reached"
    assert crawl.pages + len(crawl.clicked) >= len(expected)  # pages and htmx fragments opened
    assert not any(name in storage for name in NAMES) and not any(p in storage for p in PHONES)
    return crawl, expected


def _violations_are_seen(browser, portal) -> int:
    """The control: the login page as the portal sends it (its CSP header included), with an
    inline script and an inline style slipped in, must be reported twice by WATCH_CSP."""
    crawl = Crawl(browser, portal, Role.VIEWER)
    login = portal["base"] + "/auth/login"

    def tamper(route):
        answer = route.fetch()
        body = answer.text().replace("</main>", "<script>1</script><p style='x:y'></p></main>")
        route.fulfill(response=answer, body=body)

    crawl.context.route(login, tamper)
    crawl.page.goto(login)
    for _ in range(100):  # console events may trail the load on a busy machine
        seen = [p for p in crawl.problems if "CSP violation" in p]
        if len(seen) >= 2:
            break
        crawl.page.wait_for_timeout(50)
    crawl.context.close()
    assert crawl.bad_headers == []
    assert len(seen) == 2, crawl.problems
    return len(seen)


@pytest.mark.timeout(240)
def test_crawl_as_owner_and_viewer_with_the_csp_enforced(browser, portal, figures):
    control = _violations_are_seen(browser, portal)
    owner, owner_expected = _crawl(browser, portal, Role.OWNER, OWNER)
    viewer, viewer_expected = _crawl(browser, portal, Role.VIEWER, VIEWER)
    assert viewer.forbidden_forms == set(), viewer.forbidden_forms
    assert owner.forbidden_forms == set()
    figures(
        "T15",
        f"owner: {owner.pages} pages crawled, {len(owner.endpoints & owner_expected)}/"
        f"{len(owner_expected)} GET endpoints covered, {owner.answers} answers with "
        f"CSP and headers; viewer: {viewer.pages} pages, "
        f"{len(viewer.endpoints & viewer_expected)}/{len(viewer_expected)} endpoints, "
        f"no form it may not use; violations 0, console errors 0, 5xx 0 "
        f"({len(EXCLUDED)} endpoints excluded: assets, downloads, health, "
        f"2FA step, invitation, unrequested card fragments; control: "
        f"{control}/2 injected inline script and style reported)",
    )
