"""Page weight: compressed answers (pages, fragments, streamed CSV), static files under hashed
names with a year-long cache, and no reference to another origin in the pages."""

from __future__ import annotations

import gzip
import re
import zlib
from pathlib import Path

import brotli
import pytest
from flask import url_for

from app.assets import IMMUTABLE, Manifest
from app.extensions import db
from app.jobs import drain
from app.models import Job
from tests.conftest import HX
from tests.factories import login, make_user, make_workspace

STATIC = Path(__file__).resolve().parents[2] / "static"
GZIP = {"Accept-Encoding": "gzip"}
_TOKEN = re.compile(r"[\w-]{20,}\.[\w-]{6}\.[\w-]{20,}")  # a signed, time-stamped CSRF token
# Every URL-bearing attribute, and url() in inline styles.
_REFS = re.compile(
    r'\b(?:src|href|action|hx-get|hx-post|formaction|poster)="([^"]*)"'
    r"|url\(\s*['\"]?([^'\")\s]+)"
)
_STATIC_REF = re.compile(r'="(/static/[^"]+)"')
_HASHED = re.compile(r"^/static/(?:[\w.-]+/)*[\w-]+(?:\.[\w-]+)*\.[0-9a-f]{10}(?:\.\w+)?$")


@pytest.fixture
def owner(client, app):
    user = make_user()
    workspace = make_workspace(user)
    login(client, user)
    return workspace


def same_page(text: str) -> str:
    """A page without its CSRF tokens: they carry a timestamp, so two renders differ there."""
    return _TOKEN.sub("TOKEN", text)


# -- compressed answers --------------------------------------------------------------------------
def test_a_page_is_compressed_when_asked_and_decompresses_to_the_same_html(client, owner):
    url = f"/w/{owner.id}/members"
    plain = client.get(url)
    packed = client.get(url, headers=GZIP)
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) / 2
    html = gzip.decompress(packed.data).decode()
    assert html.startswith("<!doctype html>")
    assert same_page(html) == same_page(plain.get_data(as_text=True))
    for vary in (plain.headers["Vary"], packed.headers["Vary"]):
        assert {"HX-Request", "Accept-Encoding"} <= {v.strip() for v in vary.split(",")}


def test_brotli_is_preferred_and_refusals_are_honoured(client, owner):
    url = f"/w/{owner.id}/members"
    both = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert both.headers["Content-Encoding"] == "br"
    assert brotli.decompress(both.data).decode().startswith("<!doctype html>")
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, br;q=0"})
    assert "Content-Encoding" not in refused.headers
    assert refused.get_data(as_text=True).startswith("<!doctype html>")


def test_an_htmx_fragment_is_compressed_and_varies_on_both_headers(client, owner):
    response = client.get(f"/w/{owner.id}/members", headers={**HX, **GZIP})
    assert response.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(response.data).decode()
    assert "<html" not in body and 'id="members-table"' in body
    assert {"HX-Request", "Accept-Encoding"} <= set(re.split(r",\s*", response.headers["Vary"]))


def test_tiny_answers_are_not_compressed(client):
    response = client.get("/healthz", headers=GZIP)
    assert response.status_code == 200 and len(response.data) < 500
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_nothing_is_compressed_for_a_request_another_site_started(client, owner, site):
    """BREACH needs many attacker-started requests that reflect a guess beside a secret (the
    CSRF token, workspace data); a browser labels those Sec-Fetch-Site cross-site/same-site."""
    url = f"/w/{owner.id}/members"
    response = client.get(url, headers={**GZIP, "Sec-Fetch-Site": site})
    assert "Content-Encoding" not in response.headers
    assert "Sec-Fetch-Site" in response.headers["Vary"]
    own = client.get(url, headers={**GZIP, "Sec-Fetch-Site": "same-origin"})
    assert own.headers["Content-Encoding"] == "gzip"
    assert "Sec-Fetch-Site" in own.headers["Vary"]


def test_the_streamed_history_export_is_compressed_chunk_by_chunk(client, owner):
    url = f"/w/{owner.id}/messages/history.csv"
    plain = client.get(url)
    packed = client.get(url, headers=GZIP)
    assert packed.status_code == 200 and packed.is_streamed
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Content-Length" not in packed.headers
    assert packed.headers["Content-Disposition"] == plain.headers["Content-Disposition"]
    assert gzip.decompress(packed.data) == plain.data
    assert plain.data.startswith(b"\xef\xbb\xbf") or plain.data[:1].isalpha()


def test_a_job_download_streams_compressed_and_whole(app, client, sim):
    token = sim.control.create_account(token="83|assets-export-token-QQQ")
    people = [
        {"phone": f"1202555{n:04d}", "first_name": f"Ann{n}", "last_name": "Lee"} for n in range(40)
    ]
    group = sim.control.seed_group(token, "Export me", people)["uid"]
    workspace = make_workspace(make_user(), base_url=sim.api_url("v3"), token=token)
    login(client, workspace.memberships[0].user)
    assert client.post(f"/w/{workspace.id}/jobs/export", data={"group": group}).status_code == 303
    drain(app)
    job = db.session.scalar(db.select(Job))
    url = f"/w/{workspace.id}/jobs/{job.id}/export.csv"
    plain = client.get(url).data
    packed = client.get(url, headers={"Accept-Encoding": "br"})
    assert packed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(packed.data) == plain and plain.count(b"\n") == 41
    packed = client.get(url, headers=GZIP)
    assert zlib.decompress(packed.data, zlib.MAX_WBITS | 16) == plain


