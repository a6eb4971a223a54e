"""T10–T12: the GoTone token is never in plaintext anywhere; keys lost, moved and rotated.

Extends tests/web/test_token_secrecy.py (one save + eight pages, the SQLite files, one copied
ciphertext, the 503 of the token pages) and tests/test_cli.py (rotate/check output) with:
* a full exercise (save, replace, a refused token, the http family whose URLs carry the
  token, sends, exports, history, the gateway's list, clearing), then every table's every
  row (the "dump", on SQLite and PostgreSQL), every file under the instance, the logs at
  DEBUG, every response and the audit rows searched for each token, raw and URL-encoded;
* a real gunicorn process with the project's gunicorn.conf.py: its access and error log;
* key loss: after a restart without keys every GET page answers, the token pages with 503;
* rotation through a restart with only the new key, and a ciphertext moved between
  workspaces that the gateway never sees.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pyotp
import pytest
import requests

from app import create_app
from app.crypto import generate_key, key_id_of
from app.extensions import db
from app.jobs import drain
from app.models import AuditEvent, GoToneSettings, User
from app.permissions import ROUTE_ACCESS, Role
from app.services import two_factor
from tests.conftest import HX, KEYS, PG_URL, PortalClient, portal_config
from tests.factories import PASSWORD, login, make_user, make_workspace
from tests.security.snapshots import snapshot
from tests.security.test_isolation import _workspace
from tests.web.test_access import ROUTES, _url

ROOT = Path(__file__).resolve().parents[2]
SEND_KEY = re.compile(r'name="send_key" type="hidden" value="([0-9a-f]+)"')


def _token() -> str:
    """A random 40-character token in the gateway's `id|secret` shape."""
    return "9|" + secrets.token_urlsafe(40)[:38]


def _forms(token: str) -> list[bytes]:
    """The token as bytes, raw and as it looks in a URL or a form body."""
    return [token.encode(), quote(token, safe="").encode(), token.replace("|", "%7C").encode()]


def _found(token: str, data: bytes | str) -> bool:
    raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
    return any(form in raw for form in _forms(token))


@pytest.fixture
def app(make_app):
    app = make_app(JOBS_PACE=100_000)
    with app.app_context():
        yield app
        db.session.remove()


