"""Settings: secrets required outside development, production hashing numbers, /healthz."""

from __future__ import annotations

import pytest

from app import create_app
from app.config import ConfigError, load_config
from app.services import passwords


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        create_app()


def test_production_starts_without_encryption_keys(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "x" * 32)
    monkeypatch.delenv("PORTAL_ENCRYPTION_KEYS", raising=False)
    monkeypatch.setenv("PORTAL_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    app = create_app()
    assert app.extensions["portal_keyring"] is None
    assert not app.config["DEBUG"]


def test_database_urls_get_the_psycopg_driver():
    env = {"PORTAL_DATABASE_URL": "postgres://u@h/db"}
    assert load_config(env)["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert load_config({})["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert load_config({"PORTAL_REDIS_URL": "redis://r:6379/0"})["RATELIMIT_STORAGE_URI"] == (
        "redis://r:6379/0"
    )


def test_gateway_url_policy_settings():
    production = load_config({})
    assert (production["GOTONE_ALLOW_HTTP"], production["GOTONE_ALLOW_PRIVATE"]) == (False, False)
    development = load_config({"PORTAL_ENV": "development"})
    assert (development["GOTONE_ALLOW_HTTP"], development["GOTONE_ALLOW_PRIVATE"]) == (True, True)
    chosen = load_config(
        {
            "PORTAL_GOTONE_ALLOW_HTTP": "1",
            "PORTAL_GOTONE_ALLOW_PRIVATE": "0",
            "PORTAL_GOTONE_ALLOWED_URLS": " https://gw.example/api , ",
        }
    )
    assert (chosen["GOTONE_ALLOW_HTTP"], chosen["GOTONE_ALLOW_PRIVATE"]) == (True, False)
    assert chosen["GOTONE_ALLOWED_URLS"] == ["https://gw.example/api"]
    # An entry that is not a URL fails at start, naming itself.
    with pytest.raises(ConfigError, match="'gw.example:8443'"):
        load_config({"PORTAL_GOTONE_ALLOWED_URLS": "https://ok.example,gw.example:8443"})


def test_production_password_hashing_is_argon2id_with_64_mib():
    config = load_config({})
    assert config["ARGON2_MEMORY_KIB"] >= 65536 and config["ARGON2_TIME_COST"] >= 2


def test_stored_hashes_are_argon2id(app):
    assert passwords.hash_password("some password").startswith("$argon2id$")


def test_healthz_reports_the_process_and_the_database_only(client, sim):
    # Issue 12 items 5 and 19: no gateway, no key state (tests/web/test_health.py has more).
    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}


def test_healthz_never_calls_the_configured_gateway(make_app, sim):
    app = make_app(GOTONE_DEFAULT_URL=sim.api_url("v3"))
    before = len(sim.state.request_log)
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok" and len(sim.state.request_log) == before
