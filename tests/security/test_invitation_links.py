"""Issue 12, item 12: invitation links (bearer credentials for days) stay out of URLs that
get logged: the link is redeemed into the session on its first hit, and a real gunicorn's
access log, with the project's gunicorn.conf.py, writes the secret as "[redacted]"."""

from __future__ import annotations

import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import requests

from app import create_app
from app.access_log import RedactingFilter, redact
from app.extensions import db
from app.models import Membership
from app.permissions import Role
from app.services import invitations, workspaces
from tests.conftest import KEYS, portal_config
from tests.factories import PASSWORD, make_user, make_workspace
from tests.security.test_token_plaintext import _free_port

ROOT = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _invitation(owner_email="owner@example.com"):
    owner = make_user(owner_email)
    workspace = make_workspace(owner)
    membership = workspaces.get_member(workspace, owner.id)
    return workspace, invitations.create(workspace, membership, Role.MEMBER)[1]


def test_a_new_member_joins_through_sign_up_and_login_with_no_secret_in_any_url(app, client):
    workspace, secret = _invitation()
    seen = []

    def go(response):
        seen.append(response.headers.get("Location", "") + response.get_data(as_text=True))
        return response

    first = go(client.get(f"/invitations/{secret}"))
    assert (first.status_code, first.headers["Location"]) == (303, "/invitations/pending")
    page = go(client.get("/invitations/pending")).get_data(as_text=True)
    assert "/auth/signup?next=/invitations/pending" in page
    signed_up = go(
        client.post(
            "/auth/signup?next=/invitations/pending",
            data={"email": "joiner@example.com", "password": PASSWORD, "confirm": PASSWORD},
        )
    )
    assert signed_up.headers["Location"] == "/auth/login?next=/invitations/pending"
    logged_in = go(
        client.post(
            "/auth/login?next=/invitations/pending",
            data={"email": "joiner@example.com", "password": PASSWORD},
        )
    )
    assert logged_in.headers["Location"] == "/invitations/pending"
    assert "Join the workspace" in go(client.get("/invitations/pending")).get_data(as_text=True)
    joined = go(client.post("/invitations/pending"))
    assert joined.headers["Location"] == f"/w/{workspace.id}"
    assert db.session.scalar(db.select(db.func.count()).select_from(Membership)) == 2
    assert not any(secret in text for text in seen)


def test_the_redaction_covers_every_spelling_and_leaves_ids_alone():
    secret = secrets.token_urlsafe(24)
    for line in (
        f"GET /invitations/{secret} HTTP/1.1",
        f"GET /auth/login?next={quote('/invitations/' + secret, safe='')} HTTP/1.1",
        f"GET /auth/login?next={quote(quote('/invitations/' + secret, safe=''))} x",
        f"http://portal.example/INVITATIONS/{secret}?a=1",
    ):
        assert secret not in redact(line) and "[redacted]" in redact(line), line
    for kept in ("POST /w/3/invitations/17/revoke HTTP/1.1", "GET /invitations/pending HTTP/1.1"):
        assert redact(kept) == kept
    line = (f"GET /invitations/{secret} HTTP/1.1", "303", "-")
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s %s', line, None)
    RedactingFilter().filter(record)
    assert secret not in record.getMessage()


def test_gunicorn_access_log_never_holds_an_invitation_secret(tmp_path, figures):
    port = _free_port()
    env = {
        **os.environ,
        "PORTAL_ENV": "production",
        "PORTAL_SECRET_KEY": secrets.token_hex(32),
        "PORTAL_ENCRYPTION_KEYS": KEYS,
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.db'}",
        "PORTAL_LOG_LEVEL": "DEBUG",
        "PORTAL_BIND": f"127.0.0.1:{port}",
        "PORTAL_WORKERS": "1",
        "PORTAL_THREADS": "4",
    }
    env.pop("PORTAL_REDIS_URL", None)
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
        _, secret = _invitation()
        _, old_style = _invitation("other@example.com")
        make_user("joiner@example.com")
        db.session.remove()
        db.engine.dispose()
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "wb") as log:
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "wsgi:app",
        ]
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
        opened = web.get(f"{base}/invitations/{secret}", timeout=10)
        assert opened.url == base + "/invitations/pending" and "You are invited" in opened.text
        # A link in an old ?next= and in a Referer (a page that linked to it).
        login_page = web.get(
            f"{base}/auth/login?next={quote('/invitations/' + old_style)}",
            headers={"Referer": f"{base}/invitations/{old_style}"},
            timeout=10,
        )
        token = CSRF.search(login_page.text).group(1)
        signed_in = web.post(
            f"{base}/auth/login?next=/invitations/pending",
            timeout=30,
            data={"email": "joiner@example.com", "password": PASSWORD, "csrf_token": token},
        )
        assert signed_in.url == base + "/invitations/pending"
        joined = web.post(
            f"{base}/invitations/pending",
            timeout=10,
            data={"csrf_token": CSRF.search(signed_in.text).group(1)},
        )
        assert "You joined" in joined.text
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert '"GET /invitations/[redacted] HTTP/1.1" 303' in output, output[-2000:]
    assert "POST /invitations/pending HTTP/1.1" in output
    assert secret not in output and old_style not in output
    lines = output.count(" HTTP/1.1")
    figures(
        "B12",
        f"real gunicorn with gunicorn.conf.py: {lines} access lines, 0 with an "
        "invitation secret (path, ?next= and Referer)",
    )