# -- static files --------------------------------------------------------------------------------
def test_every_static_reference_in_a_page_is_hashed_and_cached_for_a_year(client, owner):
    html = client.get(f"/w/{owner.id}/members").get_data(as_text=True)
    refs = _STATIC_REF.findall(html)
    assert len(refs) >= 3  # two stylesheets and htmx
    for ref in refs:
        assert _HASHED.match(ref), ref
        response = client.get(ref, headers=GZIP)
        assert response.status_code == 200, ref
        assert (
            response.headers["Cache-Control"]
            == IMMUTABLE
            == ("public, max-age=31536000, immutable")
        )
        assert response.headers["Vary"] == "Accept-Encoding"
        assert "Set-Cookie" not in response.headers  # a cookie (or Vary: Cookie) defeats caches
        plain_name = re.sub(r"\.[0-9a-f]{10}(?=\.\w+$|$)", "", ref.removeprefix("/static/"))
        assert gzip.decompress(response.data) == (STATIC / plain_name).read_bytes()
        again = client.get(ref, headers={**GZIP, "If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304


def test_url_for_static_names_the_current_content(app):
    with app.test_request_context():
        url = url_for("static", filename="css/app.css")
    asset = app.extensions["assets"].get("css/app.css")
    assert url == f"/static/css/app.{asset.digest}.css"
    import hashlib

    assert asset.digest == hashlib.sha256((STATIC / "css/app.css").read_bytes()).hexdigest()[:10]


def test_a_stale_digest_is_redirected_to_the_current_name_never_cached_for_a_year(client, app):
    current = app.extensions["assets"].get("css/app.css").hashed
    stale = client.get("/static/css/app.0123456789.css")
    assert stale.status_code == 302
    assert stale.headers["Location"].endswith(f"/static/{current}")
    assert "max-age=31536000" not in stale.headers["Cache-Control"]
    assert "immutable" not in stale.headers["Cache-Control"]
    for missing in (
        "/static/css/nothing.0123456789.css",
        "/static/css/nothing.css",
        "/static/../app/__init__.py",
        "/static/%2e%2e/pyproject.toml",
    ):
        response = client.get(missing)
        assert response.status_code == 404, missing
        assert "31536000" not in response.headers.get("Cache-Control", ""), missing


def test_the_plain_name_still_works_but_is_revalidated(client):
    response = client.get("/static/vendor/htmx-2.0.11/htmx.min.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.data == (STATIC / "vendor/htmx-2.0.11/htmx.min.js").read_bytes()


def test_a_signed_in_static_answer_carries_no_cookie(client, owner):
    page = client.get(f"/w/{owner.id}/members").get_data(as_text=True)
    response = client.get(_STATIC_REF.findall(page)[0])
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")
    assert response.headers["Cache-Control"] == IMMUTABLE  # not the pages' no-store


def test_the_development_manifest_renames_an_edited_file(tmp_path):
    (tmp_path / "css").mkdir()
    style = tmp_path / "css" / "site.css"
    style.write_text("body { color: red }")
    (tmp_path / ".hidden").write_text("secret")
    manifest = Manifest(tmp_path, live=True)
    first = manifest.get("css/site.css").hashed
    assert re.fullmatch(r"css/site\.[0-9a-f]{10}\.css", first)
    style.write_text("body { color: blue; margin: 0 }")
    second = manifest.get("css/site.css").hashed
    assert second != first
    assert manifest.resolve(first) == (manifest.get("css/site.css"), False)
    assert manifest.resolve(second)[1] is True
    assert manifest.get(".hidden") is None and manifest.get("../css/site.css") is None
    fixed = Manifest(tmp_path)  # production: read once
    assert fixed.get("css/site.css").hashed == second and fixed.get(".hidden") is None


# -- other origins -------------------------------------------------------------------------------
def test_no_page_refers_to_another_origin(client, owner):
    anonymous = client.application.test_client()
    pages = [anonymous.get("/auth/login"), anonymous.get("/auth/signup")]
    for path in (
        "/w",
        f"/w/{owner.id}/members",
        f"/w/{owner.id}/settings",
        f"/w/{owner.id}/messages/templates",
        f"/w/{owner.id}/messages/history",
        f"/w/{owner.id}/jobs",
        f"/w/{owner.id}/audit",
        "/account/",
    ):
        pages.append(client.get(path))
    checked = 0
    for response in pages:
        assert response.status_code == 200, response.request.path
        for attribute, style in _REFS.findall(response.get_data(as_text=True)):
            ref = attribute or style
            checked += 1
            assert not re.match(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", ref, re.I), ref
            assert not re.match(r"^\s*(?:https?|ftp|javascript):", ref, re.I), ref
    assert checked > 100