def test_tokens_are_nowhere_after_a_full_exercise(app, client, sim, caplog, tmp_path, figures):
    caplog.set_level(logging.DEBUG)
    sim.control.configure(rate_limit=1_000_000)
    first, second, refused = _token(), _token(), _token()
    for token in (first, second):
        sim.control.create_account(token=token, balance=500)
    owner = make_user()
    ws = make_workspace(owner, "Secrets", base_url=sim.api_url("v3"))
    group = sim.control.seed_group(
        first, "Customers", [{"phone": "12025550140", "first_name": "Cy"}]
    )
    login(client, owner)
    w = f"/w/{ws.id}"
    answers = []

    def visit(*urls, **kwargs):
        for url in urls:
            for headers in ({}, HX):
                answers.append(client.get(url, headers=headers, **kwargs))

    answers.append(client.post(f"{w}/settings/token", data={"token": first}))
    answers.append(client.post(f"{w}/settings/test", headers=HX))
    assert "Connected." in answers[-1].get_data(as_text=True)
    visit(
        f"{w}/settings",
        f"{w}",
        f"{w}/dashboard/account",
        f"{w}/dashboard/profile",
        f"{w}/groups",
        f"{w}/groups/{group['uid']}",
        f"{w}/messages/compose",
    )
    key = SEND_KEY.search(answers[-2].get_data(as_text=True)).group(1)
    sent = client.post(
        f"{w}/messages/send",
        data={"send_key": key, "type": "plain", "numbers": "+1 202 555 0141", "text": "Hi"},
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)[:300]
    answers.append(sent)
    answers.append(client.post(f"{w}/jobs/export", data={"group": group["uid"]}))
    drain(app)
    visit(
        sent.location,
        f"{w}/messages/history",
        f"{w}/messages/history.csv",
        f"{w}/messages/gateway-history",
        f"{w}/jobs",
        f"{w}/audit",
    )
    # Replace it (htmx; the password again), then use the http family: its URLs carry
    # api_token in the query. A new family clears the token unless the form brings one.
    answers.append(
        client.post(f"{w}/settings/token", data={"token": second, "password": PASSWORD}, headers=HX)
    )
    assert db.session.get(GoToneSettings, ws.id).token_last4 == second[-4:]
    answers.append(
        client.post(
            f"{w}/settings",
            data={
                "base_url": sim.api_url("http"),
                "family": "http",
                "timezone": "UTC",
                "default_country": "US",
                "balance_warning_below": "",
                "new_token": second,
            },
        )
    )
    db.session.expire_all()
    sealed = db.session.get(GoToneSettings, ws.id).token_enc
    assert db.session.get(GoToneSettings, ws.id).token_last4 == second[-4:]
    assert re.match(r"^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$", sealed)
    answers.append(client.post(f"{w}/settings/test", headers=HX))
    assert "Connected." in answers[-1].get_data(as_text=True), answers[-1].get_data(True)[:500]
    visit(f"{w}/dashboard/account", f"{w}/settings")
    # A token the gateway refuses: its error page and log lines.
    answers.append(client.post(f"{w}/settings/token", data={"token": refused}))
    answers.append(client.post(f"{w}/settings/test"))
    assert "GoTone refused the API token" in answers[-1].get_data(as_text=True)
    visit(f"{w}/dashboard/account", f"{w}/settings")
    answers.append(client.post(f"{w}/settings/token/clear", data={}))
    visit(f"{w}/settings", f"{w}/audit")

    # The write-only field: every token <input> served is empty; only the last four show.
    fields = [
        field
        for response in answers
        for field in re.findall(r'<input[^>]*name="token"[^>]*>', response.get_data(as_text=True))
    ]
    assert fields and all('value=""' in f or "value=" not in f for f in fields), fields[:3]
    stored_rows = snapshot()
    audit_rows = db.session.scalars(db.select(AuditEvent)).all()
    actions = [event.action for event in audit_rows]
    # second, the family change carrying second, refused
    assert actions.count("token.replaced") == 3 and "token.cleared" in actions
    db.session.remove()
    files = [p for p in Path(tmp_path).rglob("*") if p.is_file()]
    calls = sim.control.requests()
    for token in (first, second, refused):
        for response in answers:
            assert not _found(token, response.get_data()), response.request.path
            assert not _found(token, str(response.headers)), response.request.path
        assert not _found(token, caplog.text)
        assert not any(_found(token, repr(record.__dict__)) for record in caplog.records)
        assert not _found(token, repr(stored_rows)), "a table holds the token"
        assert not any(_found(token, repr(vars(e))) for e in audit_rows)
        for path in files:
            assert not _found(token, path.read_bytes()), path
    if not PG_URL:
        assert {"portal.db", "portal.db-wal"} <= {p.name for p in files}
    # The tokens really were used: by the portal, decrypted, in headers and query strings.
    assert {c["token"] for c in calls} >= {first, second, refused}
    assert any(c["family"] == "http" and c["token"] == second for c in calls)
    assert "api_token=[redacted]" in caplog.text, "the http family's URLs were logged, redacted"
    figures(
        "T10 at rest",
        f"3 random 40-character tokens (set, replaced, refused) through "
        f"{len(answers)} responses, {len(caplog.records)} log records at DEBUG, "
        f"{sum(len(r) for r in stored_rows.values())} rows of "
        f"{len(stored_rows)} tables, {len(audit_rows)} audit rows, {len(files)} "
        f"instance files: 0 plaintext occurrences (raw or URL-encoded)",
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_logs_never_hold_the_token(sim, tmp_path, figures):
    token = _token()
    sim.control.create_account(token=token, balance=100)
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_ENCRYPTION_KEYS": KEYS,
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.db'}",
        "PORTAL_GOTONE_DEFAULT_URL": sim.api_url("v3"),
        "PORTAL_LOG_LEVEL": "DEBUG",
        "PORTAL_GOTONE_ALLOW_HTTP": "1",
        "PORTAL_GOTONE_ALLOW_PRIVATE": "1",  # the simulator
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "PORTAL_WORKERS": "1",
        "PORTAL_THREADS": "4",
    }
    env.pop("PORTAL_REDIS_URL", None)
    # The schema and the account are made here (cheap hash); everything else over HTTP.
    setup = create_app(
        portal_config(
            tmp_path,
            None,
            SQLALCHEMY_DATABASE_URI=env["PORTAL_DATABASE_URL"],
            INSTANCE_PATH=env["PORTAL_INSTANCE_PATH"],
        )
    )
    with setup.app_context():
        db.create_all()
        make_user("ops@example.com")
        db.session.remove()
        db.engine.dispose()
    bin_dir = Path(sys.executable).parent
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        command = [str(bin_dir / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"]
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base + "/healthz", timeout=10)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        web = requests.Session()

        def csrf(path: str) -> str:
            page = web.get(base + path, timeout=10).text
            return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

        signed_in = web.post(
            base + "/auth/login",
            timeout=30,
            data={
                "email": "ops@example.com",
                "password": PASSWORD,
                "csrf_token": csrf("/auth/login"),
            },
        )
        assert signed_in.status_code == 200 and "/auth/login" not in signed_in.url
        created = web.post(base + "/w", data={"name": "Ops", "csrf_token": csrf("/w")}, timeout=10)
        ws = re.search(r"/w/(\d+)", created.url).group(1)
        saved = web.post(
            f"{base}/w/{ws}/settings/token",
            timeout=10,
            data={"token": token, "csrf_token": csrf(f"/w/{ws}/settings")},
        )
        assert saved.status_code == 200 and token[-4:] in saved.text
        tested = web.post(
            f"{base}/w/{ws}/settings/test",
            timeout=10,
            data={"csrf_token": csrf(f"/w/{ws}/settings")},
        )
        assert "Connected." in tested.text
        for path in (f"/w/{ws}/dashboard/account", f"/w/{ws}/groups", f"/w/{ws}/settings"):
            assert web.get(base + path, timeout=10).status_code == 200
    finally:
        server.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        server.wait(timeout=30)
    output = log_path.read_bytes()
    assert f'"POST /w/{ws}/settings/token HTTP/1.1" 303'.encode() in output, output[-2000:]
    assert not _found(token, output)
    for path in tmp_path.rglob("gunicorn.db*"):
        assert not _found(token, path.read_bytes()), path
    lines, access = output.count(b"\n"), output.count(b' HTTP/1.1" ')
    figures(
        "T12",
        f"real gunicorn with gunicorn.conf.py: {lines} log lines ({access} access "
        "lines), 0 with the token",
    )


# -- T11 key loss and rotation --------------------------------------------------------------------
def _restart(tmp_path, pg_schema, keys):
    """The same database, another process configuration (as after a deploy)."""
    app = create_app(portal_config(tmp_path, pg_schema, ENCRYPTION_KEYS=keys, JOBS_PACE=100_000))
    app.test_client_class = PortalClient
    return app


NEEDS_TOKEN_OK = {  # pages that never need the token: they must work without keys
    "workspaces.show",
    "workspaces.members",
    "workspaces.settings",
    "workspaces.audit_log",
    "messages.templates",
    "messages.schedules",
    "messages.history",
    "messages.message",
    "messages.history_export",
    "messages.status",
    "jobs.index",
    "jobs.show",
}


def test_without_keys_every_page_answers_and_token_pages_say_503(
    app, sim, tmp_path, pg_schema, figures
):
    token = _token()
    sim.control.configure(rate_limit=1_000_000)
    sim.control.create_account(token=token, balance=100)
    ws, users, ids = _workspace(
        sim,
        token,
        "Keyless",
        "keyless.example",
        "Group",
        {"phone": "12025550160", "first_name": "K", "last_name": "L"},
        "Keyless text",
        "Keyless template",
    )
    ids["secret"] = "unused-secret"
    owner_id, ws_id = users[Role.OWNER].id, ws.id
    stored = db.session.get(GoToneSettings, ws_id).token_enc
    restarted = _restart(tmp_path, pg_schema, None)
    statuses, unavailable, slowest = {}, 0, 0.0
    start = len(sim.control.requests())
    with restarted.app_context():
        client = restarted.test_client()
        login(client, db.session.get(User, owner_id))
        for endpoint, rule, method in ROUTES:
            if method != "GET" or endpoint == "workspaces.invitation":
                continue
            for headers in ({}, HX):
                started = time.monotonic()
                response = client.get(_url(rule, ids), headers=headers)
                elapsed = time.monotonic() - started
                status, body = response.status_code, response.get_data(as_text=True)
                statuses[(endpoint, bool(headers))] = status
                assert status != 500, endpoint
                if status == 503:
                    unavailable += 1
                    assert "encryption key is not configured" in body, endpoint
                    assert elapsed < 2.0, (endpoint, elapsed)  # 200 ms is the aim; CI jitters
                    slowest = max(slowest, elapsed)
                    assert ROUTE_ACCESS[endpoint] not in ("public", "login"), endpoint
                if endpoint in NEEDS_TOKEN_OK:
                    assert status == 200, (endpoint, status)
        assert statuses[("groups.index", False)] == 503
        card = client.get(f"/w/{ws_id}/dashboard/account", headers=HX)  # an inline card
        assert "encryption key is not configured" in card.get_data(as_text=True)
        assert client.get("/healthz").get_json()["status"] == "degraded"  # not saying why
        refused = client.post(f"/w/{ws_id}/settings/token", data={"token": _token()})
        assert refused.status_code == 503
        assert db.session.get(GoToneSettings, ws_id).token_enc == stored, "nothing overwritten"
        db.session.remove()
    # Without keys no token can be used: nothing calls the gateway with one.
    assert not [c for c in sim.control.requests()[start:] if c["token"]], "calls without a key"
    figures(
        "T11 key loss",
        f"restart without keys: {len(statuses)} GET answers (page/htmx), "
        f"0 × 500, {unavailable} token pages 503 (slowest "
        f"{slowest * 1000:.0f} ms), {len(NEEDS_TOKEN_OK)} token-free pages "
        "200, stored token untouched",
    )


def test_rotation_then_old_key_removed_everything_decrypts(app, sim, tmp_path, pg_schema, figures):
    sim.control.configure(rate_limit=1_000_000)
    owner = make_user()
    tokens = [_token() for _ in range(3)]
    spaces = []
    for token in tokens:
        sim.control.create_account(token=token, balance=100)
        spaces.append(make_workspace(owner, base_url=sim.api_url("v3"), token=token).id)
    secret = two_factor.new_secret()
    assert two_factor.enable(owner, secret, pyotp.TOTP(secret).now())
    owner.totp_last_counter = 0
    db.session.commit()
    email, old_kid = owner.email, key_id_of(db.session.get(GoToneSettings, spaces[0]).token_enc)
    new = generate_key()
    new_kid = new.split(":")[0]
    db.session.remove()

    both = _restart(tmp_path, pg_schema, f"{new},{KEYS}")  # step 2: the new key first
    with both.app_context():
        result = both.test_cli_runner().invoke(args=["secrets", "rotate"])
        assert result.exit_code == 0 and "rotated 4, already current 0, failed 0" in result.output
        db.session.remove()
    only_new = _restart(tmp_path, pg_schema, new)  # step 5: the old key removed
    with only_new.app_context():
        check = only_new.test_cli_runner().invoke(args=["secrets", "check"])
        assert check.exit_code == 0 and f"key {new_kid} (primary): 4" in check.output
        client = only_new.test_client()
        first = client.post("/auth/login", data={"email": email, "password": PASSWORD})
        assert first.status_code == 303 and "/auth/login/2fa" in first.location
        second = client.post(first.location, data={"code": pyotp.TOTP(secret).now()})
        assert second.status_code == 303, "the TOTP seed decrypts with the new key"
        for ws_id in spaces:
            tested = client.post(f"/w/{ws_id}/settings/test", headers=HX)
            assert "Connected." in tested.get_data(as_text=True), ws_id
            assert client.get(f"/w/{ws_id}/groups").status_code == 200
        # A ciphertext moved to another workspace's row does not decrypt there, and no
        # gateway call is made with it.
        row = db.session.get(GoToneSettings, spaces[1])
        row.token_enc = db.session.get(GoToneSettings, spaces[0]).token_enc
        db.session.commit()
        start = len(sim.control.requests())
        moved = client.post(f"/w/{spaces[1]}/settings/test", headers=HX)
        assert moved.status_code == 503
        assert "cannot be decrypted" in moved.get_data(as_text=True)
        assert client.get(f"/w/{spaces[1]}/groups").status_code == 503
        assert len(sim.control.requests()) == start
        db.session.remove()
    assert old_kid != new_kid
    figures(
        "T11 rotation",
        f"3 tokens + 1 TOTP seed re-encrypted k→{new_kid}; after removing "
        "the old key 3/3 workspaces connect, 2FA login works, check exits 0; a "
        "ciphertext moved between workspaces: 503, 0 gateway calls",
    )
