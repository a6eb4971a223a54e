"""Account: change password, two-factor with recovery codes, language."""

from __future__ import annotations

import re

import pyotp

from app.models import AuditEvent, User
from tests.conftest import HX
from tests.factories import PASSWORD, login, make_user

NEW = "a brand new password"


def test_change_password_keeps_this_session_and_ends_the_others(client, app, db):
    user = make_user()
    login(client, user)
    other = app.test_client()
    login(other, user)
    response = client.post(
        "/account/password", data={"current": PASSWORD, "new": NEW, "confirm": NEW}
    )
    assert response.status_code == 303
    assert client.get("/account/").status_code == 200
    assert other.get("/account/").status_code == 302
    fresh = app.test_client()
    assert fresh.post("/auth/login", data={"email": user.email, "password": NEW}).status_code == 303


def test_change_password_with_wrong_current_is_422_in_place(client):
    login(client, make_user())
    response = client.post(
        "/account/password", headers=HX, data={"current": "wrong", "new": NEW, "confirm": NEW}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and body.lstrip().startswith('<form id="password-form"')
    assert "not correct" in body


def _enable_2fa(client):
    assert "totp-secret" not in client.get("/account/2fa").get_data(as_text=True)
    started = client.post("/account/2fa", data={"start": "1"})
    assert started.status_code == 303
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    response = client.post("/account/2fa", data={"code": pyotp.TOTP(secret).now()})
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", response.get_data(as_text=True))
    assert response.status_code == 200 and len(codes) == 10
    return secret, codes


def test_two_factor_login_with_code_and_single_use_recovery_codes(client, app, db):
    user = make_user("tfa@example.com")
    login(client, user)
    secret, codes = _enable_2fa(client)
    stored = db.session.get(User, user.id)
    assert (
        secret not in (stored.totp_secret_enc or "") and codes[0] not in stored.recovery_code_hashes
    )

    browser = app.test_client()
    step = browser.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert step.status_code == 303 and step.headers["Location"].startswith("/auth/login/2fa")
    assert browser.get("/account/").status_code == 302  # not logged in yet
    assert browser.post("/auth/login/2fa", data={"code": "000000"}).status_code == 422
    assert browser.post("/auth/login/2fa", data={"code": codes[0]}).status_code == 303
    assert browser.get("/account/").status_code == 200

    again = app.test_client()
    again.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert again.post("/auth/login/2fa", data={"code": codes[0]}).status_code == 422
    assert again.post("/auth/login/2fa", data={"code": codes[1]}).status_code == 303


def test_a_totp_code_is_accepted_only_once(client, app):
    user = make_user()
    login(client, user)
    secret, _ = _enable_2fa(client)
    code = pyotp.TOTP(secret).now()  # the step used at enrolment: already spent
    browser = app.test_client()
    browser.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert browser.post("/auth/login/2fa", data={"code": code}).status_code == 422


def test_disabling_two_factor_ends_other_sessions(client, app, db):
    user = make_user()
    login(client, user)
    _, codes = _enable_2fa(client)
    other = app.test_client()
    login(other, user)
    response = client.post("/account/2fa/disable", data={"password": PASSWORD, "code": codes[3]})
    assert response.status_code == 303
    assert db.session.get(User, user.id).totp_secret_enc is None
    assert other.get("/account/").status_code == 302
    assert client.get("/account/").status_code == 200
    actions = db.session.scalars(db.select(AuditEvent.action).where(AuditEvent.actor_id == user.id))
    assert {"account.2fa_enabled", "account.2fa_disabled"} <= set(actions)


def test_language_choice_switches_the_interface_to_chinese(client, db):
    user = make_user()
    login(client, user)
    assert client.post("/account/language", data={"locale": "zh_Hans"}).status_code == 303
    page = client.get("/account/").get_data(as_text=True)
    assert '<html lang="zh-Hans">' in page and "修改密码" in page and "退出登录" in page
    assert client.post("/account/language", data={"locale": "xx"}).status_code == 422


def test_anonymous_visitors_get_the_browser_language(client):
    page = client.get("/auth/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录" in page.get_data(as_text=True)
