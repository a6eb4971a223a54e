"""Issue 12 items 5 (the /healthz part), 19, 35 (reporting) and 36.

The public /healthz reports the process and the database, calls no gateway and names no
reason; a workspace's admins see the details on its health page, operators in `flask health`.
"""

from __future__ import annotations

import base64
import os

import pytest

from app.crypto import Keyring, generate_key, key_id_of
from app.models import GoToneSettings
from app.permissions import Role
from tests.conftest import HX
from tests.factories import add_member, login, make_user, make_workspace
from tests.listener import running_listener

TOKEN = "7|health-token-secret-HJKL"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # port 1: nothing listens, refused at once
LIVE_REDIS = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def listener():
    with running_listener() as found:
        yield found


def _wrong_keys(app, how: str) -> None:
    """Swap the app's keys for well-formed wrong ones, as a bad PORTAL_ENCRYPTION_KEYS does."""
    kid = app.extensions["portal_keyring"].primary_kid
    if how == "other key id":
        entry = generate_key()
    else:  # the stored tokens' key id, other bytes
        entry = f"{kid}:{base64.urlsafe_b64encode(os.urandom(32)).decode()}"
    app.extensions["portal_keyring"] = Keyring.from_config(entry)


def test_healthz_tells_only_the_status_and_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_calls_no_gateway(client, listener):
    make_workspace(make_user(), base_url=listener.url, token=TOKEN)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert listener.requests == []


def test_healthz_says_degraded_without_naming_the_keys(make_app):
    app = make_app(ENCRYPTION_KEYS="k1:not-base64!!")
    body = app.test_client().get("/healthz").get_data(as_text=True)
    assert '"status":"degraded"' in body.replace(" ", "")
    assert "key" not in body.lower() and "encrypt" not in body.lower()


@pytest.mark.parametrize("how", ["other key id", "same key id, other bytes"])
def test_wrong_but_well_formed_keys_are_found_by_decrypting(app, client, how):
    owner = make_user()
    ws = make_workspace(owner, token=TOKEN)
    make_workspace(owner)  # no token: nothing to decrypt
    assert client.get("/healthz").get_json()["status"] == "ok"
    app.extensions.pop("portal_health_cache", None)
    _wrong_keys(app, how)
    health = client.get("/healthz").get_json()
    assert health == {"status": "degraded", "database": "ok"}

    login(client, owner)
    page = client.get(f"/w/{ws.id}/settings/health").get_data(as_text=True)
    assert "Cannot be decrypted with this server's keys" in page
    assert "Not checked: the token cannot be used." in page

    result = app.test_cli_runner().invoke(args=["health", "--no-gateways"])
    assert result.exit_code == 1
    assert "stored tokens: 1, decrypt: 0, fail: 1" in result.output
    assert TOKEN not in result.output


def test_flask_health_passes_and_checks_each_gateway(app, sim, gateway_token):
    owner = make_user()
    good = make_workspace(owner, base_url=sim.api_url("v3"), token=gateway_token)
    bad = make_workspace(owner, base_url=sim.api_url("v3"), token="8|refused-token-WXYZ")
    result = app.test_cli_runner().invoke(args=["health", "--workspace", str(good.id)])
    assert result.exit_code == 0, result.output
    assert "database: ok" in result.output and "redis: not configured" in result.output
    assert "stored tokens: 2, decrypt: 2, fail: 0" in result.output
    assert f"gateway of workspace {good.id}: ok" in result.output
    assert "all checks passed" in result.output
    both = app.test_cli_runner().invoke(args=["health"])
    assert both.exit_code == 1
    assert f"gateway of workspace {bad.id}: failed: GoTone refused the API token" in both.output
    assert "Unauthenticated" not in both.output  # the portal's words, not the gateway's
    assert gateway_token not in both.output and "refused-token" not in both.output


def test_redis_is_reported_and_its_outage_degrades_healthz(app, client):
    owner = make_user()
    ws = make_workspace(owner)
    login(client, owner)
    # Only the checks read this: the app's limiter and queue keep their memory/SQLite stores.
    app.config["REDIS_URL"] = DEAD_REDIS
    assert client.get("/healthz").get_json() == {"status": "degraded", "database": "ok"}
    page = client.get(f"/w/{ws.id}/settings/health").get_data(as_text=True)
    assert "Not reachable" in page
    down = app.test_cli_runner().invoke(args=["health", "--no-gateways"])
    assert down.exit_code == 1 and "redis: unreachable" in down.output
    assert "127.0.0.1:1" not in down.output + page  # no URL (it may hold a password)


def test_a_reachable_redis_is_reported(app, client):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(LIVE_REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not reachable at " + LIVE_REDIS)
        pytest.skip("no Redis at " + LIVE_REDIS)
    owner = make_user()
    ws = make_workspace(owner)
    login(client, owner)
    app.config["REDIS_URL"] = LIVE_REDIS
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert "Reachable" in client.get(f"/w/{ws.id}/settings/health").get_data(as_text=True)
    up = app.test_cli_runner().invoke(args=["health", "--no-gateways"])
    assert up.exit_code == 0 and "redis: ok" in up.output


def test_the_health_page_is_for_admins_and_checks_the_gateway(client, sim, gateway_token):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("v3"), token=gateway_token)
    admin = add_member(ws, role=Role.ADMIN)
    member = add_member(ws, role=Role.MEMBER)
    login(client, member)
    assert client.get(f"/w/{ws.id}/settings/health").status_code == 403
    login(client, admin)
    page = client.get(f"/w/{ws.id}/settings/health").get_data(as_text=True)
    assert "The gateway accepted the token and answered." in page
    assert "Decrypts with this server's keys." in page
    assert gateway_token not in page
    settings = client.get(f"/w/{ws.id}/settings").get_data(as_text=True)
    assert f"/w/{ws.id}/settings/health" in settings


def test_the_health_page_words_a_gateway_failure_itself(client, db, sim, gateway_token):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("v3"), token=gateway_token)
    login(client, owner)
    body = '{"status":"error","message":"<b>internal secret banner</b>"}'
    sim.control.add_fault(times=None, path="^/api/", mode="status", status=401, body=body)
    try:
        for headers in ({}, HX):
            page = client.get(f"/w/{ws.id}/settings/health", headers=headers)
            text = page.get_data(as_text=True)
            assert page.status_code == 200 and "GoTone refused the API token" in text
            assert "internal secret banner" not in text
            tested = client.post(f"/w/{ws.id}/settings/test", headers=HX).get_data(True)
            assert "GoTone refused the API token" in tested
            assert "internal secret banner" not in tested
    finally:
        sim.control.clear_faults()
    assert key_id_of(db.session.get(GoToneSettings, ws.id).token_enc)
