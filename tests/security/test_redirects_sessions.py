"""T16 open redirects, T17 login throttling, T18 session lifecycle.

Extends tests/web/test_auth.py and test_account.py (which cover safe_next on its own, the
account and IP limits, logout of copied cookies, password change and 2FA disable) with
attack lists on every route that takes a target, and with what a browser would do with it.
"""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta
from http.cookies import SimpleCookie
from urllib.parse import quote, unquote, urlsplit

import pyotp
import pytest

from app.extensions import db
from app.models import User, UserSession
from app.models.types import utcnow
from app.permissions import Role
from app.services import two_factor
from tests.conftest import HX
from tests.factories import PASSWORD, login, make_user

# ?next= values an attacker links to (sent percent-encoded, so they arrive exactly like this).
OPEN_REDIRECTS = [
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "http://evil.example/",
    "https:evil.example",
    "http:/evil.example",
    "https:/\\evil.example",
    "//evil.example@localhost",
    "https://localhost@evil.example",
    "//localhost@evil.example/",
    "%2F%2Fevil.example",
    "%2F%5Cevil.example",
    "/%5Cevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "\t//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "\r\n//evil.example",
    " //evil.example",
    "\x00//evil.example",
    "/\u3000/evil.example",
    "\uff0f\uff0fevil.example",
    "/\uff0fevil.example",
    "\u2215\u2215evil.example",
    "//evil.example%2F..",
    "/..//evil.example",
    "/./\\evil.example",
    "///\\;@evil.example",
    "//evil.example:443/",
    "http://localhost.evil.example/",
]
SPECIAL = ("http", "https", "ftp", "ws", "wss", "file")
VALID = ["/w", "/account/", "/w?page=2", "/account/?a=1&b=2", "/w/1/groups"]


def browser_target(location: str, base_scheme: str = "http") -> tuple[str, str]:
    """(scheme, host) a browser on http(s)://localhost/auth/login would go to for a Location.

    After the WHATWG URL standard: strip leading C0 controls and spaces, drop tabs and
    newlines, read backslashes as slashes; `https:host` from an http page (another special
    scheme) and `//host` (any number of slashes) both name a host.
    """
    cleaned = location.lstrip("".join(chr(c) for c in range(0x21)))
    cleaned = "".join(ch for ch in cleaned if ch not in "\t\n\r").replace("\\", "/")
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", cleaned)
    if scheme:
        name = scheme.group(1).lower()
        if name not in SPECIAL:
            return name, ""  # javascript:, data: ... never a page of this site
        cleaned = cleaned[scheme.end() :]
        if name != base_scheme:
            return name, _host(cleaned.lstrip("/"))
    if cleaned.startswith("//"):
        return base_scheme, _host(cleaned.lstrip("/"))
    return base_scheme, "localhost"


def _host(authority: str) -> str:
    host = re.split(r"[/?#]", authority, maxsplit=1)[0].rsplit("@", 1)[-1]
    return host.split(":", 1)[0].lower()


def _on_site(location: str) -> bool:
    return all(
        browser_target(location, scheme) == (scheme, "localhost") for scheme in ("http", "https")
    )


def _where(response) -> str:
    return response.headers.get("Location") or response.headers.get("HX-Redirect") or ""


