"""Page or fragment, headers, error pages, and the template rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import abort

from app.gotone.errors import RateLimitedError, RequestTimeoutError, UnavailableError
from app.rendering import render_page
from tests.conftest import HX
from tests.factories import login, make_user, make_workspace

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.fixture
def members_page(client):
    owner = make_user()
    ws = make_workspace(owner)
    login(client, owner)
    return f"/w/{ws.id}/members"


def test_plain_request_gets_the_page(client, members_page):
    response = client.get(members_page)
    assert "<html" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_request_gets_the_block(client, members_page):
    body = client.get(members_page, headers=HX).get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="members-table">')


@pytest.mark.parametrize("extra", [{"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}])
def test_boosted_and_history_restore_requests_get_the_page(client, members_page, extra):
    body = client.get(members_page, headers={**HX, **extra}).get_data(as_text=True)
    assert "<html" in body


def test_security_headers_and_strict_csp(client):
    response = client.get("/auth/login")
    csp = response.headers["Content-Security-Policy"]
    for part in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        assert part in csp
    assert "unsafe" not in csp and "http" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_behind_a_tls_proxy(make_app):
    app = make_app(PROXY_COUNT=1)
    response = app.test_client().get("/auth/login", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in response.headers


def test_unhandled_error_is_a_500_page_without_traceback(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    client = app.test_client()
    page = client.get("/boom")
    fragment = client.get("/boom", headers=HX)
    for response in (page, fragment):
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Traceback" not in body and "secret internal detail" not in body
        assert response.headers["X-Request-ID"] in body
    assert "<html" in page.get_data(as_text=True)
    assert 'role="alert"' in fragment.get_data(as_text=True)


@pytest.mark.parametrize(
    "error, status",
    [
        (UnavailableError("GoTone is unavailable"), 502),
        (RequestTimeoutError("GoTone did not answer in time"), 504),
        (RateLimitedError("Too many requests", retry_after=17), 503),
    ],
)
def test_gateway_errors_become_alerts_or_pages(make_app, error, status):
    app = make_app()

    @app.get("/gw")
    def gw():
        raise error

    client = app.test_client()
    fragment = client.get("/gw", headers=HX)
    page = client.get("/gw")
    assert fragment.status_code == page.status_code == status
    assert 'role="alert"' in fragment.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True) and str(error) in page.get_data(as_text=True)
    if status == 503:
        assert fragment.headers["Retry-After"] == "17"


def test_404_and_405_pages(client):
    assert client.get("/nowhere").status_code == 404
    response = client.get("/auth/logout")
    assert response.status_code == 405 and "POST" in response.headers["Allow"]


def test_403_page_and_fragment(make_app):
    app = make_app()

    @app.get("/forbidden")
    def forbidden():
        abort(403)

    client = app.test_client()
    assert "does not allow" in client.get("/forbidden").get_data(as_text=True)
    assert 'role="alert"' in client.get("/forbidden", headers=HX).get_data(as_text=True)


def test_render_page_without_block_has_no_vary(app):
    with app.test_request_context("/", headers=HX):
        response = render_page("errors/error.html", title="t", message="m", request_id=None)
        assert "HX-Request" not in response.vary


def _templates():
    return sorted(TEMPLATES.rglob("*.html"))


def test_templates_never_mark_data_safe_or_eval():
    for path in _templates():
        text = path.read_text()
        assert "|safe" not in text.replace(" ", ""), path
        assert "hx-on" not in text and "js:" not in text and "<script>" not in text, path
        assert "style=" not in text, path  # the CSP forbids inline styles


def test_every_htmx_request_element_also_works_without_javascript():
    tag = re.compile(r"<(a|form|button)\b[^>]*\bhx-(get|post)=[^>]*>", re.S)
    found = 0
    for path in _templates():
        for match in tag.finditer(path.read_text()):
            found += 1
            element, verb = match.group(1), match.group(2)
            text = match.group(0)
            if element == "a":
                assert "href=" in text and verb == "get", (path, text)
            else:
                assert 'method="post"' in text and "action=" in text, (path, text)
    assert found >= 10


def test_vendored_javascript_is_small_and_licensed():
    import gzip

    static = TEMPLATES.parent / "static"
    scripts = [p for p in static.rglob("*.js")]
    assert sum(len(gzip.compress(p.read_bytes())) for p in scripts) <= 25 * 1024
    assert (static / "vendor" / "htmx-2.0.11" / "LICENSE").exists()


@pytest.mark.parametrize(
    ("endpoint", "name", "value", "fixed"),
    [
        ("groups.show", "group_uid", "6065ecdc9184a", {"workspace_id": 3}),
        ("contacts.edit", "contact_uid", "x9", {"workspace_id": 3, "group_uid": "g1", "page": 2}),
        ("messages.message", "message_id", 42, {"workspace_id": 7}),
    ],
)
def test_row_url_is_url_for(app, endpoint, name, value, fixed):
    from flask import url_for

    from app.rendering import row_url

    with app.test_request_context("/"):
        first = row_url(endpoint, name, value, **fixed)
        again = row_url(endpoint, name, value, **fixed)  # from the request's pattern
        assert first == again == url_for(endpoint, **{name: value}, **fixed)


def test_row_url_encodes_whatever_the_gateway_calls_an_id(app):
    from urllib.parse import unquote

    from app.rendering import row_url

    with app.test_request_context("/"):
        url = row_url("groups.show", "group_uid", 'a b/c?d&e#"<x>', workspace_id=1)
    assert url.startswith("/w/1/groups/") and not set(url[12:]) & set(' /?&#"<>')
    assert unquote(url[12:]) == 'a b/c?d&e#"<x>'
