"""The GoTone token is never stored, logged or served in plaintext."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from app.crypto import DecryptError, Keyring, generate_key
from app.exceptions import ServiceUnavailableError
from app.models import GoToneSettings
from app.services import gotone
from tests.conftest import HX, PG_URL
from tests.factories import login, make_user, make_workspace

TOKEN = "93|PlainTextGoToneToken-8f2kQz"


def _all_pages(client, ws):
    urls = [
        "/",
        "/w",
        f"/w/{ws.id}",
        f"/w/{ws.id}/members",
        f"/w/{ws.id}/settings",
        f"/w/{ws.id}/audit",
        "/account/",
        "/healthz",
    ]
    return [client.get(u) for u in urls] + [client.get(u, headers=HX) for u in urls]


@pytest.mark.parametrize("family", ["v3", "http"])
def test_token_saved_through_the_ui_is_nowhere_in_plaintext(
    client, app, db, sim, caplog, tmp_path, family
):
    caplog.set_level(logging.DEBUG)
    sim.control.create_account(token=TOKEN)
    owner = make_user()
    ws = make_workspace(owner, base_url=sim.api_url(family))
    db.session.get(GoToneSettings, ws.id).family = family
    db.session.commit()
    login(client, owner)
    responses = [
        client.post(f"/w/{ws.id}/settings/token", data={"token": TOKEN}),
        client.post(f"/w/{ws.id}/settings/test", headers=HX),
        client.post(f"/w/{ws.id}/settings/test"),
    ]
    assert "Connected." in responses[1].get_data(as_text=True)
    responses += _all_pages(client, ws)
    secret = TOKEN.encode()
    for response in responses:
        assert secret not in response.get_data(), response.request.path
        assert TOKEN not in str(response.headers)
    assert TOKEN not in caplog.text
    assert any("urllib3" in r.name for r in caplog.records), "the DEBUG client logs were captured"
    if not PG_URL:
        db.session.remove()
        files = [p for p in Path(tmp_path).glob("portal.db*") if p.is_file()]
        assert any(p.name.endswith("-wal") for p in files)
        for path in files:
            assert secret not in path.read_bytes(), path.name
    # The simulator did receive it: the token really was used, decrypted, for the calls.
    assert sim.control.requests()


def test_ciphertext_copied_to_another_workspace_does_not_decrypt(client, db):
    owner = make_user()
    first = make_workspace(owner, token=TOKEN)
    second = make_workspace(owner)
    stolen = db.session.get(GoToneSettings, first.id).token_enc
    db.session.get(GoToneSettings, second.id).token_enc = stolen
    db.session.commit()
    with pytest.raises(ServiceUnavailableError, match="cannot be decrypted"):
        gotone.client_for(second)
    from flask import current_app

    with pytest.raises(DecryptError):
        current_app.extensions["portal_keyring"].decrypt(stolen, second.id)
    assert gotone.client_for(first)  # the original still works


def test_missing_keys_app_starts_and_token_pages_answer_503_quickly(make_app, tmp_path, sim):
    app = make_app(ENCRYPTION_KEYS=None)
    client = app.test_client()
    with app.app_context():
        owner = make_user()
        # A gateway that would hang: the 503 must come before any call to it.
        sim.control.add_fault("hang", times=None, delay_ms=5000)
        ws = make_workspace(owner, base_url=sim.api_url("v3"))
        login(client, owner)
        assert client.get(f"/w/{ws.id}/settings").status_code == 200
        for url, data in (
            (f"/w/{ws.id}/settings/token", {"token": TOKEN}),
            (f"/w/{ws.id}/settings/test", {}),
        ):
            started = time.monotonic()
            response = client.post(url, data=data, headers=HX)
            assert response.status_code == 503
            assert time.monotonic() - started < 1.0
            assert "encryption key is not configured" in response.get_data(as_text=True)
        assert sim.control.requests() == []
        assert db_has_no_token(ws)
        # Degraded, without saying why to anonymous callers (issue 12 item 19).
        health = client.get("/healthz").get_json()
        assert health == {"status": "degraded", "database": "ok"}


def db_has_no_token(ws) -> bool:
    from app.extensions import db

    return db.session.get(GoToneSettings, ws.id).token_enc is None


def test_malformed_keys_are_a_503_too(make_app):
    app = make_app(ENCRYPTION_KEYS="k1:not-base64!!")
    client = app.test_client()
    with app.app_context():
        owner = make_user()
        ws = make_workspace(owner)
        login(client, owner)
        response = client.post(f"/w/{ws.id}/settings/token", data={"token": TOKEN})
        assert response.status_code == 503
        assert "is not base64" in response.get_data(as_text=True)
        assert db_has_no_token(ws)


def test_wrong_key_names_the_missing_key_id(client, app, sim):
    owner = make_user()
    sim.control.add_fault("hang", times=None, delay_ms=5000)  # never reached: see below
    ws = make_workspace(owner, base_url=sim.api_url("v3"), token=TOKEN)
    kid = app.extensions["portal_keyring"].primary_kid
    # As after a restart with another PORTAL_ENCRYPTION_KEYS value.
    app.extensions["portal_keyring"] = Keyring.from_config(generate_key())
    login(client, owner)
    started = time.monotonic()
    response = client.post(f"/w/{ws.id}/settings/test", headers=HX)
    assert time.monotonic() - started < 1.0
    assert response.status_code == 503
    assert f"key &#39;{kid}&#39;" in response.get_data(as_text=True)
    assert sim.control.requests() == []
    assert client.get(f"/w/{ws.id}/settings").status_code == 200