def _client(app, n: int):
    """A client from its own address: the per-IP limits never mix the cases."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.9.{n // 250}.{n % 250 + 1}"
    return client


def _post_login(client, email, password=PASSWORD, target=None, **kwargs):
    query = f"?next={quote(target, safe='')}" if target is not None else ""
    return client.post("/auth/login" + query, data={"email": email, "password": password}, **kwargs)


def test_no_route_that_takes_a_target_redirects_off_site(app, figures):
    cases = OPEN_REDIRECTS + VALID
    user = make_user("ann@example.com")
    totp_users = []
    for n in range(len(cases)):
        person = make_user(f"totp{n}@example.com")
        secret = two_factor.new_secret()
        assert two_factor.enable(person, secret, pyotp.TOTP(secret).now())
        person.totp_last_counter = 0  # the same code works again at login
        totp_users.append((person, secret))
    db.session.commit()
    offsite, changed, checked = [], [], 0
    for n, target in enumerate(cases):
        answers = {}
        # Log in with a password, as a page and as htmx.
        answers["login"] = _post_login(_client(app, n), user.email, target=target)
        answers["login htmx"] = _post_login(
            _client(app, 100 + n), user.email, target=target, headers=HX
        )
        # Sign up.
        signup = _client(app, 200 + n)
        answers["signup"] = signup.post(
            f"/auth/signup?next={quote(target, safe='')}",
            data={"email": f"new{n}@example.com", "password": PASSWORD, "confirm": PASSWORD},
        )
        # Password, then the second factor: both steps carry the target.
        person, secret = totp_users[n]
        two = _client(app, 300 + n)
        first = _post_login(two, person.email, target=target)
        assert first.status_code == 303 and "/auth/login/2fa" in first.headers["Location"]
        answers["2fa step 1"] = first
        answers["2fa"] = two.post(
            first.headers["Location"], data={"code": pyotp.TOTP(secret).now()}
        )
        # Logged out: the way back through the login page, for a page and for htmx.
        anon = _client(app, 400 + n)
        answers["htmx 401"] = anon.get(
            "/w", headers={**HX, "HX-Current-URL": "http://localhost" + quote(target)}
        )
        answers["login link"] = anon.get("/account/?x=" + quote(target, safe=""))
        for name, response in answers.items():
            checked += 1
            location = _where(response)
            assert response.status_code in (302, 303, 200, 401), (name, target, response.status)
            assert location, (name, target)
            if not _on_site(location):
                offsite.append((name, target, location))
            if name == "2fa step 1":
                continue  # carries the raw target on to the 2FA step, checked below it
            if name in ("htmx 401", "login link", "signup"):
                # The login link's own ?next= must be one the login then follows on site
                # (sign-up leads to the login page, issue 12 item 9, keeping a valid target).
                inner = dict(
                    p.split("=", 1) for p in urlsplit(location).query.split("&") if "=" in p
                ).get("next")
                if inner is not None and not _on_site(unquote(inner)):
                    offsite.append((name + " next", target, location))
                if name == "signup" and target in VALID and unquote(inner or "") != target:
                    changed.append((name, target, location))
            elif target in VALID and location != target:
                changed.append((name, target, location))
    assert not offsite, offsite[:10]
    assert not changed, f"valid targets must be kept: {changed}"
    figures(
        "T16",
        f"{len(OPEN_REDIRECTS)} open-redirect payloads + {len(VALID)} valid paths × "
        f"7 answers (login, htmx login, signup, 2FA both steps, htmx 401, login "
        f"link) = {checked} checked, 0 off-site, valid kept {len(VALID)}/{len(VALID)}",
    )


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "\t//evil.example",
        "////u@evil.example:8/x",
    ],
)
def test_the_checker_sees_an_escape_where_a_browser_would(target):
    assert not _on_site(target)
    assert _on_site("/w/1") and _on_site("/%2F%2Fevil.example") and _on_site("w/1")


# -- T17 throttling ---------------------------------------------------------------------------
def test_account_lock_answers_unknown_and_known_accounts_alike_with_retry_after(app, figures):
    make_user("known@example.com")
    answers = {}
    for n, email in enumerate(("known@example.com", "unknown@example.com")):
        client = _client(app, 500 + n)
        statuses = [_post_login(client, email, "wrong password!").status_code for _ in range(10)]
        assert statuses == [422] * 10
        # Soft lock: even the right password waits, from this address (issue 12 item 10:
        # not from the owner's other addresses, see below).
        locked = _post_login(_client(app, 500 + n), email)
        answers[email] = locked
        assert locked.status_code == 429
        wait = int(locked.headers["Retry-After"])
        assert 60 <= wait <= 15 * 60, wait
    known, unknown = (answers[e].get_data(as_text=True) for e in answers)
    strip = lambda body: body.split("<main", 1)[-1].split("</main>")[0]  # noqa: E731
    norm = lambda body: re.sub(r'(value|content)="[^"]*"|rid[^<]*|[0-9a-f]{16}', "", strip(body))  # noqa: E731
    assert norm(known) == norm(unknown)
    # The owner, from another address, still logs in; so does another account from this one.
    assert _post_login(_client(app, 900), "known@example.com").status_code == 303
    make_user("other@example.com")
    assert _post_login(_client(app, 500), "other@example.com").status_code == 303
    figures(
        "T17",
        "account lock after 10 failures (known and unknown alike, same body, "
        f"Retry-After {int(answers['known@example.com'].headers['Retry-After'])} s)",
    )


def test_spelling_the_address_differently_does_not_reset_the_account_lock(app):
    make_user("ann@example.com")
    variants = [
        "ann@example.com",
        "ANN@example.com",
        " ann@example.com",
        "ann@example.com ",
        "\tann@example.com",
        "  Ann@Example.com",
        "ann@EXAMPLE.com  ",
        "\nann@example.com",
        "   ann@example.com",
        "ann@example.com\t",
    ]
    for email in variants:  # from one address: one account, one counter
        assert _post_login(_client(app, 600), email, "wrong password!").status_code == 422
    for email in (" ann@example.com  ", "ANN@EXAMPLE.COM"):
        assert _post_login(_client(app, 600), email).status_code == 429, email


def test_spelling_the_address_differently_does_not_escape_the_account_ceiling(make_app):
    app = make_app(LOGIN_ACCOUNT_CEILING="10 per hour")
    with app.app_context():
        make_user("ann@example.com")
        variants = ["ann@example.com", "ANN@example.com", " ann@example.com", "Ann@Example.com "]
        for n in range(10):  # from ten addresses: the account's ceiling counts them all
            email = variants[n % len(variants)]
            assert _post_login(_client(app, 600 + n), email, "wrong password!").status_code == 422
        for email in (" ann@example.com  ", "ANN@EXAMPLE.COM"):
            assert _post_login(_client(app, 700), email).status_code == 429, email


def test_second_factor_codes_are_throttled_with_the_account(app):
    user = make_user("totp@example.com")
    secret = two_factor.new_secret()
    assert two_factor.enable(user, secret, pyotp.TOTP(secret).now())
    user.totp_last_counter = 0
    db.session.commit()
    client = _client(app, 800)
    assert _post_login(client, user.email).status_code == 303
    for _ in range(10):
        assert client.post("/auth/login/2fa", data={"code": "000000"}).status_code == 422
    blocked = client.post("/auth/login/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 60
    # Codes are counted for the account from anywhere (only the password's holder gets
    # there): the password step from elsewhere leads to a code step that waits as well.
    elsewhere = _client(app, 801)
    assert _post_login(elsewhere, user.email).status_code == 303
    code = pyotp.TOTP(secret).now()
    assert elsewhere.post("/auth/login/2fa", data={"code": code}).status_code == 429


def test_ip_limit_trips_with_retry_after_and_other_addresses_go_on(make_app):
    app = make_app(LOGIN_IP_LIMIT="20 per hour")
    with app.app_context():
        make_user("ann@example.com")
        client = _client(app, 7)
        for n in range(20):
            assert _post_login(client, f"u{n}@example.com", "wrong password!").status_code == 422
        blocked = _post_login(client, "ann@example.com")
        assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
        assert _post_login(_client(app, 8), "ann@example.com").status_code == 303


def test_the_route_limit_answers_429_with_retry_after(app):
    client = _client(app, 11)
    statuses = [_post_login(client, "x@example.com", "").status_code for _ in range(30)]
    assert statuses == [422] * 30  # an empty password is a form error: no account failure
    last = _post_login(client, "x@example.com", "")
    assert last.status_code == 429
    assert 0 < int(last.headers["Retry-After"]) <= 60


def test_unknown_user_and_wrong_password_take_about_the_same_time(make_app):
    # Moderate hash cost, so the hash (not the request overhead) dominates each answer.
    app = make_app(
        ARGON2_MEMORY_KIB=16384,
        ARGON2_TIME_COST=2,
        LOGIN_IP_LIMIT="1000 per hour",
        LOGIN_ACCOUNT_LIMIT="1000 per hour",
    )
    with app.app_context():
        make_user("ann@example.com")
        client = _client(app, 12)
        samples = {"known": [], "unknown": []}
        for n in range(16):
            for kind, email in (("known", "ann@example.com"), ("unknown", f"no{n}@example.com")):
                started = time.perf_counter()
                _post_login(client, email, "wrong password!")
                samples[kind].append(time.perf_counter() - started)
        ratio = statistics.median(samples["unknown"]) / statistics.median(samples["known"])
        # Without the dummy hash an unknown e-mail answers ~10× faster; a loaded CI box jitters.
        assert 0.6 < ratio < 1.6, ratio


# -- T18 sessions -------------------------------------------------------------------------------
def _session_cookie(response) -> str | None:
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        if "portal_session" in cookie or "__Host-portal_session" in cookie:
            return header
    return None


def test_login_starts_a_new_session_and_drops_what_was_planted(client, app):
    user = make_user("ann@example.com")
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user.id}:attacker-chosen-token"
        sess["planted"] = "by an attacker"
        sess["workspace_id"] = 999
    assert client.get("/w").status_code == 302  # an unknown session token is no session
    before = client.get_cookie("portal_session").value
    response = _post_login(client, "ann@example.com")
    assert response.status_code == 303
    after = client.get_cookie("portal_session").value
    assert after != before
    with client.session_transaction() as sess:
        assert "planted" not in sess and "workspace_id" not in sess
        token = sess["_user_id"].split(":", 1)[1]
    assert token != "attacker-chosen-token" and len(token) >= 40
    rows = db.session.scalars(db.select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(rows) == 1
    # Logging in again on the same browser gets yet another session id.
    again = _post_login(client, "ann@example.com")
    assert again.status_code == 303
    with client.session_transaction() as sess:
        assert sess["_user_id"].split(":", 1)[1] != token


def test_copied_cookie_dies_at_logout_and_other_sessions_at_password_and_2fa_changes(app):
    user = make_user("ann@example.com")
    secret = None
    for how in ("logout", "password", "2fa on", "2fa off"):
        mine, copy, other = app.test_client(), app.test_client(), app.test_client()
        login(mine, user)
        login(other, user)
        with mine.session_transaction() as sess:
            stolen = dict(sess)
        with copy.session_transaction() as sess:
            sess.update(stolen)  # the same cookie, copied to another browser
        assert copy.get("/w").status_code == 200
        if how == "logout":
            assert mine.post("/auth/logout").status_code == 303
        elif how == "password":
            new = "another password for a while"
            response = mine.post(
                "/account/password", data={"current": PASSWORD, "new": new, "confirm": new}
            )
            assert response.status_code == 303, response.get_data(as_text=True)[:300]
            db.session.get(User, user.id).password_hash = make_user().password_hash
            db.session.commit()  # back to PASSWORD for the next round (same hasher)
        elif how == "2fa on":
            assert mine.post("/account/2fa", data={"start": "1"}).status_code == 303
            secret = two_factor.pending_secret(db.session.get(User, user.id))
            response = mine.post("/account/2fa", data={"code": pyotp.TOTP(secret).now()})
            assert response.status_code == 200 and "sessions have been ended" in response.text
        else:
            db.session.get(User, user.id).totp_last_counter = 0  # the same step once more
            db.session.commit()
            response = mine.post(
                "/account/2fa/disable",
                data={"password": PASSWORD, "code": pyotp.TOTP(secret).now()},
            )
            assert response.status_code == 303, response.get_data(as_text=True)[:300]
        keeps = how != "logout"
        assert (mine.get("/w").status_code == 200) is keeps, how
        assert other.get("/w").status_code == 302, how
        if how == "logout":
            assert copy.get("/w").status_code == 302, how


def _age(user, *, idle: int = 0, age: int = 0) -> None:
    """Move the user's sessions back in time (as if the clock had moved on)."""
    for row in db.session.scalars(db.select(UserSession).where(UserSession.user_id == user.id)):
        row.last_seen_at = utcnow() - timedelta(seconds=idle)
        row.created_at = utcnow() - timedelta(seconds=max(age, idle))
    db.session.commit()


