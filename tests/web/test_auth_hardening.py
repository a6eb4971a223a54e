"""Issue 12, items 6, 8, 9, 10, 11, 35 (login part): single-use codes under concurrency,
atomic throttling, sign-up that tells nothing, lock-outs only for the guesser, the password
policy, and logins while Redis is down.

The concurrent tests go through a real threaded HTTP server (werkzeug, 127.0.0.1) on the
suite's database: SQLite by default, PostgreSQL with PORTAL_TEST_DATABASE_URL.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import uuid

import pyotp
import pytest
import redis
import requests
from click.testing import CliRunner

from app.crypto import Keyring, generate_key
from app.extensions import db
from app.models import AuditEvent, User, UserSession
from app.services import accounts, two_factor
from tests.e2e.conftest import serve
from tests.factories import PASSWORD, login, make_user

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ANY_CSRF = re.compile(r'(value="|"X-CSRFToken": ")[^"]+\.[^"]+"')


def _post(client, path, data, ip="127.0.0.1", **kw):
    return client.post(path, data=data, environ_base={"REMOTE_ADDR": ip}, **kw)


def _login(client, email, password, ip="127.0.0.1"):
    return _post(client, "/auth/login", {"email": email, "password": password}, ip)


def _browser(base: str) -> tuple[requests.Session, str]:
    web = requests.Session()
    token = CSRF.search(web.get(base + "/auth/login", timeout=10).text).group(1)
    return web, token


def _at_once(count: int, work) -> list:
    """Run work(i) in `count` threads released together; return the results in order."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(i):
        barrier.wait(30)
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def _two_factor_user(email="tfa@example.com"):
    user = make_user(email)
    secret = two_factor.new_secret()
    codes = two_factor.enable(user, secret, pyotp.TOTP(secret).now())
    user.totp_last_counter = None  # the enrolment's step may be used once more, here
    db.session.commit()
    return user, secret, codes


def _at_second_step(base, email, count):
    """`count` browsers past the password, each waiting at the code step."""
    browsers = []
    for _ in range(count):
        web, token = _browser(base)
        step = web.post(
            base + "/auth/login",
            timeout=30,
            allow_redirects=False,
            data={"email": email, "password": PASSWORD, "csrf_token": token},
        )
        assert step.status_code == 303 and "/auth/login/2fa" in step.headers["Location"]
        browsers.append((web, token))
    return browsers


def _submit_code(base, browsers, code):
    def work(i):
        web, token = browsers[i]
        return web.post(
            base + "/auth/login/2fa",
            timeout=30,
            allow_redirects=False,
            data={"code": code, "csrf_token": token},
        ).status_code

    return _at_once(len(browsers), work)


# -- item 6 --------------------------------------------------------------------------------
def test_one_totp_code_sent_four_times_at_once_opens_one_session(make_app, figures):
    app = make_app()
    with app.app_context():
        user, secret, _ = _two_factor_user()
        with serve(app) as base:
            browsers = _at_second_step(base, user.email, 4)
            statuses = _submit_code(base, browsers, pyotp.TOTP(secret).now())
        assert sorted(statuses) == [303, 422, 422, 422], statuses
        assert db.session.query(UserSession).count() == 1
        db.session.remove()
    figures("B6", f"one TOTP code posted by 4 browsers at once: {statuses.count(303)} session")


def test_one_recovery_code_sent_three_times_at_once_opens_one_session(make_app):
    app = make_app()
    with app.app_context():
        user, _, codes = _two_factor_user()
        with serve(app) as base:
            browsers = _at_second_step(base, user.email, 3)
            statuses = _submit_code(base, browsers, codes[0])
        db.session.expire_all()
        assert sorted(statuses) == [303, 422, 422], statuses
        stored = db.session.get(User, user.id).recovery_code_hashes.split()
        assert len(stored) == len(codes) - 1
        assert db.session.query(UserSession).count() == 1
        db.session.remove()


def test_two_different_recovery_codes_at_once_both_work(make_app):
    """The compare-and-set on the code list must not refuse a code another login left alone."""
    app = make_app()
    with app.app_context():
        user, _, codes = _two_factor_user()
        with serve(app) as base:
            browsers = _at_second_step(base, user.email, 2)

            def work(i):
                web, token = browsers[i]
                return web.post(
                    base + "/auth/login/2fa",
                    timeout=30,
                    allow_redirects=False,
                    data={"code": codes[i], "csrf_token": token},
                ).status_code

            statuses = _at_once(2, work)
        db.session.expire_all()
        assert statuses == [303, 303]
        assert len(db.session.get(User, user.id).recovery_code_hashes.split()) == len(codes) - 2
        db.session.remove()


