"""Page weight: the bytes of every page and htmx fragment, compressed, and the JavaScript shipped.

    .venv/bin/python bench/page_weight.py [--limit 400]

Starts the stack (simulator + gunicorn, bench/stack.py) and seeds the workspace a user would
have after a while: 30 sent messages (two history pages), a scheduled send, a template, an
import and an export job, an invitation. Then, signed in, it crawls from the home page: every
same-origin link and every `hx-get` (sent as htmx sends it, with HX-Request; a select's hx-get
once per option, e.g. the compose type switch; polling panels included), each endpoint once
per (page or fragment, query argument names). GET routes of the url_map the crawl did not reach
are then fetched with arguments seen during the crawl (e.g. the dashboard cards); the review
page (a POST of the compose form) and the anonymous pages (login, signup, invitation) too.

Every request says `Accept-Encoding: gzip` and `Sec-Fetch-Site: same-origin`, as a browser
moving inside the site. The table shows the bytes on the wire and decompressed; then the
static files the pages load; totals; the JavaScript total; references to other origins in the
HTML and CSS (anything loaded: src, stylesheet/icon href, url(), @import; and plain links and
form actions, listed apart) and the origins the Content-Security-Policy allows.

Targets (issue 8): every page and fragment <= 60 KB compressed, JavaScript <= 25 KB compressed
in total, zero requests to other origins. Exits 1 if one is missed or a page answers 5xx.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import sys
from collections import Counter, deque
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

from stack import Stack  # bench/ is on sys.path when run as a script

PAGE_LIMIT = 60 * 1024
JS_LIMIT = 25 * 1024
PER_KEY = 2
HEADERS = {"Accept-Encoding": "gzip", "Sec-Fetch-Site": "same-origin"}
# GET routes the crawl may leave, and why; they are listed, not counted as missing.
UNREACHABLE = {
    "auth.two_factor": "only during a sign-in with two-factor authentication",
    "static": "measured below, as static files",
}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")


class Links(HTMLParser):
    """What a page refers to: links, htmx GETs, selects with their options, loaded URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []  # a[href], GET form actions
        self.hx: list[str] = []  # hx-get URLs
        self.options: list[str] = []  # a select's hx-get, once per option (each one fetched)
        self.loaded: list[str] = []  # fetched by the browser on load
        self.navigations: list[str] = []  # a[href], form[action]: followed only on a click
        self._select: tuple[str, str] | None = None  # (hx-get, name)
        self._form: tuple[str, dict[str, str]] | None = None  # a GET form: action, fields
        self._field: str | None = None  # the GET form's select being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self.navigations.append(a["href"])
            self.links.append(a["href"])  # downloads too: a streamed CSV, compressed
        if tag == "form":
            self.navigations.append(a.get("action", ""))
            if a.get("method", "get").lower() == "get" and a.get("action"):
                self._form = (a["action"], {})  # submitted as it stands (its first options)
        if self._form is not None and a.get("name") and tag in ("input", "select"):
            if tag == "select":
                self._field = a["name"]
            elif a.get("type") not in ("submit", "checkbox", "radio"):
                self._form[1][a["name"]] = a.get("value", "")
        if tag == "option" and self._form is not None and self._field:
            self._form[1].setdefault(self._field, a.get("value", ""))
        if tag in ("script", "img", "iframe", "source", "audio", "video", "embed") and a.get("src"):
            self.loaded.append(a["src"])
        if tag == "link" and a.get("href"):
            self.loaded.append(a["href"])
        if "style" in a:
            self.loaded += [m[0] or m[1] for m in _CSS_URL.findall(a["style"])]
        if "hx-get" in a:
            if tag == "select":
                self._select = (a["hx-get"], a.get("name", ""))
            else:
                self.hx.append(a["hx-get"])
        if tag == "option" and self._select is not None:
            url, name = self._select
            query = urlencode({name: a.get("value", "")})
            self.options.append(f"{url}{'&' if '?' in url else '?'}{query}")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = self._field = None
        if tag == "form" and self._form is not None:
            action, fields = self._form
            self.links.append(f"{action}?{urlencode(fields)}" if fields else action)
            self._form = None