def test_idle_and_absolute_timeouts(make_app, figures):
    app = make_app(SESSION_IDLE_SECONDS=300, SESSION_ABSOLUTE_SECONDS=3600)
    with app.app_context():
        user = make_user()
        client = app.test_client()
        login(client, user)
        _age(user, idle=250)
        assert client.get("/w").status_code == 200  # active within the idle limit
        row = db.session.scalar(db.select(UserSession).where(UserSession.user_id == user.id))
        assert (utcnow() - row.last_seen_at).total_seconds() < 60, "activity was recorded"
        _age(user, idle=250, age=3000)
        assert client.get("/w").status_code == 200
        _age(user, idle=310)
        assert client.get("/w").status_code == 302, "idle too long"
        assert db.session.scalar(db.select(db.func.count()).select_from(UserSession)) == 0
        login(client, user)
        _age(user, idle=10, age=3610)
        assert client.get("/w").status_code == 302, "older than the absolute limit"
        login(client, user)
        htmx = client.get("/w", headers=HX)
        assert htmx.status_code == 200
        _age(user, idle=310)
        expired = client.get("/w", headers=HX)
        assert expired.status_code == 401 and "/auth/login" in expired.headers["HX-Redirect"]
    figures(
        "T18",
        "idle 300 s / absolute 3600 s (config): active at 250 s idle, out at 310 s "
        "idle and at 3610 s age; polls are not activity; copied cookie dead after "
        "logout; other sessions ended by password change, 2FA on and 2FA off; new "
        "session id at every login",
    )