# -- item 8 --------------------------------------------------------------------------------
def test_nineteen_concurrent_wrong_passwords_check_at_most_ten(make_app, figures):
    # A production-like hash time (tens of ms) is the window concurrent guesses slip through.
    app = make_app(ARGON2_TIME_COST=2, ARGON2_MEMORY_KIB=16384)
    with app.app_context():
        email = make_user("ann@example.com").email
        with serve(app) as base:
            browsers = [_browser(base) for _ in range(19)]

            def work(i):
                web, token = browsers[i]
                return web.post(
                    base + "/auth/login",
                    timeout=30,
                    allow_redirects=False,
                    data={
                        "email": email,
                        "password": f"wrong guess {i}",
                        "csrf_token": token,
                    },
                ).status_code

            statuses = _at_once(19, work)
        assert statuses.count(422) == 10 and statuses.count(429) == 9, statuses
        db.session.remove()
    figures("B8", f"19 concurrent wrong passwords, limit 10: {statuses.count(422)} checked")


def _redis_url() -> str:
    url = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {url}")
        pytest.skip("Redis is not running")
    return url


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_fourteen_concurrent_wrong_codes_check_at_most_ten(make_app, storage):
    """With Redis (production's shared storage) each check and count is a round trip: the
    window concurrent codes slipped through (11 of 14 in the security test)."""
    url = _redis_url() if storage == "redis" else "memory://"
    app = make_app(
        RATELIMIT_STORAGE_URI=url,
        RATELIMIT_KEY_PREFIX=uuid.uuid4().hex,
        LOGIN_IP_LIMIT="100000 per hour",
    )
    with app.app_context():
        user, _, _ = _two_factor_user(f"{uuid.uuid4().hex}@example.com")  # fresh keys
        with serve(app) as base:
            browsers = _at_second_step(base, user.email, 14)
            statuses = _submit_code(base, browsers, "000000")
        assert statuses.count(422) == 10 and statuses.count(429) == 4, statuses
        db.session.remove()


# -- item 10 -------------------------------------------------------------------------------
def test_a_stranger_locks_out_only_themselves(make_app):
    app = make_app(LOGIN_ACCOUNT_CEILING="15 per hour")
    client = app.test_client()
    with app.app_context():
        make_user("ann@example.com")
        for _ in range(10):
            assert _login(client, "ann@example.com", "a guess", "203.0.113.9").status_code == 422
        # Refused attempts go on: they must not fill the account's ceiling (15).
        for _ in range(20):
            assert _login(client, "ann@example.com", PASSWORD, "203.0.113.9").status_code == 429
        owner = app.test_client()
        assert _login(owner, "ann@example.com", PASSWORD, "198.51.100.7").status_code == 303


def test_the_account_ceiling_holds_against_many_sources(make_app):
    app = make_app(LOGIN_ACCOUNT_CEILING="5 per hour")
    client = app.test_client()
    with app.app_context():
        make_user("ann@example.com")
        for n in range(5):
            assert _login(client, "ann@example.com", "a guess", f"203.0.113.{n}").status_code == 422
        refused = _login(client, "ann@example.com", PASSWORD, "198.51.100.7")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_a_success_gives_its_attempt_back(make_app):
    app = make_app(LOGIN_IP_LIMIT="3 per hour")
    with app.app_context():
        make_user("ann@example.com")
        for _ in range(5):  # five sign-ins from one office address, all right
            assert _login(app.test_client(), "ann@example.com", PASSWORD).status_code == 303


# -- item 9 --------------------------------------------------------------------------------
def _signup(client, email, password=PASSWORD, ip="127.0.0.1"):
    return _post(
        client, "/auth/signup", {"email": email, "password": password, "confirm": password}, ip
    )


def _login_page(client) -> str:
    page = client.get("/auth/login").get_data(as_text=True)
    return ANY_CSRF.sub("", page).replace("taken@example.com", "X").replace("new@example.com", "X")


def test_signup_answers_a_taken_and_a_new_address_alike(make_app):
    app = make_app()
    with app.app_context():
        owner = make_user("taken@example.com")
        taken_client, new_client = app.test_client(), app.test_client()
        taken = _signup(taken_client, "Taken@Example.com", "another long password")
        new = _signup(new_client, "new@example.com", "another long password")
        assert (taken.status_code, taken.headers["Location"]) == (303, "/auth/login")
        assert (new.status_code, new.headers["Location"]) == (303, "/auth/login")
        assert taken.get_data() == new.get_data()
        assert _login_page(taken_client) == _login_page(new_client)
        assert taken_client.get("/w").status_code == new_client.get("/w").status_code == 302
        # The owner's account is unchanged, and the attempt is in its audit trail.
        assert accounts.authenticate("taken@example.com", PASSWORD) is not None
        assert accounts.authenticate("taken@example.com", "another long password") is None
        assert db.session.scalar(
            db.select(AuditEvent).where(
                AuditEvent.action == "account.signup_refused", AuditEvent.actor_id == owner.id
            )
        )


