"""Gateway settings: write-only token, test connection against the simulator, audit rows."""

from __future__ import annotations

from app.models import AuditEvent, GoToneSettings
from app.permissions import Role
from tests.conftest import HX
from tests.factories import PASSWORD, add_member, login, make_user, make_workspace


def _settings_url(ws):
    return f"/w/{ws.id}/settings"


def test_token_is_write_only_and_shown_as_last_four(client, db, sim):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("v3"))
    login(client, owner)
    token = "77|abcdefghijklmnop-WXYZ"
    response = client.post(f"/w/{ws.id}/settings/token", data={"token": token})
    assert response.status_code == 303
    page = client.get(_settings_url(ws)).get_data(as_text=True)
    assert token not in page and "abcdefghijklmnop" not in page
    assert "…WXYZ" in page
    assert 'name="token" type="password" value' not in page
    row = db.session.get(GoToneSettings, ws.id)
    assert row.token_enc.startswith("v1:") and token not in row.token_enc


def test_editing_other_settings_never_touches_the_token(client, db, sim):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("v3"), token="11|keep-me-1234")
    before = db.session.get(GoToneSettings, ws.id).token_enc
    login(client, owner)
    response = client.post(
        _settings_url(ws),
        headers=HX,
        data={
            # The same gateway: no password asked (tests/web/test_gateway_move.py moves it).
            "base_url": sim.api_url("v3"),
            "family": "v3",
            "timezone": "Asia/Shanghai",
            "default_country": "cn",
            "token": "ignored-field-value",
        },
    )
    assert response.status_code == 200
    assert 'id="settings-form"' in response.get_data(as_text=True)
    assert 'hx-swap-oob="true"' in response.get_data(as_text=True)
    row = db.session.get(GoToneSettings, ws.id)
    assert row.token_enc == before
    assert (row.family, row.timezone, row.default_country) == ("v3", "Asia/Shanghai", "CN")


def test_invalid_settings_rerender_the_form_with_422(client, sim):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("v3"))
    login(client, owner)
    response = client.post(
        _settings_url(ws),
        headers=HX,
        data={
            "base_url": "ftp://x",
            "family": "v3",
            "timezone": "Mars/Base",
            "default_country": "ZZ",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and body.count('class="field-error"') == 3


def test_gateway_url_allowlist_is_enforced(make_app, sim):
    app = make_app(GOTONE_ALLOWED_URLS=["https://app.gotonesms.net/"])
    client = app.test_client()
    with app.app_context():
        owner = make_user()
        ws = make_workspace(owner)
        login(client, owner)
        response = client.post(
            _settings_url(ws),
            data={
                "base_url": sim.api_url("v3"),
                "family": "v3",
                "timezone": "UTC",
                "default_country": "US",
            },
        )
    assert response.status_code == 422
    assert "not allowed on this server" in response.get_data(as_text=True)


def test_test_connection_shows_account_timezone_and_balance(client, sim, gateway_token):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("v3"), token=gateway_token)
    login(client, owner)
    response = client.post(f"/w/{ws.id}/settings/test", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="connection-result"')
    assert "Connected." in body and "750" in body
    assert gateway_token not in body


def test_test_connection_works_with_the_http_family(client, db, sim, gateway_token):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("http"), token=gateway_token)
    db.session.get(GoToneSettings, ws.id).family = "http"
    db.session.commit()
    login(client, owner)
    body = client.post(f"/w/{ws.id}/settings/test", headers=HX).get_data(as_text=True)
    assert "Connected." in body


def test_test_connection_shows_the_gateways_refusal_escaped(client, sim):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("v3"), token="<b>not-a-real-token</b>")
    login(client, owner)
    response = client.post(f"/w/{ws.id}/settings/test", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The connection test failed" in body and "GoTone refused the API token" in body
    assert "<b>" not in body and "not-a-real-token" not in body
    assert "Unauthenticated" not in body  # the portal's words, not the gateway's


def test_test_connection_without_token_is_a_clear_503(client, sim):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("v3"))
    login(client, owner)
    response = client.post(f"/w/{ws.id}/settings/test", headers=HX)
    assert response.status_code == 503
    assert "No GoTone API token is set" in response.get_data(as_text=True)


def test_unreachable_gateway_answers_in_place(client):
    owner = make_user()
    ws = make_workspace(owner, base_url="http://127.0.0.1:9/api/v3", token="1|tok-abcd")
    login(client, owner)
    response = client.post(f"/w/{ws.id}/settings/test", headers=HX)
    assert response.status_code == 200
    assert "The gateway could not be reached" in response.get_data(as_text=True)


def test_token_changes_are_audited_without_the_token(client, db, sim):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("v3"))
    login(client, owner)
    client.post(f"/w/{ws.id}/settings/token", data={"token": "first-token-1111"})
    # Replacing asks for the password again (tests/web/test_gateway_move.py).
    client.post(
        f"/w/{ws.id}/settings/token", data={"token": "second-token-2222", "password": PASSWORD}
    )
    client.post(f"/w/{ws.id}/settings/token/clear")
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.workspace_id == ws.id).order_by(AuditEvent.id)
    ).all()
    actions = [e.action for e in events]
    assert actions[-3:] == ["token.set", "token.replaced", "token.cleared"]
    assert all("first-token" not in str(e.details) for e in events)


def test_admin_manages_token_but_member_cannot_see_settings(client, sim):
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url("v3"))
    admin = add_member(ws, role=Role.ADMIN)
    member = add_member(ws, role=Role.MEMBER)
    login(client, admin)
    assert (
        client.post(f"/w/{ws.id}/settings/token", data={"token": "admin-set-9999"}).status_code
        == 303
    )
    login(client, member)
    assert client.get(_settings_url(ws)).status_code == 403
    assert "…9999" in client.get(f"/w/{ws.id}").get_data(as_text=True)