def test_polling_does_not_keep_an_idle_session_alive(make_app, sim):
    app = make_app(SESSION_IDLE_SECONDS=300)
    with app.app_context():
        from app.models import Job
        from tests.security.test_isolation import _workspace

        token = "75|polling-token-Hh4R"
        sim.control.create_account(token=token, balance=10)
        ws, users, ids = _workspace(
            sim,
            token,
            "Polled",
            "polled.example",
            "G",
            {"phone": "12025550180", "first_name": "P"},
            "P",
            "P",
        )
        db.session.get(Job, ids["job_id"]).state = "running"
        db.session.commit()
        user = users[Role.OWNER]
        client = app.test_client()
        login(client, user)
        page = client.get(f"/w/{ws.id}/jobs/{ids['job_id']}").get_data(as_text=True)
        poll = re.search(r'id="job-status"[^>]*hx-get="([^"]+)" hx-trigger="every', page)
        assert poll, "the running job's status polls"
        poll_url = poll.group(1).replace("&amp;", "&")
        _age(user, idle=250)
        assert client.get(poll_url, headers=HX).status_code == 200
        row = db.session.scalar(db.select(UserSession).where(UserSession.user_id == user.id))
        assert (utcnow() - row.last_seen_at).total_seconds() > 240, "a poll is not activity"
        _age(user, idle=310)
        expired = client.get(poll_url, headers=HX)
        assert expired.status_code == 401 and "/auth/login" in expired.headers["HX-Redirect"]
        # A click (the same URL without the timer's mark) is activity.
        login(client, user)
        _age(user, idle=250)
        assert client.get(poll_url.split("?")[0], headers=HX).status_code == 200
        row = db.session.scalar(db.select(UserSession).where(UserSession.user_id == user.id))
        assert (utcnow() - row.last_seen_at).total_seconds() < 60