def test_signup_is_limited_per_source(make_app):
    app = make_app(SIGNUP_IP_LIMIT="3 per hour")
    client = app.test_client()
    with app.app_context():
        for n in range(3):
            assert _signup(client, f"probe{n}@example.com").status_code == 303
        refused = _signup(client, "probe9@example.com")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Too many attempts" in refused.get_data(as_text=True)
        assert _signup(client, "other@example.com", ip="198.51.100.7").status_code == 303
        assert accounts.find_user("probe9@example.com") is None


# -- item 11 -------------------------------------------------------------------------------
def test_short_and_common_passwords_are_refused_everywhere(make_app):
    app = make_app()
    client = app.test_client()
    with app.app_context():
        for weak, words in (
            ("12345678", "between 10 and 128"),
            ("password", "between 10"),
            ("Password123", "most common"),
            ("qwertyuiop", "most common"),
        ):
            refused = _signup(client, "weak@example.com", weak)
            assert refused.status_code == 422 and words in refused.get_data(as_text=True), weak
        assert accounts.find_user("weak@example.com") is None
        user = make_user()
        login(client, user)
        changed = client.post(
            "/account/password",
            data={"current": PASSWORD, "new": "iloveyou12", "confirm": "iloveyou12"},
        )
        assert changed.status_code == 422 and "most common" in changed.get_data(as_text=True)
        result = CliRunner(env={"PORTAL_PASSWORD": "1q2w3e4r5t"}).invoke(
            app.cli, ["users", "create", "cli@example.com"], obj=None
        )
        assert result.exit_code != 0 and "most common" in result.output
        assert accounts.find_user("cli@example.com") is None


# -- item 35, login part -------------------------------------------------------------------
def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when this returns: nothing listens


def test_logins_work_and_stay_throttled_while_redis_is_down(make_app):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    app = make_app(REDIS_URL=url, RATELIMIT_STORAGE_URI=url)
    client = app.test_client()
    with app.app_context():
        make_user("ann@example.com")
        assert _login(client, "ann@example.com", PASSWORD).status_code == 303
        for _ in range(10):
            assert _login(app.test_client(), "ann@example.com", "a guess").status_code == 422
        assert _login(app.test_client(), "ann@example.com", PASSWORD).status_code == 429


# -- item 18 -------------------------------------------------------------------------------
def test_the_seed_of_a_set_up_in_progress_stays_on_the_server(make_app):
    app = make_app()
    client = app.test_client()
    with app.app_context():
        user = make_user()
        login(client, user)
        page = client.get("/account/2fa").get_data(as_text=True)
        assert "totp-secret" not in page and "Start the set-up" in page
        assert db.session.get(User, user.id).pending_totp_enc is None  # a GET writes nothing
        assert client.post("/account/2fa", data={"start": "1"}).status_code == 303
        page = client.get("/account/2fa").get_data(as_text=True)
        secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
        decoded = app.session_interface.get_signing_serializer(app).loads(cookie)
        assert secret not in repr(decoded) and secret not in cookie
        stored = db.session.get(User, user.id).pending_totp_enc
        assert stored and secret not in stored and two_factor.pending_secret(user) == secret
        # The same set-up from another session of the user (it is the user's, not the cookie's).
        other = app.test_client()
        login(other, user)
        code = pyotp.TOTP(secret).now()
        enabled = other.post("/account/2fa", data={"code": code})
        assert enabled.status_code == 200 and "recovery codes" in enabled.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(User, user.id).pending_totp_enc is None


def test_a_redis_that_never_answers_costs_a_login_seconds_not_a_hung_thread(make_app):
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        app = make_app(REDIS_URL=url, RATELIMIT_STORAGE_URI=url)
        with app.app_context():
            make_user("ann@example.com")
            started = time.monotonic()
            assert _login(app.test_client(), "ann@example.com", PASSWORD).status_code == 303
            assert time.monotonic() - started < 15


def test_a_pending_seed_under_a_key_rotated_out_means_start_again(make_app):
    app = make_app()
    client = app.test_client()
    with app.app_context():
        user = make_user()
        login(client, user)
        other_ring = Keyring.from_config(generate_key())  # not among this server's keys
        user.pending_totp_enc = other_ring.encrypt("JBSWY3DPEHPK3PXP", -user.id)
        db.session.commit()
        page = client.get("/account/2fa")
        assert page.status_code == 200 and "Start the set-up" in page.get_data(as_text=True)
