"""T21 fuzzing against the simulator: groups, contacts, imports (paste and file), column mapping,
exports."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.exceptions import PhoneError
from app.extensions import db
from app.jobs import drain, wake
from app.models import Job
from app.models import jobs as states
from app.services import imports
from app.services.gotone import client_for
from app.services.phones import parse_phone
from tests.factories import login
from tests.fuzz.harness import (
    ACCEPTED,
    FUZZ,
    Fuzzer,
    field_values,
    hostile,
    sample,
    submissions,
)

# 500 examples of one form (make test-long) can outlast the suite's 120 s per test under load.
pytestmark = pytest.mark.timeout(600)

names = st.text(max_size=30) | sample("Friends", "  Team  ", "x" * 100, "x" * 101, "\x00")
phones = st.from_regex(r"\+?[0-9 ()-]{3,20}", fullmatch=True) | sample(
    "+1 202 555 0175",
    "(202) 555-0176",
    "2025550177",
    "0044 20 7946 0958",
    "123",
    "+999 1234567",
    "+1 202 555 01755555555",
    "+12025550178\x00",
    "２０２５５５０１７９",
    "tel:+12025550180",
    "+1-202-555-0181 ext. 5",
)
person = st.text(max_size=20) | sample("Ann", " Lee ", "x" * 100, "x" * 101, "=1+1")


@pytest.fixture
def workspace(app, client, fast_sim, sim_workspace):
    login(client, sim_workspace.memberships[0].user)
    return sim_workspace


@pytest.fixture
def group(fast_sim, gateway_token):
    return fast_sim.control.seed_group(
        gateway_token, "Friends", [{"phone": "12025550100", "first_name": "Ann"}]
    )


def _last_call(sim, method: str, part: str) -> dict:
    return next(
        e for e in reversed(sim.state.request_log) if e["method"] == method and part in e["path"]
    )


def _group_name(workspace, uid: str) -> str:
    return client_for(workspace).get_group(uid).name


def test_create_group(client, workspace):
    fuzzer = Fuzzer(client, "groups.create")

    @FUZZ
    @given(submissions({"name": field_values(names)}))
    def run(sub):
        response = fuzzer.post(f"/w/{workspace.id}/groups", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            uid = (response.headers.get("HX-Redirect") or response.location).rsplit("/", 1)[1]
            assert _group_name(workspace, uid) == sub.first("name").strip() != ""

    run()


def test_rename_group(client, workspace, group):
    fuzzer = Fuzzer(client, "groups.update")
    prefix = f"edit-{group['uid']}-"

    @FUZZ
    @given(submissions({prefix + "name": field_values(names)}))
    def run(sub):
        response = fuzzer.post(f"/w/{workspace.id}/groups/{group['uid']}", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            assert _group_name(workspace, group["uid"]) == sub.first(prefix + "name").strip()

    run()


def _check_contact_sent(sim, sub, prefix: str = "") -> None:
    """The gateway got digits with the country code, and trimmed names."""
    call = _last_call(sim, "PATCH", "/update/") if prefix else _last_call(sim, "POST", "/store")
    sent = call["json"] or call["query"]
    try:
        expected = parse_phone(sub.first(prefix + "phone"), "US")
    except PhoneError:
        raise AssertionError(f"an invalid number was accepted: {sub!r}") from None
    assert sent["phone"] == expected and sent["phone"].isdigit(), (sent, sub)
    for name in ("first_name", "last_name"):
        typed = (sub.first(prefix + name) or "").strip()
        assert (sent.get(name) or "") == typed and len(typed) <= 100, (sent, sub)


def test_create_contact(client, workspace, group, fast_sim):
    fuzzer = Fuzzer(client, "contacts.create")

    @FUZZ
    @given(
        submissions(
            {
                "phone": field_values(phones),
                "first_name": field_values(person),
                "last_name": field_values(person),
            }
        )
    )
    def run(sub):
        response = fuzzer.post(f"/w/{workspace.id}/groups/{group['uid']}/contacts", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            _check_contact_sent(fast_sim, sub)

    run()


def test_update_contact(client, workspace, group, fast_sim):
    fuzzer = Fuzzer(client, "contacts.update")
    contact = group["contact_uids"][0]
    prefix = f"edit-{contact}-"

    @FUZZ
    @given(
        submissions(
            {
                prefix + "phone": field_values(phones),
                prefix + "first_name": field_values(person),
                prefix + "last_name": field_values(person),
            }
        )
    )
    def run(sub):
        response = fuzzer.post(f"/w/{workspace.id}/groups/{group['uid']}/contacts/{contact}", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            _check_contact_sent(fast_sim, sub, prefix)

    run()


csv_text = sample(
    "+1 202 555 0175,Ann,Lee\n",
    "Phone\tName\n2025550176\tBo\n",
    "hello\n",
    "phone;first\n+44 20 7946 0958;Al\n",
    "=1+1,@x\n",
    '"unterminated,quote\n',
    ",,,\n\n\n",
    "\ufeffphone\n+12025550177\n",
)
files = st.tuples(
    st.binary(max_size=200)
    | csv_text.map(lambda t: t.encode("utf-8"))
    | csv_text.map(lambda t: t.encode("utf-16"))
    | sample(b"PK\x03\x04garbage", b"\x00" * 50),
    sample(
        "contacts.csv",
        "contacts.xlsx",
        "contacts.txt",
        "",
        "../../etc/passwd.csv",
        "ü\u202e.csv",
        "x" * 300 + ".csv",
        "no-extension",
    ),
)


def test_new_import(client, workspace, group):
    fuzzer = Fuzzer(client, "jobs.new_import")

    @FUZZ
    @given(submissions({"text": field_values(csv_text)}), st.none() | files)
    def run(sub, upload):
        url = f"/w/{workspace.id}/jobs/import?group={group['uid']}"
        response = fuzzer.post(url, sub, files={"file": upload} if upload else None)
        if fuzzer.judge(response, sub) == ACCEPTED:
            job_id = int((response.headers.get("HX-Redirect") or response.location).split("/")[-1])
            job = db.session.get(Job, job_id)
            assert job.kind == states.IMPORT and job.group_uid == group["uid"]
            assert job.state in (states.ANALYSING, states.READY) and job.options
            assert upload or (sub.first("text") or "").strip(), "nothing to import was accepted"
            assert imports.upload_path(job).exists()

    run()


def test_columns(app, client, workspace, group):
    from app.services import imports as service

    owner = workspace.memberships[0].user
    text = "Phone,First,Last\n+1 202 555 0175,Ann,Lee\n"
    job = service.create_import(workspace, owner, group["uid"], "Friends", None, text)
    wake(job.id)
    drain(app)
    fuzzer = Fuzzer(client, "jobs.columns")
    columns = sample("0", "1", "2", "-1", "3", "99", "-2", "1.0", "")

    @FUZZ
    @given(
        submissions(
            {
                "phone": field_values(columns),
                "first_name": field_values(columns),
                "last_name": field_values(columns),
                "has_header": field_values(sample("y", "on", "false", "")),
            }
        )
    )
    def run(sub):
        db.session.refresh(job)
        assert job.state == states.READY
        response = fuzzer.post(f"/w/{workspace.id}/jobs/{job.id}/columns", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            db.session.refresh(job)
            mapping = job.options["mapping"]
            assert mapping["phone"] == int(sub.first("phone")) and 0 <= mapping["phone"] <= 2
            for name in ("first_name", "last_name"):
                assert mapping[name] is None or 0 <= mapping[name] <= 2
            drain(app)  # the dry run again: READY for the next example

    run()


def test_new_export(client, workspace, group):
    fuzzer = Fuzzer(client, "jobs.new_export")
    groups = sample(
        group["uid"],
        f" {group['uid']} ",
        "0123456789abc",
        "../../sms/send",
        "%2e%2e",
        "a/b",
        "?x=1",
        "#frag",
    )

    @FUZZ
    @given(submissions({"group": field_values(groups | hostile)}))
    def run(sub):
        response = fuzzer.post(f"/w/{workspace.id}/jobs/export", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            job_id = int((response.headers.get("HX-Redirect") or response.location).split("/")[-1])
            job = db.session.get(Job, job_id)
            assert job.kind == states.EXPORT and job.group_uid == group["uid"], sub

    run()