def test_cookie_flags(make_app, monkeypatch):
    plain = make_app()
    monkeypatch.setenv("PORTAL_SECURE_COOKIES", "1")
    secure = make_app()
    assert secure.config["SESSION_COOKIE_NAME"] == "__Host-portal_session"
    for n, (app, https, expect_secure) in enumerate(
        ((plain, False, False), (plain, True, True), (secure, True, True))
    ):
        with app.app_context():
            make_user(f"c{n}@example.com")
            client = app.test_client()
            base = "https://localhost" if https else "http://localhost"
            response = client.post(
                base + "/auth/login",
                headers={"Referer": base + "/auth/login"},
                data={
                    "email": f"c{n}@example.com",
                    "password": PASSWORD,
                    "csrf_token": _csrf(client, base),
                },
            )
            assert response.status_code == 303, response.get_data(as_text=True)[:300]
            header = _session_cookie(response)
            assert header, response.headers
            flags = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
            assert "httponly" in flags
            assert "samesite=lax" in header.lower()
            assert ("secure" in flags) is expect_secure, (https, header)
            assert "remember_token" not in str(response.headers)
            assert "expires" not in flags and "max-age" not in flags, "a browser-session cookie"
            if header.startswith("__Host-"):  # the prefix's rules: Secure, Path=/, no Domain
                assert "secure" in flags and "path=/" in header.lower()
                assert "domain" not in flags


def _csrf(client, base: str) -> str:
    page = client.get(base + "/auth/login", headers={"Referer": base + "/"})
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(True))
    assert match
    return match.group(1)
