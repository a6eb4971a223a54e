"""The gateway URL policy in the portal (issue 12, items 3 and 4): the settings form refuses a
URL with the reason in the member's words, `client_for` refuses a stored URL that no longer
passes, and a name that resolves into the portal's network reaches nothing."""

from __future__ import annotations

import socket

import pytest

from app.forms.workspaces import SettingsForm
from tests.factories import login, make_user, make_workspace

STRICT = {"GOTONE_ALLOW_HTTP": False, "GOTONE_ALLOW_PRIVATE": False}  # production's defaults
NAME = "gateway.example"


def _form_errors(app, url: str) -> list[str]:
    data = {"base_url": url, "family": "v3", "timezone": "UTC", "default_country": "US"}
    app.config["WTF_CSRF_ENABLED"] = False
    with app.test_request_context("/", method="POST", data=data):
        form = SettingsForm()
        form.validate()
        return form.base_url.errors


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://gw.example.com/api/v3", "only connects to gateways over https://"),
        ("https://2130706433/api/v3", "four decimal numbers"),
        ("https://0x7f000001/api/v3", "four decimal numbers"),
        ("https://0177.0.0.1/api/v3", "four decimal numbers"),
        ("https://localhost/api/v3", "private or local network"),
        ("https://[::1]/api/v3", "private or local network"),
        ("https://127.0.0.1:8443/api/v3", "private or local network"),
        ("https://169.254.169.254/api/v3", "private or local network"),
        ("https://admin:pw@gw.example.com/api/v3", "user name or password"),
        ("https://gw.example.com/api/v3?x=1", "query string"),
        ("ftp://gw.example.com/api/v3", "starts with https://"),
    ],
)
def test_settings_form_refuses_with_the_reason(make_app, url, words):
    app = make_app(**STRICT)
    with app.app_context():
        errors = _form_errors(app, url)
    assert len(errors) == 1 and words in errors[0], errors


# Item 4: each of these passed the old string-prefix check of this allow-list.
@pytest.mark.parametrize(
    "url, words",
    [
        ("http://127.0.0.1:7402@127.0.0.1:7420/api/http", "user name or password"),
        ("http://127.0.0.1:74020/api/v3", "plain host name and port"),  # a longer port
        ("http://127.0.0.1.evil.example:7402/api/v3", "not allowed on this server"),
        ("http://127.0.0.10:7402/api/v3", "not allowed on this server"),  # a longer host
        ("https://127.0.0.1:7402/api/v3", "not allowed on this server"),
    ],
)
def test_allow_list_spellings_that_passed_the_prefix_check(make_app, url, words):
    app = make_app(GOTONE_ALLOWED_URLS=["http://127.0.0.1:7402"])
    with app.app_context():
        errors = _form_errors(app, url)
        assert _form_errors(app, "http://127.0.0.1:7402/api/v3/") == []
    assert len(errors) == 1 and words in errors[0], errors


def test_form_stores_the_canonical_url(make_app):
    app = make_app(GOTONE_ALLOWED_URLS=["https://.gotone.example"])
    data = {
        "base_url": " HTTPS://EU.Gotone.Example./api/v3/ ",
        "family": "v3",
        "timezone": "UTC",
        "default_country": "US",
    }
    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context(), app.test_request_context("/", method="POST", data=data):
        form = SettingsForm()
        assert form.validate(), form.errors
        assert form.base_url.data == "https://eu.gotone.example/api/v3"


def test_refusal_is_translated(make_app):
    app = make_app(**STRICT)
    with app.app_context(), app.test_request_context("/", headers={"Accept-Language": "zh"}):
        from flask_babel import refresh

        from app.gotone.url_policy import PRIVATE, UrlRefusedError
        from app.services.gateway_urls import refusal_message

        refresh()
        text = refusal_message(UrlRefusedError(PRIVATE, "x"))
    assert "私有或本地网络" in text


def test_stored_url_that_no_longer_passes_is_refused_before_any_call(make_app, sim, gateway_token):
    app = make_app(**STRICT)  # saved while http and 127.0.0.1 were allowed
    client = app.test_client()
    with app.app_context():
        owner = make_user()
        ws = make_workspace(owner, base_url=sim.api_url("v3"), token=gateway_token)
        login(client, owner)
        response = client.get(f"/w/{ws.id}/groups")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "gateway URL cannot be used" in body and "https://" in body
    assert sim.control.requests() == []


def test_name_resolving_into_the_portals_network_reaches_nothing(
    make_app, sim, gateway_token, monkeypatch
):
    """DNS rebinding: the name passes the policy, the address it leads to does not."""
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *a, **k: real("127.0.0.1" if host == NAME else host, *a, **k),
    )
    app = make_app(
        GOTONE_ALLOWED_URLS=[f"http://{NAME}:{sim.port}"],
        GOTONE_ALLOW_HTTP=True,
        GOTONE_ALLOW_PRIVATE=False,
    )
    client = app.test_client()
    with app.app_context():
        owner = make_user()
        url = sim.api_url("v3").replace("127.0.0.1", NAME)
        ws = make_workspace(owner, base_url=url, token=gateway_token)
        login(client, owner)
        groups = client.get(f"/w/{ws.id}/groups")
        tested = client.post(f"/w/{ws.id}/settings/test")
    assert groups.status_code == 502 and tested.status_code == 200  # a result, not a 500
    assert "127.0.0.1, a loopback, private or reserved address" in groups.get_data(as_text=True)
    assert sim.control.requests() == []