def fetch(
    session,
    url: str,
    *,
    fragment: bool = False,
    referer: str = "",
    method: str = "GET",
    data: dict | None = None,
) -> tuple[int, int, int, str, dict]:
    """(status, wire bytes, decompressed bytes, text, headers) of one answer."""
    headers = dict(HEADERS)
    if fragment:
        headers.update({"HX-Request": "true", "HX-Current-URL": referer or url})
    answer = session.request(
        method, url, headers=headers, data=data, stream=True, allow_redirects=False, timeout=60
    )
    wire = answer.raw.read(decode_content=False)
    coding = answer.headers.get("Content-Encoding", "")
    body = gzip.decompress(wire) if coding == "gzip" else wire
    if coding not in ("", "gzip"):
        raise SystemExit(f"{url}: answered in {coding}, only gzip was accepted")
    return answer.status_code, len(wire), len(body), body.decode("utf-8", "replace"), answer.headers


def seed(stack: Stack, session) -> dict:
    """What a workspace holds after some use, made through the services the portal uses."""
    stack.send_history(session, 30)  # through the portal's own compose → review → send
    from app import create_app
    from app.extensions import db
    from app.jobs import drain, wake
    from app.models import Membership, User, Workspace
    from app.permissions import Role
    from app.services import exports, imports, invitations, outbox, templates
    from app.services.merge import Recipient

    app = create_app()
    with app.app_context():
        workspace = db.session.get(Workspace, stack.workspace_id)
        user = db.session.scalar(db.select(User))
        owner = db.session.scalar(db.select(Membership).where(Membership.user_id == user.id))
        templates.save(workspace, user, "Welcome", "Hello {first_name|there}, welcome aboard.")
        later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
        people = [Recipient(f"1202555{n:04d}", f"First{n}", f"Last{n}") for n in range(3)]
        draft = outbox.Draft(
            text="Scheduled hello {first_name}",
            recipients=people,
            scheduled_for=later,
            timezone="UTC",
        )
        outbox.start(outbox.submit(workspace, user, "bench-scheduled", draft).request)
        rows = "phone,first_name\n12025559001,Ann\nnot a phone,Bob\n12025559002,Cy\n"
        imports.create_import(workspace, user, stack.group_uid, "Customers", None, rows)
        job = exports.create_export(workspace, user, stack.group_uid, "Customers")
        wake(job.id, app=app)
        drain(app)
        _, secret = invitations.create(workspace, owner, Role.MEMBER)
        db.session.commit()
    return {"app": app, "invitation": f"{stack.portal}/invitations/{secret}"}


class Crawl:
    def __init__(self, stack: Stack, session, app, limit: int) -> None:
        self.stack, self.session, self.limit = stack, session, limit
        self.adapter = app.url_map.bind("127.0.0.1")
        self.rows: list[dict] = []
        self.seen: Counter[tuple] = Counter()  # answers per key (see `key`)
        self.visited: set[tuple[str, bool]] = set()
        self.args: dict[str, object] = {}  # url arguments met on the way, by name
        self.loaded: set[str] = set()
        self.navigations: set[str] = set()
        self.csp: set[str] = set()

    def match(self, url: str) -> tuple[str, dict] | None:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.stack.portal:
            return None
        try:
            return self.adapter.match(parts.path, method="GET")
        except Exception:  # noqa: BLE001 - a 404/405 path: not a page of the portal
            return None

    def key(self, url: str, fragment: bool, exact: bool) -> tuple | None:
        """Each endpoint up to PER_KEY times per (page or fragment, query argument names), e.g.
        two groups, two jobs (an import and an export); `exact` URLs (a select's options) per
        query string."""
        found = self.match(url)
        if found is None:
            return None
        query = urlsplit(url).query
        names = query if exact else tuple(sorted({p.split("=")[0] for p in query.split("&") if p}))
        return found[0], fragment, names

    def run(self, start: list[str]) -> None:
        queue = deque((url, False, "", False) for url in start)
        while queue and len(self.rows) < self.limit:
            url, fragment, referer, exact = queue.popleft()
            key = self.key(url, fragment, exact)
            if (
                key is None
                or key[0] == "static"
                or self.seen[key] >= PER_KEY
                or (url, fragment) in self.visited
            ):
                continue
            self.seen[key] += 1
            self.visited.add((url, fragment))
            self.args.update(self.match(url)[1])
            for link, is_fragment, is_exact in self.visit(url, key[0], fragment, referer):
                queue.append((link, is_fragment, url, is_exact))

    def visit(
        self, url: str, endpoint: str, fragment: bool, referer: str = "", label: str = ""
    ) -> list[tuple[str, bool, bool]]:
        status, wire, raw, text, headers = fetch(
            self.session, url, fragment=fragment, referer=referer
        )
        kind = "fragment" if fragment else "page"
        if "csv" in headers.get("Content-Type", ""):
            kind = "download"
        moved = headers.get("Location") or headers.get("HX-Redirect")
        if moved:
            kind = "redirect"
        self.rows.append(
            {
                "url": label or url.removeprefix(self.stack.portal),
                "kind": kind,
                "endpoint": endpoint,
                "status": status,
                "raw": raw,
                "wire": wire,
                "coding": headers.get("Content-Encoding", "-"),
            }
        )
        if "Content-Security-Policy" in headers:
            self.csp.add(headers["Content-Security-Policy"])
        if moved:
            return [(urljoin(url, moved), False, False)]
        if not headers.get("Content-Type", "").startswith("text/html"):
            return []
        parser = Links()
        parser.feed(text)
        self.loaded.update(urljoin(url, u) for u in parser.loaded)
        self.navigations.update(urljoin(url, u) for u in parser.navigations if u)
        found = [(urljoin(url, u).split("#")[0], False, False) for u in parser.links]
        found += [(urljoin(url, u), True, False) for u in parser.hx]
        return found + [(urljoin(url, u), True, True) for u in parser.options]

    def unreached(self, app) -> list[tuple[str, str]]:
        """Build each GET rule not crawled from the arguments met; fetch page and fragment."""
        skipped = []
        reached = {key[0] for key in self.seen}
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in reached:
                continue
            if rule.endpoint in UNREACHABLE:
                skipped.append((rule.endpoint, UNREACHABLE[rule.endpoint]))
                continue
            missing = [name for name in rule.arguments if name not in self.args]
            if missing:
                skipped.append((rule.endpoint, f"no {', '.join(missing)} met in the crawl"))
                continue
            path = self.adapter.build(rule.endpoint, {n: self.args[n] for n in rule.arguments})
            for fragment in (False, True):
                self.visit(self.stack.portal + path, rule.endpoint, fragment)
        return skipped


