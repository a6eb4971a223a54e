"""Sign up, log in, log out, throttling, and the on-site-only ?next=."""

from __future__ import annotations

import pytest

from app.models import AuditEvent, UserSession
from app.security import safe_next
from tests.conftest import HX
from tests.factories import PASSWORD, login, make_user


def _login(client, email, password, **kw):
    return client.post(
        "/auth/login" + kw.pop("query", ""), data={"email": email, "password": password}, **kw
    )


def test_signup_creates_account_then_the_visitor_signs_in(client, db):
    response = client.post(
        "/auth/signup", data={"email": "New@Example.com", "password": PASSWORD, "confirm": PASSWORD}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    page = client.get("/auth/login").get_data(as_text=True)
    assert "its account is ready" in page and 'value="new@example.com"' in page
    assert client.get("/w").status_code == 302  # signing up signs nobody in (item 9)
    assert _login(client, "new@example.com", PASSWORD).status_code == 303
    assert client.get("/w").status_code == 200
    assert db.session.scalar(
        db.select(AuditEvent.action).where(AuditEvent.target == "new@example.com")
    )


def test_signup_rejects_short_password_with_422(client):
    response = client.post(
        "/auth/signup", data={"email": "a@example.com", "password": "short", "confirm": "short"}
    )
    assert response.status_code == 422
    assert "between 10 and 128" in response.get_data(as_text=True)


def test_signup_fragment_is_the_form_block(client):
    response = client.post(
        "/auth/signup", headers=HX, data={"email": "bad", "password": "x", "confirm": "y"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and 'id="signup-form"' in body
    assert "HX-Request" in response.headers["Vary"]


def test_login_succeeds_and_redirects_home(client, app):
    make_user("ann@example.com")
    response = _login(client, "ann@example.com", PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_unknown_user_and_wrong_password_get_the_same_answer(client, app):
    make_user("ann@example.com")
    wrong = _login(client, "ann@example.com", "not the password")
    unknown = _login(client, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 422
    strip = lambda r: r.get_data(as_text=True).split('id="login-form"')[1].split("</form>")[0]  # noqa: E731
    import re

    norm = lambda r: re.sub(r'value="[^"]*"', "", strip(r))  # noqa: E731
    assert norm(wrong).replace("ann@example.com", "X") == norm(unknown).replace(
        "nobody@example.com", "X"
    )


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/w/1/members", "/w/1/members"),
        ("/account/?tab=x", "/account/?tab=x"),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("\\\\evil.example", None),
        ("https://evil.example/", None),
        ("javascript:alert(1)", None),
        ("/ok\r\nSet-Cookie: x", None),
        ("/\tevil", None),
        ("evil.example", None),
        ("", None),
    ],
)
def test_safe_next_only_allows_on_site_paths(target, expected):
    assert safe_next(target) == expected


def test_login_ignores_off_site_next(client, app):
    make_user("ann@example.com")
    response = _login(client, "ann@example.com", PASSWORD, query="?next=//evil.example/x")
    assert response.headers["Location"] == "/"
    client.post("/auth/logout")
    response = _login(client, "ann@example.com", PASSWORD, query="?next=/account/")
    assert response.headers["Location"] == "/account/"


def test_account_is_throttled_after_ten_failures_even_with_right_password(client, app):
    make_user("ann@example.com")
    for _ in range(10):
        assert _login(client, "ann@example.com", "wrong password!").status_code == 422
    assert _login(client, "ann@example.com", PASSWORD).status_code == 429


def test_ip_is_throttled_across_accounts(make_app):
    app = make_app(LOGIN_IP_LIMIT="5 per hour")
    client = app.test_client()
    with app.app_context():
        for n in range(5):
            assert _login(client, f"user{n}@example.com", "wrong password!").status_code == 422
        assert _login(client, "other@example.com", "wrong password!").status_code == 429


def test_logout_ends_every_session_including_copied_cookies(client, app, db):
    user = make_user()
    login(client, user)
    copy = app.test_client()
    login(copy, user)
    assert copy.get("/w").status_code == 200
    assert client.post("/auth/logout").status_code == 303
    assert client.get("/w").status_code == 302
    assert copy.get("/w").status_code == 302
    assert db.session.scalar(db.select(db.func.count()).select_from(UserSession)) == 0


def test_logged_out_htmx_request_gets_401_with_hx_redirect(client):
    response = client.get(
        "/w", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/w/3/members"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/auth/login?next=/w/3/members"
    assert "Location" not in response.headers


def test_logged_out_page_request_redirects_to_login_with_next(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/account/"


def test_throttling_is_shared_between_workers_through_redis(make_app):
    import os
    import uuid

    import redis

    url = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {url}")
        pytest.skip("Redis is not running")
    email = f"{uuid.uuid4().hex}@example.com"  # a fresh key: earlier runs do not interfere
    workers = [
        make_app(RATELIMIT_STORAGE_URI=url, LOGIN_ACCOUNT_LIMIT="4 per hour") for _ in range(2)
    ]
    clients = [w.test_client() for w in workers]
    for n in range(4):
        worker = workers[n % 2]
        with worker.app_context():
            assert _login(clients[n % 2], email, "wrong password!").status_code == 422
    with workers[0].app_context():
        assert _login(clients[0], email, "wrong password!").status_code == 429
