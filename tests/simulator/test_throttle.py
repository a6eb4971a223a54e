"""Reference §4: fixed window per user (v3) / per IP (http), separate buckets, headers."""

from __future__ import annotations

import time

import requests

from .conftest import Api, error_of


def test_headers_count_down_and_then_too_many_attempts(api, control):
    control.configure(rate_limit=3)
    answers = [api.get("me") for _ in range(3)]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0"]
    assert {r.headers["X-RateLimit-Limit"] for r in answers} == {"3"}
    blocked = api.get("balance")
    assert error_of(blocked) == (200, "Too Many Attempts.")
    assert "X-RateLimit-Limit" not in blocked.headers
    assert "Retry-After" not in blocked.headers


def test_default_limit_is_sixty(api):
    response = api.get("me")
    assert response.headers["X-RateLimit-Limit"] == "60"
    assert response.headers["X-RateLimit-Remaining"] == "59"


def test_without_json_accept_throttling_is_a_404_page(api, control, token):
    control.configure(rate_limit=1)
    api.get("me")
    page = requests.get(api.url("me"), headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert page.status_code == 404 and "text/html" in page.headers["Content-Type"]


def test_window_resets_and_rejections_are_not_counted(api, control):
    control.configure(rate_limit=2, rate_window_s=0.4)
    started = time.monotonic()
    assert api.get("me").headers["X-RateLimit-Remaining"] == "1"
    assert api.get("me").headers["X-RateLimit-Remaining"] == "0"
    for _ in range(3):
        assert api.get("me").json()["message"] == "Too Many Attempts."
    time.sleep(max(0.0, 0.45 - (time.monotonic() - started)))
    assert api.get("me").headers["X-RateLimit-Remaining"] == "1"


def test_controller_errors_carry_headers_and_count(api, control):
    control.configure(rate_limit=5)
    response = api.post("contacts", {})
    assert error_of(response) == (200, "The name field is required.")
    assert response.headers["X-RateLimit-Remaining"] == "4"
    assert api.get("me").headers["X-RateLimit-Remaining"] == "3"


def test_failures_before_the_limiter_are_not_counted(sim, api, control):
    control.configure(rate_limit=5)
    anonymous = Api(sim, "wrong-token")
    for _ in range(3):
        assert anonymous.get("me").json()["message"] == "Unauthenticated."
    api.get("nowhere")
    api.get("contacts/abc")  # method not allowed
    api.post("contacts/abcdef/show")  # unknown uid
    assert api.get("me").headers["X-RateLimit-Remaining"] == "4"


def test_per_user_and_per_family_buckets(sim, api, http_api, control):
    control.configure(rate_limit=2)
    other = Api(sim, control.create_account(token="other"))
    api.get("me")
    api.get("me")
    assert api.get("me").json()["message"] == "Too Many Attempts."
    assert other.get("me").headers["X-RateLimit-Remaining"] == "1"
    assert http_api.get("me").headers["X-RateLimit-Remaining"] == "1"


def test_http_family_is_per_ip_and_counts_bad_credentials(sim, http_api, control):
    control.configure(rate_limit=3)
    stranger = Api(sim, "unknown", family="http")
    response = stranger.get("me")
    assert error_of(response) == (200, "These credentials do not match our records.")
    assert response.headers["X-RateLimit-Remaining"] == "2"
    assert http_api.get("me").headers["X-RateLimit-Remaining"] == "1"