def off_site(urls: set[str], portal: str) -> list[str]:
    """URLs that make a request to another origin (data: and same-origin ones do not)."""
    out = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" != portal:
            out.append(url)
    return sorted(out)


def csp_sources(policy: str) -> list[str]:
    """Sources the policy allows beyond this origin (data: noted, it makes no request)."""
    extra = set()
    for directive in policy.split(";"):
        parts = directive.split()
        for source in parts[1:]:
            if source not in ("'self'", "'none'"):
                extra.add(f"{parts[0]} {source}")
    return sorted(extra)


def kb(n: int) -> str:
    return f"{n / 1024:8.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=400, help="most answers to fetch")
    args = parser.parse_args()
    failures: list[str] = []
    with Stack() as stack:
        session = stack.login()
        seeded = seed(stack, session)
        app = seeded["app"]
        crawl = Crawl(stack, session, app, args.limit)
        w = f"{stack.portal}/w/{stack.workspace_id}"
        crawl.run([f"{stack.portal}/", f"{w}/groups/{stack.group_uid}", f"{w}/messages/history"])
        # The review page answers a POST of the compose form.
        from load_mix import compose_url, review_form

        base = compose_url(stack.portal, stack.workspace_id)
        form = review_form(session.get(f"{base}/compose", timeout=30).text, "Hello {first_name}")
        status, wire, raw, text, headers = fetch(
            session, f"{base}/review", method="POST", data=form
        )
        crawl.rows.append(
            {
                "url": f"POST {base.removeprefix(stack.portal)}/review",
                "kind": "page",
                "endpoint": "messages.review",
                "status": status,
                "raw": raw,
                "wire": wire,
                "coding": headers.get("Content-Encoding", "-"),
            }
        )
        # Anonymous pages, in a session of their own.
        import requests

        anonymous = requests.Session()
        crawl_anon = Crawl(stack, anonymous, app, 20)
        for url in (
            f"{stack.portal}/auth/login",
            f"{stack.portal}/auth/signup",
            seeded["invitation"],
        ):
            crawl_anon.visit(
                url,
                crawl_anon.match(url)[0],
                False,
                label="(anonymous) " + url.removeprefix(stack.portal)[:40],
            )
        crawl.rows += crawl_anon.rows
        crawl.seen.update((r["endpoint"], False, ()) for r in crawl_anon.rows)
        skipped = crawl.unreached(app)
        crawl.loaded |= crawl_anon.loaded
        crawl.navigations |= crawl_anon.navigations
        crawl.csp |= crawl_anon.csp

        # Static files the pages load.
        statics = sorted(
            u
            for u in crawl.loaded
            if urlsplit(u).path.startswith("/static/") and u.startswith(stack.portal)
        )
        assets = []
        for url in statics:
            status, wire, raw, text, headers = fetch(session, url)
            assets.append(
                {
                    "url": url.removeprefix(stack.portal),
                    "status": status,
                    "raw": raw,
                    "wire": wire,
                    "cache": headers.get("Cache-Control", ""),
                }
            )
            if url.endswith(".css"):
                crawl.loaded.update(urljoin(url, m[0] or m[1]) for m in _CSS_URL.findall(text))

    # -- report ---------------------------------------------------------------------------
    rows = sorted(crawl.rows, key=lambda r: (r["kind"], r["url"]))
    print(
        f"\npage weight, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"bytes on the wire with Accept-Encoding: gzip"
    )
    width = min(90, max(len(r["url"]) for r in rows))
    print(f"\n{'url':<{width}} {'kind':<8} {'status':>6} {'raw KB':>8} {'gzip KB':>8} ratio")
    for r in rows:
        ratio = r["wire"] / r["raw"] if r["raw"] else 1
        print(
            f"{r['url'][:width]:<{width}} {r['kind']:<8} {r['status']:>6} {kb(r['raw'])} "
            f"{kb(r['wire'])} {ratio:5.2f}"
        )
        if r["status"] >= 500:
            failures.append(f"{r['url']} answered {r['status']}")
        if r["kind"] != "download" and r["wire"] > PAGE_LIMIT:
            failures.append(f"{r['url']} is {r['wire'] / 1024:.1f} KB compressed")
    pages = [r for r in rows if r["kind"] in ("page", "fragment")]
    heaviest = max(pages, key=lambda r: r["wire"])
    raw_total, wire_total = sum(r["raw"] for r in pages), sum(r["wire"] for r in pages)
    print(
        f"\n{len(pages)} pages and fragments, "
        f"{sum(r['kind'] == 'download' for r in rows)} downloads, "
        f"{sum(r['kind'] == 'redirect' for r in rows)} redirects, "
        f"{len({r['endpoint'] for r in rows})} endpoints; pages and fragments in total "
        f"{raw_total / 1024:.1f} KB raw, {wire_total / 1024:.1f} KB compressed "
        f"(ratio {wire_total / raw_total:.2f})"
    )
    print(
        f"heaviest: {heaviest['url']} {heaviest['wire'] / 1024:.1f} KB compressed "
        f"(target <= {PAGE_LIMIT // 1024} KB)"
    )
    for endpoint, reason in skipped:
        print(f"not fetched: {endpoint} ({reason})")

    print(f"\n{'static file':<{width}} {'status':>6} {'raw KB':>8} {'gzip KB':>8}  cache-control")
    for a in assets:
        print(
            f"{a['url'][:width]:<{width}} {a['status']:>6} {kb(a['raw'])} {kb(a['wire'])}  "
            f"{a['cache']}"
        )
        if "immutable" not in a["cache"]:
            failures.append(f"{a['url']} is not served with a long immutable cache")
    js = [a for a in assets if a["url"].endswith(".js")]
    js_wire = sum(a["wire"] for a in js)
    print(
        f"static total: {sum(a['raw'] for a in assets) / 1024:.1f} KB raw, "
        f"{sum(a['wire'] for a in assets) / 1024:.1f} KB compressed"
    )
    print(
        f"JavaScript: {len(js)} file(s), {sum(a['raw'] for a in js) / 1024:.1f} KB raw, "
        f"{js_wire / 1024:.1f} KB compressed (target <= {JS_LIMIT // 1024} KB)"
    )
    if js_wire > JS_LIMIT:
        failures.append(f"JavaScript is {js_wire / 1024:.1f} KB compressed")

    loaded_off = off_site(crawl.loaded, stack.portal)
    links_off = off_site(crawl.navigations, stack.portal)
    allowed = sorted({s for policy in crawl.csp for s in csp_sources(policy)})
    print(
        f"\nother-origin requests (src, stylesheets, icons, url(), @import): {len(loaded_off)} "
        "(target 0)"
    )
    for url in loaded_off:
        print(f"  {url}")
    print(f"other-origin links and form actions (followed only on a click): {len(links_off)}")
    for url in links_off:
        print(f"  {url}")
    print(f"CSP policies seen: {len(crawl.csp)}; sources beyond 'self': {', '.join(allowed)}")
    off_csp = [s for s in allowed if s.split()[1] not in ("data:",)]
    if loaded_off:
        failures.append(f"{len(loaded_off)} requests to other origins")
    if off_csp:
        failures.append(f"the CSP allows other origins: {off_csp}")

    print()
    for failure in failures:
        print(f"MISSED: {failure}")
    print("all targets met" if not failures else f"{len(failures)} target(s) missed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
