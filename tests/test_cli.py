"""Operations commands: secrets, users, workspaces."""

from __future__ import annotations

import pytest

from app.crypto import Keyring, generate_key, key_id_of
from app.extensions import db
from app.models import GoToneSettings, User, Workspace
from app.services import accounts, two_factor
from tests.factories import make_user, make_workspace

TOKEN = "5|cli-token-secret-QRST"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_generate_key_prints_a_usable_entry(runner):
    result = runner.invoke(args=["secrets", "generate-key"])
    assert result.exit_code == 0
    Keyring.from_config(result.output.strip())


def test_rotate_reencrypts_every_row_and_a_second_run_changes_nothing(app, runner):
    owner = make_user()
    spaces = [make_workspace(owner, token=f"{TOKEN}-{n}") for n in range(3)]
    make_workspace(owner)  # no token: nothing to rotate
    secret = two_factor.new_secret()
    owner.totp_secret_enc = app.extensions["portal_keyring"].encrypt(secret, -owner.id)
    db.session.commit()
    old_kid = app.extensions["portal_keyring"].primary_kid
    new_entry = generate_key()
    app.extensions["portal_keyring"] = Keyring.from_config(
        f"{new_entry},{app.config['ENCRYPTION_KEYS']}"
    )
    new_kid = new_entry.split(":")[0]

    first = runner.invoke(args=["secrets", "rotate", "--batch", "2"])
    assert first.exit_code == 0, first.output
    assert "rotated 4, already current 0, failed 0" in first.output
    db.session.expire_all()
    for ws in spaces:
        stored = db.session.get(GoToneSettings, ws.id).token_enc
        assert key_id_of(stored) == new_kid != old_kid
        assert app.extensions["portal_keyring"].decrypt(stored, ws.id).startswith(TOKEN)
    assert key_id_of(db.session.get(User, owner.id).totp_secret_enc) == new_kid

    second = runner.invoke(args=["secrets", "rotate"])
    assert "rotated 0, already current 4, failed 0" in second.output
    check = runner.invoke(args=["secrets", "check"])
    assert check.exit_code == 0 and f"key {new_kid} (primary): 4" in check.output
    assert TOKEN not in first.output + second.output + check.output


def test_check_fails_on_an_undecryptable_row(app, runner):
    ws = make_workspace(make_user(), token=TOKEN)
    db.session.get(GoToneSettings, ws.id).token_enc = app.extensions["portal_keyring"].encrypt(
        TOKEN, ws.id + 1000
    )
    db.session.commit()
    result = runner.invoke(args=["secrets", "check"])
    assert result.exit_code == 1
    assert "failed (DecryptError): 1" in result.output


def test_secrets_commands_refuse_without_keys(make_app):
    app = make_app(ENCRYPTION_KEYS=None)
    result = app.test_cli_runner().invoke(args=["secrets", "rotate"])
    assert result.exit_code != 0
    assert "PORTAL_ENCRYPTION_KEYS is not set" in result.output


def test_users_create_reads_the_password_from_the_environment(app, runner, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", "a long enough password")
    result = runner.invoke(args=["users", "create", "Ops@Example.com"])
    assert result.exit_code == 0, result.output
    assert accounts.authenticate("ops@example.com", "a long enough password")
    again = runner.invoke(args=["users", "create", "ops@example.com"])
    assert again.exit_code != 0 and "already has an account" in again.output


def test_users_create_prompts_for_the_password(app, runner, monkeypatch):
    monkeypatch.delenv("PORTAL_PASSWORD", raising=False)
    result = runner.invoke(
        args=["users", "create", "p@example.com"], input="prompted password\nprompted password\n"
    )
    assert result.exit_code == 0, result.output
    assert accounts.authenticate("p@example.com", "prompted password")


def test_workspaces_create_reads_the_token_from_stdin(app, runner, monkeypatch):
    monkeypatch.delenv("PORTAL_GOTONE_TOKEN", raising=False)
    make_user("boss@example.com")
    result = runner.invoke(
        args=[
            "workspaces",
            "create",
            "Ops",
            "--owner",
            "boss@example.com",
            "--gotone-url",
            "http://127.0.0.1:9/api/v3",
        ],
        input=TOKEN + "\n",
    )
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output and "QRST" in result.output
    ws = db.session.scalar(db.select(Workspace).where(Workspace.name == "Ops"))
    row = db.session.get(GoToneSettings, ws.id)
    assert row.base_url == "http://127.0.0.1:9/api/v3"
    assert app.extensions["portal_keyring"].decrypt(row.token_enc, ws.id) == TOKEN


def test_workspaces_create_reads_the_token_from_the_environment(app, runner, monkeypatch):
    monkeypatch.setenv("PORTAL_GOTONE_TOKEN", TOKEN)
    make_user("boss@example.com")
    result = runner.invoke(args=["workspaces", "create", "Env", "--owner", "boss@example.com"])
    assert result.exit_code == 0, result.output
    ws = db.session.scalar(db.select(Workspace).where(Workspace.name == "Env"))
    assert db.session.get(GoToneSettings, ws.id).token_last4 == "QRST"


def test_workspaces_create_has_no_token_option():
    from app.cli import create_workspace_command

    assert not any("token" in p.name for p in create_workspace_command.params)
