"""T21 fuzzing: workspace create/rename/delete, invitations, roles, ownership, gateway settings,
the token and the bulk pace."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import available_timezones

import phonenumbers
import pytest
from flask import current_app
from hypothesis import given
from hypothesis import strategies as st

from app.extensions import db
from app.models import UserSession, Workspace
from app.permissions import ROLE_ORDER, Role
from app.services import gotone, invitations, jobs, keys, workspaces
from tests.factories import PASSWORD, add_member, login, make_user, make_workspace
from tests.fuzz.harness import (
    ACCEPTED,
    FUZZ,
    REJECTED,
    Fuzzer,
    Submission,
    field_values,
    sample,
    submissions,
)

# 500 examples of one form (make test-long) can outlast the suite's 120 s per test under load.
pytestmark = pytest.mark.timeout(600)

names = st.text(max_size=30) | sample("Acme", "  Acme  ", "x" * 100, "x" * 101, " " * 100 + "x")
ROLES = [r.value for r in ROLE_ORDER]
TIMEZONES = sorted(available_timezones())


@pytest.fixture
def owner(client, app):
    user = make_user("owner@example.com")
    login(client, user)
    return user


@pytest.fixture
def workspace(owner):
    return make_workspace(owner, "Acme")


def _membership(workspace, user_id):
    return workspaces.get_member(workspace, user_id)


def test_create_workspace(client, owner):
    fuzzer = Fuzzer(client, "workspaces.create")

    @FUZZ
    @given(submissions({"name": field_values(names)}))
    def run(sub):
        response = fuzzer.post("/w", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            url = response.headers.get("HX-Redirect") or response.location
            created = db.session.get(Workspace, int(url.rsplit("/", 1)[1]))
            assert created.name == sub.first("name").strip() and 0 < len(created.name) <= 100
            # Gone again: every page lists the user's workspaces, and 500 would slow each one.
            workspaces.delete(created, owner)

    run()


def test_rename_workspace(client, workspace):
    fuzzer = Fuzzer(client, "workspaces.rename")

    @FUZZ
    @given(submissions({"name": field_values(names)}))
    def run(sub):
        response = fuzzer.post(f"/w/{workspace.id}/rename", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            stored = db.session.get(Workspace, workspace.id).name
            assert stored == sub.first("name").strip() and 0 < len(stored) <= 100

    run()


def test_create_invitation(client, workspace):
    fuzzer = Fuzzer(client, "workspaces.create_invitation")

    @FUZZ
    @given(submissions({"role": field_values(sample(*ROLES, "Admin", "root", ""))}))
    def run(sub):
        before = {i.id for i in invitations.open_invitations(workspace)}
        response = fuzzer.post(f"/w/{workspace.id}/invitations", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            new = [i for i in invitations.open_invitations(workspace) if i.id not in before]
            assert len(new) == 1, f"accepted without an invitation: {sub!r}"
            assert new[0].role == sub.first("role") and new[0].role != Role.OWNER

    run()


def test_change_role(client, workspace):
    target = add_member(workspace, make_user(), Role.VIEWER)
    fuzzer = Fuzzer(client, "workspaces.change_role")

    @FUZZ
    @given(submissions({"role": field_values(sample(*ROLES, "OWNER", "superuser", ""))}))
    def run(sub):
        response = fuzzer.post(f"/w/{workspace.id}/members/{target.id}/role", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            assert _membership(workspace, target.id).role == sub.first("role"), sub

    run()


def test_transfer_ownership(client, workspace, owner):
    target = add_member(workspace, make_user(), Role.ADMIN)
    fuzzer = Fuzzer(client, "workspaces.transfer_ownership")
    ids = sample(str(target.id), f" {target.id} ", str(owner.id), "0", "-1", "999999", "1.0")

    @FUZZ
    @given(submissions({"user_id": field_values(ids)}))
    def run(sub):
        response = fuzzer.post(f"/w/{workspace.id}/transfer", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            assert int(sub.first("user_id")) == target.id
            new_owner = _membership(workspace, target.id)
            assert new_owner.role == Role.OWNER
            # Back to the fuzzing owner for the next example.
            workspaces.transfer_ownership(workspace, new_owner, _membership(workspace, owner.id))

    run()


def test_delete_workspace(client, owner):
    state = {"workspace": make_workspace(owner, "Doomed")}
    fuzzer = Fuzzer(client, "workspaces.delete")

    @FUZZ
    @given(
        submissions(
            {
                "confirm_name": field_values(sample("Doomed", " Doomed ", "doomed")),
                "password": field_values(passwords),
            }
        )
    )
    def run(sub):
        workspace_id = state["workspace"].id
        opened = _forgive()
        response = fuzzer.post(f"/w/{workspace_id}/delete", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            assert sub.first("confirm_name").strip() == "Doomed"
            assert sub.first("password") == PASSWORD or opened
            assert db.session.get(Workspace, workspace_id) is None
            state["workspace"] = make_workspace(owner, "Doomed")
        else:
            assert db.session.get(Workspace, workspace_id) is not None

    run()


urls = sample(
    "https://gotone.example/api/v3",
    "http://127.0.0.1:9/api/v3/",
    "ftp://x.y",
    "https://",
    "https://exa mple.com",
    "javascript:alert(1)",
    "//evil.example",
    "https://gotone.example/" + "a" * 240,
    "http://[::1]:80/",
    "https://ex\u00e4mple.com",
)
# The right one, none, or one too long to hash (plus the harness's hostile values).
passwords = sample(PASSWORD, "", " ", "x" * 1025)


def _forgive() -> bool:
    """Reset the wrong-password count of every session (five end the session, which would log
    the fuzzer out: tests/web/test_gateway_move.py tests that); tell whether a session has
    typed the password already (its re-authentication window is open: 5 minutes)."""
    db.session.execute(db.update(UserSession).values(reauth_failures=0))
    db.session.commit()
    return (
        db.session.scalar(
            db.select(db.func.count())
            .select_from(UserSession)
            .where(UserSession.reauthenticated_at.is_not(None))
        )
        > 0
    )


amounts = sample(
    "0", "10", "10.5", "10.555", "-1", "9999999999", "9999999999.99", "10000000000", "", " 5 "
)


def test_update_settings(client, workspace):
    fuzzer = Fuzzer(client, "workspaces.update_settings")

    @FUZZ
    @given(
        submissions(
            {
                "base_url": field_values(urls),
                "family": field_values(sample("v3", "http", "v2")),
                "timezone": field_values(
                    st.sampled_from(TIMEZONES) | sample(" UTC ", "utc", "Mars/Base")
                ),
                "default_country": field_values(
                    sample("US", "gb", " NL ", "XX", "USA", "001", "ZZ")
                ),
                "balance_warning_below": field_values(amounts),
                # A new URL or family asks for the password and may bring the new gateway's token.
                "new_token": field_values(
                    sample("42|new-gateway-token-Zq9X", "  42|abcd ", "abc", "")
                ),
                "password": field_values(passwords),
            }
        )
    )
    def run(sub):
        _forgive()
        response = fuzzer.post(f"/w/{workspace.id}/settings", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            settings = gotone.get_settings(workspace)
            db.session.refresh(settings)
            new_token = (sub.first("new_token") or "").strip()
            if new_token:
                assert keys.decrypt(settings.token_enc, workspace.id) == new_token
            assert settings.base_url.startswith(("http://", "https://"))
            assert " " not in settings.base_url and not settings.base_url.endswith("/")
            assert settings.family in ("v3", "http") and settings.family == sub.first("family")
            assert settings.timezone in TIMEZONES
            assert settings.default_country in phonenumbers.SUPPORTED_REGIONS
            warning = settings.balance_warning_below
            assert warning is None or Decimal(0) <= warning <= Decimal("9999999999.99"), warning

    run()


def test_balance_warnings_no_range_can_compare_are_refused(client, workspace):
    """Fixed checks for a find of 500 examples that CI's 100 do not reach: a balance warning
    of 'sNaN' raised in the range check (a 500; fixed by forms.SafeNumberRange)."""
    fuzzer = Fuzzer(client, "workspaces.update_settings: numbers no range compares", form=False)
    settings = gotone.get_settings(workspace)
    fields = [
        ("base_url", settings.base_url or ""),
        ("family", settings.family or "v3"),
        ("timezone", settings.timezone or "UTC"),
        ("default_country", "US"),
        ("password", PASSWORD),
    ]
    for value in ("sNaN", "-sNaN", "NaN", "Infinity", "1e309", "9" * 400):
        for htmx in (False, True):
            _forgive()
            sub = Submission([*fields, ("balance_warning_below", value)], htmx)
            response = fuzzer.post(f"/w/{workspace.id}/settings", sub)
            assert fuzzer.judge(response, sub) == REJECTED, value


def test_set_token(client, workspace):
    fuzzer = Fuzzer(client, "workspaces.set_token")
    tokens = sample("42|sim-secret-token-Zq9X", "  42|abcd  ", "abcd", "abc", "x" * 512, "x" * 513)

    @FUZZ
    @given(submissions({"token": field_values(tokens), "password": field_values(passwords)}))
    def run(sub):
        _forgive()
        response = fuzzer.post(f"/w/{workspace.id}/settings/token", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            settings = gotone.get_settings(workspace)
            db.session.refresh(settings)
            token = keys.decrypt(settings.token_enc, workspace.id)
            assert token == sub.first("token").strip()
            # It travels in an HTTP header: visible ASCII only, at least 4 characters.
            assert len(token) >= 4 and all("!" <= c <= "~" for c in token), repr(token)
            assert settings.token_last4 == token[-4:]

    run()


def test_update_pace(client, workspace):
    fuzzer = Fuzzer(client, "jobs.update_pace")
    calls = sample("1", "60", "6000", "6001", "0", "-5", "", "1.5", " 30 ")

    @FUZZ
    @given(submissions({"calls": field_values(calls)}))
    def run(sub):
        response = fuzzer.post(f"/w/{workspace.id}/jobs/pace", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            typed = (sub.first("calls") or "").strip()
            pace = jobs.pace_of(workspace.id)
            if typed:
                assert pace == int(typed) and 1 <= pace <= 6000
            else:
                assert pace == current_app.config["JOBS_PACE"]

    run()
