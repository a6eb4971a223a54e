"""T21 fuzzing against the simulator: compose (back to edit), the live panel, review, send,
templates and scheduled-send edits."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.gotone.payloads import VOICE_GENDERS, VOICE_LANGUAGES
from app.models import MessageTemplate, OutboxMessage, SendRequest
from app.models.types import utcnow
from app.services import outbox, templates
from app.services.merge import Recipient
from app.services.phones import parse_phone
from tests.factories import login
from tests.fuzz.harness import (
    ACCEPTED,
    FUZZ,
    Fuzzer,
    field_values,
    sample,
    submissions,
)

# 500 examples of one form (make test-long) can outlast the suite's 120 s per test under load.
pytestmark = pytest.mark.timeout(600)

TOMORROW = (date.today() + timedelta(days=2)).isoformat()
texts = st.text(max_size=40) | sample(
    "Hello team", "Hello {first_name|there}", "x" * 1600, "x" * 1601, "{", "{last_name}", "😀" * 70
)
numbers = sample(
    "+1 202 555 0175",
    "2025550176, +1 202 555 0177",
    "+44 20 7946 0958\n123",
    "bad",
    "+12025550178;+12025550178",
    "0044 20 7946 0958\t+999 1",
) | st.lists(st.from_regex(r"\+1 ?202 ?555 ?0[0-9]{3}", fullmatch=True), max_size=4).map(", ".join)


def compose_fields(group_uid: str) -> dict:
    return {
        "send_key": field_values(st.uuids().map(lambda u: u.hex)),
        "type": field_values(sample("plain", "voice", "mms", "sms", "PLAIN")),
        "numbers": field_values(numbers),
        "groups": field_values(sample(group_uid, "0123456789abc", "../x")),
        "text": field_values(texts),
        "sender_id": field_values(sample("", "GoTone", "x" * 32, "x" * 33)),
        "dlt_template_id": field_values(sample("", "1107161234567890123")),
        "language": field_values(st.sampled_from(sorted(VOICE_LANGUAGES)) | sample("", "xx")),
        "gender": field_values(sample(*VOICE_GENDERS, "", "robot")),
        "media_url": field_values(
            sample(
                "https://x.test/a.png",
                "http://localhost/x",
                "javascript:alert(1)",
                "ftp://x.test/a",
                "https://",
            )
        ),
        "send_on": field_values(sample(TOMORROW, date.today().isoformat(), "2020-01-01")),
        "send_at": field_values(sample("10:00", "00:00", "23:59")),
    }


@pytest.fixture
def workspace(app, client, fast_sim, sim_workspace, gateway_token):
    fast_sim.control.update_account(gateway_token, balance=10**9)
    login(client, sim_workspace.memberships[0].user)
    return sim_workspace


@pytest.fixture
def group(fast_sim, gateway_token):
    seeded = fast_sim.control.seed_group(
        gateway_token,
        "Friends",
        [{"phone": "12025550100", "first_name": "Ann"}, {"phone": "12025550101"}],
    )
    return seeded["uid"]


def _requests() -> int:
    return db.session.scalar(select(func.count()).select_from(SendRequest))


def _nothing_stored(fuzzer, name, workspace, group):
    @FUZZ
    @given(submissions(compose_fields(group)))
    def run(sub):
        before = _requests()
        response = fuzzer.post(f"/w/{workspace.id}/messages/{name}", sub)
        fuzzer.judge(response, sub)
        assert _requests() == before, f"{name} stored a send: {sub!r}"

    run()


def test_compose_back_to_edit(client, workspace, group):
    _nothing_stored(Fuzzer(client, "messages.compose"), "compose", workspace, group)


def test_panel(client, workspace, group):
    _nothing_stored(Fuzzer(client, "messages.panel"), "panel", workspace, group)


def test_review(client, workspace, group):
    _nothing_stored(Fuzzer(client, "messages.review"), "review", workspace, group)


def test_send(client, workspace, group, fast_sim):
    fuzzer = Fuzzer(client, "messages.send")

    @FUZZ
    @given(submissions(compose_fields(group)))
    def run(sub):
        logged = len(fast_sim.state.request_log)
        response = fuzzer.post(f"/w/{workspace.id}/messages/send", sub)
        if fuzzer.judge(response, sub) != ACCEPTED:
            return
        url = response.headers.get("HX-Redirect") or response.location
        request = db.session.get(SendRequest, int(url.rsplit("/", 1)[1]))
        assert request.send_key == sub.first("send_key") and request.workspace_id == workspace.id
        assert request.text == sub.first("text") and request.text.strip()
        assert len(request.text) <= 1600
        assert request.type == (sub.first("type") or "plain") in ("plain", "voice", "mms")
        if request.type == "voice":
            assert request.language in VOICE_LANGUAGES and request.gender in VOICE_GENDERS
        if request.type == "mms":
            assert request.media_url.startswith(("http://", "https://"))
        assert len(request.sender_id or "") <= 32
        if request.scheduled_for is not None:
            assert request.scheduled_for > request.created_at
        phones = db.session.scalars(
            select(OutboxMessage.phone).where(OutboxMessage.request_id == request.id)
        ).all()
        assert phones and len(phones) == request.recipients
        assert all(parse_phone("+" + phone, None) == phone for phone in phones), phones
        sent = " ".join(
            str(e["json"] or e["query"])
            for e in fast_sim.state.request_log[logged:]
            if e["path"].endswith("/sms/send")
        )
        for message in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.request_id == request.id)
        ):
            if message.state == outbox.ACCEPTED:
                assert message.phone in sent, (message.phone, sent)  # as digits, normalised

    run()


names = st.text(max_size=30) | sample("Greeting", "  Greeting  ", "x" * 100, "x" * 101)


def _check_template(template: MessageTemplate, sub) -> None:
    assert template.name == sub.first("name").strip() and 0 < len(template.name) <= 100
    assert template.text == sub.first("text") and template.text.strip()
    assert len(template.text) <= 1600


def test_create_template(client, workspace):
    fuzzer = Fuzzer(client, "messages.create_template")

    @FUZZ
    @given(submissions({"name": field_values(names), "text": field_values(texts)}))
    def run(sub):
        before = {t.id for t in templates.list_templates(workspace)}
        response = fuzzer.post(f"/w/{workspace.id}/messages/templates", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            new = [t for t in templates.list_templates(workspace) if t.id not in before]
            assert len(new) == 1, sub
            _check_template(new[0], sub)
            templates.delete(workspace, workspace.memberships[0].user, new[0])  # pages list all

    run()


def test_edit_template(client, workspace):
    owner = workspace.memberships[0].user
    template = templates.save(workspace, owner, "Edited", "Hello")
    fuzzer = Fuzzer(client, "messages.edit_template")

    @FUZZ
    @given(submissions({"name": field_values(names), "text": field_values(texts)}))
    def run(sub):
        url = f"/w/{workspace.id}/messages/templates/{template.id}/edit"
        response = fuzzer.post(url, sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            db.session.refresh(template)
            _check_template(template, sub)

    run()


def test_edit_schedule(client, workspace):
    owner = workspace.memberships[0].user
    draft = outbox.Draft(
        text="Later",
        recipients=[Recipient("12025550175")],
        scheduled_for=utcnow() + timedelta(days=1),
    )
    request = outbox.submit(workspace, owner, uuid.uuid4().hex, draft).request
    fuzzer = Fuzzer(client, "messages.edit_schedule")

    @FUZZ
    @given(
        submissions(
            {
                "text": field_values(texts),
                "send_on": field_values(sample(TOMORROW, "2020-01-01")),
                "send_at": field_values(sample("10:00", "00:00", "23:59")),
            }
        )
    )
    def run(sub):
        url = f"/w/{workspace.id}/messages/scheduled/{request.id}/edit"
        response = fuzzer.post(url, sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            db.session.refresh(request)
            assert request.state == "scheduled" and request.scheduled_for > utcnow()
            assert request.text == sub.first("text") and request.text.strip(), sub
            assert len(request.text) <= 1600

    run()
