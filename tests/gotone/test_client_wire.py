"""What goes on the wire: headers, URLs, families, credentials, sessions."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from app.gotone import AuthError, GoToneClient, InvalidRequestError, ProtocolError

from .conftest import NL, TOKEN, US, api_requests


class _Capture(BaseHTTPRequestHandler):
    """Records each request and answers a fixed success envelope (or a redirect)."""

    seen: list[dict] = []
    answer: tuple[int, dict[str, str], bytes] = (200, {}, b"")

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        status, headers, payload = self.answer
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_DELETE = _handle

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def capture():
    _Capture.seen = []
    group = b'{"status":"success","message":null,"data":{"uid":"6065ecdc9184a","name":"G"}}'
    _Capture.answer = (200, {"Content-Type": "application/json"}, group)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _client(capture, family: str = "v3", **options) -> GoToneClient:
    host, port = capture.server_address[:2]
    return GoToneClient(f"http://{host}:{port}/", TOKEN, family=family, timeout=1.0, **options)


def test_v3_headers_and_json_body(capture):
    _client(capture).create_group("G")
    (seen,) = _Capture.seen
    assert seen["method"] == "POST" and seen["path"] == "/api/v3/contacts"
    headers = seen["headers"]
    assert headers["Accept"] == "application/json"
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Origin" not in headers and "Referer" not in headers
    assert json.loads(seen["body"]) == {"name": "G"}


def test_http_family_sends_the_token_once_as_api_token(capture):
    client = _client(capture, "http")
    client.get_group("6065ecdc9184a")
    with pytest.raises(ProtocolError):  # the capture answers a group, not a paginator
        client.list_groups(page=2)
    post, get = _Capture.seen
    assert post["path"] == "/api/http/contacts/6065ecdc9184a/show"
    assert json.loads(post["body"]) == {"api_token": TOKEN}
    assert get["path"].startswith("/api/http/contacts?") and "api_token=7%7C" in get["path"]
    assert get["body"] == b""
    # Only the parameter the family reads (§1.4): no second copy in an Authorization header.
    assert "Authorization" not in post["headers"] and "Authorization" not in get["headers"]


def test_v3_delete_has_no_body_and_no_trailing_slash(capture):
    _Capture.answer = (200, {}, b'{"status":"success","message":"ok","data":null}')
    _client(capture).delete_contact("6065ecdc9184a", "606732aec8705")
    (seen,) = _Capture.seen
    assert seen["path"] == "/api/v3/contacts/6065ecdc9184a/delete/606732aec8705"
    assert seen["body"] == b""


def test_redirects_are_not_followed(capture):
    _Capture.answer = (301, {"Location": "https://elsewhere.example/api/v3/contacts"}, b"")
    with pytest.raises(ProtocolError, match="redirected"):
        _client(capture).create_group("G")
    assert len(_Capture.seen) == 1


def test_non_json_401_and_403_keep_their_meaning(capture):
    _Capture.answer = (401, {"Content-Type": "text/html"}, b"<html>401</html>")
    with pytest.raises(AuthError):
        _client(capture).get_balance()


def test_passed_session_is_used(capture):
    session = requests.Session()
    calls: list[str] = []
    session.hooks["response"].append(lambda r, *a, **k: calls.append(r.url))
    client = _client(capture, session=session)
    client.get_group("6065ecdc9184a")
    client.close()  # not ours: stays open
    client.get_group("6065ecdc9184a")
    assert len(calls) == 2


@pytest.mark.parametrize(
    ("base_url", "family", "expected"),
    [
        ("https://app.gotonesms.net/api/v3", None, "https://app.gotonesms.net/api/v3"),
        ("https://app.gotonesms.net/api/v3/", None, "https://app.gotonesms.net/api/v3"),
        ("https://app.gotonesms.net", None, "https://app.gotonesms.net/api/v3"),
        ("https://app.gotonesms.net/", "http", "https://app.gotonesms.net/api/http"),
        ("https://app.gotonesms.net/api/http", None, "https://app.gotonesms.net/api/http"),
        ("https://example.com/sms/", "v3", "https://example.com/sms/api/v3"),
    ],
)
def test_base_url_forms(base_url, family, expected):
    client = GoToneClient(base_url, TOKEN, family=family)
    assert client.api_url == expected
    assert client.family == expected.rsplit("/", 1)[1]


@pytest.mark.parametrize(
    ("base_url", "family"),
    [
        ("ftp://x", None),
        ("app.gotonesms.net", None),
        ("https://x/api/v3?a=1", None),
        ("https://x/api/http", "v3"),
        ("https://x", "v4"),
    ],
)
def test_bad_base_urls_are_refused(base_url, family):
    with pytest.raises(InvalidRequestError):
        GoToneClient(base_url, TOKEN, family=family)


def test_token_is_required():
    with pytest.raises(InvalidRequestError):
        GoToneClient("https://x", " ")


def test_simulator_sees_the_right_credential_per_family(make_client, control):
    for family in ("v3", "http"):
        client = make_client(family)
        client.get_balance()
        client.send_sms([US, NL], "Hi")
    logged = [(r["family"], r["method"], r["token"]) for r in control.requests()]
    assert logged == [
        ("v3", "GET", TOKEN),
        ("v3", "POST", TOKEN),
        ("http", "GET", TOKEN),
        ("http", "POST", TOKEN),
    ]
    http_get, http_post = api_requests(control)[2:]
    assert http_get["query"]["api_token"] == TOKEN and http_post["json"]["api_token"] == TOKEN
    assert all(not r["path"].endswith("/") for r in control.requests())


def test_http_family_works_when_the_install_reads_the_bearer(make_client, control):
    control.configure(http_accepts_bearer=True)
    assert make_client("http").get_profile().email == "demo@example.com"


def test_wrong_base_path_is_a_protocol_error(gateway, control, token):
    client = GoToneClient(f"{gateway.host_url}/nested", token, timeout=1.0)
    with pytest.raises(ProtocolError, match="could not be found") as caught:
        client.get_balance()
    assert not caught.value.may_have_been_processed
