"""Reference §3.2: framework errors, HTTP 200 JSON with verbatim texts, HTML without JSON Accept."""

from __future__ import annotations

import pytest
import requests

from .conftest import error_of


def test_v3_without_or_with_bad_token(sim, api):
    url = api.url("me")
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = requests.get(url, headers={"Accept": "application/json", **headers}, timeout=5)
        assert error_of(response) == (200, "Unauthenticated.")
        assert "X-RateLimit-Limit" not in response.headers


def test_v3_ignores_api_token_parameter(sim, api, token):
    response = requests.get(
        api.url("me"),
        params={"api_token": token},
        headers={"Accept": "application/json"},
        timeout=5,
    )
    assert error_of(response) == (200, "Unauthenticated.")


def test_html_pages_without_json_accept(sim, api, token, control):
    base = api.url("")
    unauth = requests.get(base + "me", timeout=5)
    assert unauth.status_code == 401 and unauth.headers["Content-Type"].startswith("text/html")
    assert requests.get(base + "nothing", timeout=5).status_code == 404
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(base + "contacts/abc/show", headers=bearer, timeout=5).status_code == 404
    assert requests.get(base + "sms/0123456789abc", headers=bearer, timeout=5).status_code == 500
    # Errors raised inside controllers are JSON whatever the Accept header said.
    inside = requests.post(base + "contacts", headers=bearer, json={}, timeout=5)
    assert error_of(inside) == (200, "The name field is required.")


def test_route_not_found(api):
    assert error_of(api.get("foo")) == (200, "The route api/v3/foo could not be found.")
    assert "api\\/v3\\/foo" in api.get("foo").text


@pytest.mark.parametrize(
    ("method", "path", "supported"),
    [
        ("GET", "contacts/abc/show", "POST"),
        ("GET", "contacts/abc", "PUT, PATCH, DELETE"),
        ("PUT", "contacts", "GET, HEAD, POST"),
        ("GET", "contacts/abc/update/def", "PATCH"),
        ("POST", "sms", "GET, HEAD"),
        ("POST", "me", "GET, HEAD"),
    ],
)
def test_method_not_allowed(api, method, path, supported):
    response = api.call(method, path)
    assert error_of(response) == (
        200,
        f"The {method} method is not supported for route api/v3/{path}. "
        f"Supported methods: {supported}.",
    )


def test_get_sms_send_on_v3_binds_a_report(api):
    assert error_of(api.get("sms/send")) == (
        200,
        "No query results for model [App\\Models\\Reports] send",
    )


@pytest.mark.parametrize(
    ("method", "path", "model"),
    [
        ("POST", "contacts/6065ecdc9184a/show", "ContactGroups"),
        ("PATCH", "contacts/6065ecdc9184a", "ContactGroups"),
        ("DELETE", "contacts/6065ecdc9184a", "ContactGroups"),
        ("POST", "contacts/6065ecdc9184a/all", "ContactGroups"),
        ("GET", "sms/6065ecdc9184a", "Reports"),
    ],
)
def test_model_not_found(api, method, path, model):
    response = api.call(method, path)
    assert error_of(response) == (
        200,
        f"No query results for model [App\\Models\\{model}] 6065ecdc9184a",
    )
    assert "X-RateLimit-Limit" not in response.headers


def test_unknown_contact_uid(api, control, token):
    group = control.seed_group(token, "G")["uid"]
    response = api.post(f"contacts/{group}/search/0000000000000")
    assert error_of(response) == (
        200,
        "No query results for model [App\\Models\\Contacts] 0000000000000",
    )


def test_trailing_slash_redirects(api):
    response = api.get("contacts/")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/api/v3/contacts")


def test_validation_summary_on_v3(api):
    assert error_of(api.post("sms/send", {})) == (
        200,
        "The recipient field is required. (and 1 more error)",
    )
    assert error_of(api.post("sms/send", {"recipient": "  ", "message": "x"})) == (
        200,
        "The recipient field is required.",
    )


def test_http_family_credentials(sim, token):
    url = sim.api_url("http")
    headers = {"Accept": "application/json"}
    missing = requests.get(f"{url}/me", headers=headers, timeout=5)
    assert error_of(missing) == (200, "These credentials do not match our records.")
    bad = requests.get(f"{url}/me", params={"api_token": "x"}, headers=headers, timeout=5)
    assert error_of(bad) == (200, "These credentials do not match our records.")
    bearer = requests.get(
        f"{url}/me", headers={**headers, "Authorization": f"Bearer {token}"}, timeout=5
    )
    assert error_of(bearer) == (200, "These credentials do not match our records.")
    in_body = requests.post(
        f"{url}/contacts", json={"api_token": token, "name": "G"}, headers=headers, timeout=5
    )
    assert in_body.json()["status"] == "success"
    # Form bodies are invisible after json.response forces the content type.
    form = requests.post(
        f"{url}/contacts", data={"api_token": token, "name": "H"}, headers=headers, timeout=5
    )
    assert error_of(form) == (200, "These credentials do not match our records.")


def test_http_accepts_bearer_flag(sim, control, token):
    control.configure(http_accepts_bearer=True)
    headers = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
    response = requests.get(sim.api_url("http") + "/me", headers=headers, timeout=5)
    assert response.json()["status"] == "success"


def test_http_send_validation_first_message_only(sim, token):
    url = sim.api_url("http") + "/sms/send"
    headers = {"Accept": "application/json"}
    assert error_of(requests.post(url, json={}, headers=headers, timeout=5)) == (
        200,
        "The recipient field is required.",
    )
    no_token = requests.post(
        url, json={"recipient": "1", "message": "m"}, headers=headers, timeout=5
    )
    assert error_of(no_token) == (200, "The api token field is required.")
    # The http family registers sms/send for every method: GET with a query string works.
    get = requests.get(
        url,
        params={"api_token": token, "recipient": "12025550775", "message": "hi"},
        headers=headers,
        timeout=5,
    )
    assert get.json()["message"] == "Your message was successfully delivered"


def test_missing_token_quirk(sim, control, token):
    control.configure(quirks={"quirk_missing_token_matches_null_user": True})
    response = requests.get(
        sim.api_url("http") + "/me", headers={"Accept": "application/json"}, timeout=5
    )
    assert response.json()["data"]["api_token"] == token


def test_json_encoding_escapes_like_laravel(api, control, token):
    control.seed_group(token, "Café/Bar")
    text = api.get("contacts").text
    assert "Caf\\u00e9\\/Bar" in text
    assert api.get("contacts").headers["Content-Type"] == "application/json"
