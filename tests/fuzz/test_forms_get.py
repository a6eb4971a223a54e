"""T21 fuzzing of the GET forms: history filters (page and CSV), the compose type fields, and the
query arguments of the other pages (?page=, ?group=, ?type=, ?template=, ?next=)."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.forms.history import STATE_LABELS
from tests.factories import login
from tests.fuzz.harness import (
    ACCEPTED,
    FUZZ,
    ODD_DATES,
    ODD_NUMBERS,
    Fuzzer,
    Submission,
    field_values,
    hostile,
    sample,
    submissions,
)

# 500 examples of one form (make test-long) can outlast the suite's 120 s per test under load.
pytestmark = pytest.mark.timeout(600)

pages = sample("1", "2", "0", "-1", "99999", "100001", "9" * 30, "1e3", "") | hostile


@pytest.fixture
def workspace(app, client, fast_sim, sim_workspace):
    owner = sim_workspace.memberships[0].user
    login(client, owner)
    return sim_workspace


def history_fields(owner_id: int) -> dict:
    return {
        "q": field_values(sample("555", "Hello", "%", "_", "\\", "x" * 201)),
        "member": field_values(sample(str(owner_id), "", "0", "-1", "9" * 30)),
        "status": field_values(sample("", *STATE_LABELS, "sent")),
        "type": field_values(sample("", "plain", "voice", "mms", "sms")),
        "date_from": field_values(sample("2024-01-31", "", *ODD_DATES)),
        "date_to": field_values(sample("2030-12-31", "", *ODD_DATES)),
        "page": field_values(pages),
    }


def _is_date(value: str | None) -> bool:
    try:
        datetime.strptime(value or "", "%Y-%m-%d")
        return True
    except ValueError:
        return False


def test_history_filters(client, workspace):
    fuzzer = Fuzzer(client, "messages.history (GET)")
    owner = workspace.memberships[0].user

    @FUZZ
    @given(submissions(history_fields(owner.id)))
    def run(sub):
        response = fuzzer.get(f"/w/{workspace.id}/messages/history", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            # No error shown: then every filter given was usable (none silently dropped).
            for name in ("date_from", "date_to"):
                value = sub.first(name)
                assert not value or _is_date(value), (name, sub)
            assert sub.first("type") in (None, "", "plain", "voice", "mms"), sub
            assert sub.first("status") in (None, "", *STATE_LABELS), sub
            assert sub.first("member") in (None, "", str(owner.id)), sub
            assert len(sub.first("q") or "") <= 200

    run()


def test_history_export(client, workspace):
    fuzzer = Fuzzer(client, "messages.history_export (GET)")
    owner = workspace.memberships[0].user

    @FUZZ
    @given(submissions(history_fields(owner.id)))
    def run(sub):
        response = fuzzer.get(f"/w/{workspace.id}/messages/history.csv", sub)
        if fuzzer.judge(response, sub) == ACCEPTED:
            assert response.mimetype == "text/csv"
            response.get_data()  # the streamed body too

    run()


def test_refresh_statuses(client, workspace):
    """The refresh button posts the history filters of the page it is on, in its URL."""
    fuzzer = Fuzzer(client, "messages.refresh_statuses")
    owner = workspace.memberships[0].user

    @FUZZ
    @given(submissions(history_fields(owner.id)))
    def run(sub):
        url = f"/w/{workspace.id}/messages/history/refresh?{urlencode(sub.pairs)}"
        fuzzer.judge(fuzzer.post(url, Submission([], sub.htmx)), sub)

    run()


def test_type_fields(client, workspace):
    fuzzer = Fuzzer(client, "messages.type_fields (GET)")

    fields = {
        "type": sample("plain", "voice", "mms", "sms"),
        "language": sample("en-us", "xx"),
        "gender": sample("male", "robot"),
        "media_url": sample("https://x.test/a.png", "x"),
    }

    @FUZZ
    @given(submissions({name: field_values(values) for name, values in fields.items()}))
    def run(sub):
        fuzzer.judge(fuzzer.get(f"/w/{workspace.id}/messages/type-fields", sub), sub)

    run()


def _other_pages(workspace_id: int) -> list[tuple[str, dict]]:
    """(path, {argument: strategy}) of every other GET page that reads its query string."""
    w = f"/w/{workspace_id}"
    return [
        (f"{w}/groups", {"page": pages}),
        (f"{w}/jobs", {"page": pages}),
        (f"{w}/audit", {"page": pages}),
        (f"{w}/messages/gateway-history", {"page": pages}),
        (
            f"{w}/messages/compose",
            {
                "type": sample("plain", "voice", "mms", "x"),
                "template": sample("1", "-1", "9" * 20, *ODD_NUMBERS),
            },
        ),
        (f"{w}/jobs/import", {"group": sample("0123456789abc", "../x", "a" * 65) | hostile}),
        ("/auth/login", {"next": sample("/w", "//evil.example", "/\\evil.example") | hostile}),
    ]


def test_query_arguments_of_other_pages(client, workspace):
    fuzzer = Fuzzer(client, "other GET pages (query arguments)")
    routes = _other_pages(workspace.id)

    @st.composite
    def requests(draw):
        path, args = draw(st.sampled_from(routes))
        sub = draw(submissions({name: field_values(s) for name, s in args.items()}))
        return path, sub

    @FUZZ
    @given(requests())
    def run(request):
        path, sub = request
        fuzzer.judge(fuzzer.get(path, sub), Submission(sub.pairs + [("(path)", path)], sub.htmx))

    run()


def test_ids_beyond_the_database_integer_are_not_found(client, workspace):
    """Every route's integer ids, one at a time, past what the database holds: not found."""
    from tests.web.test_access import ROUTES, _url

    fuzzer = Fuzzer(client, "ids in URLs beyond the database integer", form=False)
    huge = "9" * 20
    for endpoint, rule, method in ROUTES:
        names = re.findall(r"<int:(\w+)>", rule)
        for name in names:
            args = {n: workspace.id if n == "workspace_id" else 1 for n in names}
            args.update(
                {
                    name: huge,
                    "group_uid": "0123456789abc",
                    "contact_uid": "0123456789abd",
                    "secret": "x",
                    "filename": "x",
                }
            )
            url, empty = _url(rule, args), Submission([], htmx=False)
            sub = Submission([("(url)", url)], htmx=False)
            send = fuzzer.post if method == "POST" else fuzzer.get
            response = send(url, empty)
            assert response.status_code in (404, 405), (endpoint, sub)  # 405: GET exists
            fuzzer.judge(response, sub)
