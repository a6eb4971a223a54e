"""T21 machinery: hostile values, form submissions, one poster that judges every answer.

A submission is a list of (field, value) pairs, so a field can be missing or sent twice, and a
value can be str (any Unicode that UTF-8 can carry: RTL, emoji, NUL) or bytes (invalid UTF-8,
such as an encoded lone surrogate, which an HTTP form can carry and a str cannot). It goes out
url-encoded, as a full page post (token in the form) or as htmx (HX-Request, token in the
X-CSRFToken header, as base.html's hx-headers sends it).

Every answer is judged the same way (`Fuzzer.judge`): never 5xx; a 4xx must show a message
(a field error, role="alert", an error flash or the error page's message); a 2xx/3xx with a
field error or an error flash (in the body, or in the session for the page a redirect leads
to) is a visible rejection; anything else was accepted, and the test's own check then proves
that what was stored or sent is valid.
"""

from __future__ import annotations

import operator
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

import werkzeug.urls  # noqa: F401  (registers the 'werkzeug.url_quote' codec error handler)
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.conftest import HX

# 100 examples per form in CI, 50 locally, 500 in `make test-long`; PORTAL_FUZZ_EXAMPLES
# overrides all three. CI's examples are derandomized (the same every run), and 100 still find
# what 500 found: with the range fix of e821033 reverted, test_update_pace and
# test_transfer_ownership fail at 100 (the 400-digit pace and owner id); the one find 100 miss,
# a balance warning of 'sNaN', is a fixed check (test_forms_workspaces), as the ids past the
# database integer are (test_forms_get). The 400 more per form cost CI minutes and would only
# pay for new finds, which test-long looks for.
EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES") or (100 if os.environ.get("CI") else 50))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the repository
    # CI runs the same examples every time (a red build is then reproducible, never flaky);
    # local runs explore new ones.
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one app and database per form, on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)

# -- values ----------------------------------------------------------------------------------
ODD_NUMBERS = [
    "0",
    "-0",
    "-1",
    "+1",
    "1e3",
    "1E-7",
    "1e309",
    "-1e309",
    "NaN",
    "nan",
    "sNaN",
    "Infinity",
    "-Infinity",
    "inf",
    "0x1F",
    "0b11",
    "0o7",
    "1_000",
    "1,000.50",
    "1.000,50",
    "1 000",
    "１２３",
    "١٢٣",
    "४२",
    "−5",
    "5.",
    ".5",
    "1.005",
    "0.001",
    "99999999999999999999999999",
    "9" * 400,
    "1/2",
    "½",
    "²",
    "007",
]
ODD_DATES = [
    "2024-02-30",
    "2023-02-29",
    "2024-02-29",
    "0000-01-01",
    "0001-01-01",
    "1900-01-01",
    "1970-01-01",
    "2038-01-19",
    "9999-12-31",
    "10000-01-01",
    "-0001-01-01",
    "2024-13-01",
    "2024-00-10",
    "2024-1-1",
    "01/02/2024",
    "2024/01/02",
    "2024-01-02T03:04",
    "2099-12-31",
    "3000-01-01",
]
ODD_TIMES = [
    "00:00",
    "23:59",
    "24:00",
    "12:60",
    "25:00",
    "-1:00",
    "12:00:00",
    "23:59:60",
    "1:5",
    "12:30 PM",
    "noon",
    "T12:00",
]
ODD_TEXT = [
    "",
    " ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    " \n\t ",
    "\x00",
    "a\x00b",
    "\u200b",
    "\u00a0",
    "\ufeff",
    "\u202eabc\u202c",
    "\u200f\u05e9\u05dc\u05d5\u05dd",
    "مرحبا بالعالم",
    "😀",
    "👨\u200d👩\u200d👧",
    "🏳️\u200d🌈",
    "\U0001d518\U0001d52b",
    "Ω≈ç√∫",
    "\uffff",
    "\U0010ffff",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "{{7*7}}",
    "{first_name}",
    "{first_name|",
    "{{",
    "%s%n%x",
    "' OR 1=1--",
    "../../etc/passwd",
    "%00",
    "%2e%2e/",
    "null",
    "None",
    "true",
    "[]",
    "{}",
    "=1+1",
    "@SUM(A1)",
    "a" * 40,
    "+",
    "00",
    "+0",
    "-",
    "\\",
    "/",
    "?",
    "#",
    "&",
    "=",
    "é",
    "中文",
]
# Bytes that are not valid UTF-8: an encoded lone surrogate, a BOM pair, an overlong '/'.
BAD_BYTES = [b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xff\xfe", b"\xc0\xaf", b"\x80", b"abc\xe2\x82"]
LENGTHS = [
    31,
    32,
    33,
    63,
    64,
    65,
    99,
    100,
    101,
    127,
    128,
    129,
    254,
    255,
    256,
    511,
    512,
    513,
    1599,
    1600,
    1601,
    2048,
    2049,
    5000,
    100_001,
]

long_text = st.builds(
    operator.mul,
    st.sampled_from(["a", " ", "1", "é", "中", "😀", "\u202e", "\x00", "ab ", "+1 202 555 0175,"]),
    st.sampled_from(LENGTHS),
)
unicode_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
hostile = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.sampled_from(ODD_NUMBERS),
    st.sampled_from(ODD_DATES + ODD_TIMES),
    unicode_text,
    long_text,
    st.sampled_from(BAD_BYTES) | st.binary(max_size=12),
)
Value = str | bytes


def field_values(plausible: st.SearchStrategy | None = None) -> st.SearchStrategy[list[Value]]:
    """One field's values: usually one (plausible or hostile), sometimes none or several."""
    value = st.one_of(plausible, hostile) if plausible is not None else hostile

    @st.composite
    def draw_values(draw):
        shape = draw(st.integers(0, 11))
        if shape == 0:
            return []  # missing
        if shape == 1:
            return draw(st.lists(value, min_size=2, max_size=3))  # duplicated
        return [draw(value)]

    return draw_values()


def sample(*values) -> st.SearchStrategy:
    return st.sampled_from(values)


def _as_text(value: Value) -> str:
    # Werkzeug's url-encoded form parser keeps invalid UTF-8 bytes as their %XX escapes.
    return value.decode("utf-8", "werkzeug.url_quote") if isinstance(value, bytes) else value


@dataclass
class Submission:
    pairs: list[tuple[str, Value]]
    htmx: bool

    def values(self, name: str) -> list[str]:
        """What the server reads for `name` (bytes decoded as Werkzeug does)."""
        return [_as_text(v) for k, v in self.pairs if k == name]

    def first(self, name: str) -> str | None:
        values = self.values(name)
        return values[0] if values else None

    def __repr__(self) -> str:
        shown = [(k, v if len(v) < 80 else v[:60] + f"…({len(v)})") for k, v in self.pairs]
        return f"Submission(htmx={self.htmx}, pairs={shown!r})"


EXTRA_NAMES = ["unexpected", "submit", "csrf_token", "id", "workspace_id", "__proto__", "a[]"]


@st.composite
def submissions(draw, fields: dict[str, st.SearchStrategy[list[Value]]]) -> Submission:
    """A whole form: every field's values, now and then an unknown field, page or htmx."""
    pairs: list[tuple[str, Value]] = []
    for name, strategy in fields.items():
        pairs.extend((name, value) for value in draw(strategy))
    if draw(st.integers(0, 9)) == 0:
        pairs.append((draw(st.sampled_from(EXTRA_NAMES)), draw(hostile)))
    return Submission(pairs, draw(st.booleans()))


# -- judging ---------------------------------------------------------------------------------
FIELD_ERROR = re.compile(r'class="field-error"[^>]*>\s*[^<\s]')
ERROR_FLASH = re.compile(r'class="flash flash-error"[^>]*>\s*[^<\s]')
ALERT = re.compile(r'role="alert"[^>]*>\s*\S')
ERROR_PAGE = re.compile(r"<article>\s*<h1>[^<]+</h1>\s*<p>\s*[^<\s]")

ACCEPTED, REJECTED = "accepted", "rejected"


@dataclass
class FormStats:
    examples: int = 0
    requests: int = 0
    server_errors: int = 0
    rejected: int = 0
    rejected_visible: int = 0
    accepted: int = 0
    statuses: Counter = field(default_factory=Counter)
    form: bool = True  # False: a fixed list of checks, not EXAMPLES fuzzed submissions


STATS: dict[str, FormStats] = {}


class Fuzzer:
    """Posts submissions for one form and judges each answer (see the module docstring)."""

    def __init__(self, client, name: str, *, form: bool = True):
        self.client = client
        self.name = name
        self.stats = STATS.setdefault(name, FormStats(form=form))
        self.token = client.csrf_token()

    def _send(self, method: str, url: str, sub: Submission, **kwargs):
        headers = dict(HX) if sub.htmx else {}
        headers.update(kwargs.pop("headers", {}))
        self.stats.requests += 1
        response = self.client.open(url, method=method, headers=headers, **kwargs)
        self.stats.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.stats.server_errors += 1
        return response

    def post(self, url: str, sub: Submission, files: dict | None = None):
        """Post url-encoded (or multipart with `files`: {field: (bytes, filename)})."""
        self.stats.examples += 1
        pairs = list(sub.pairs)
        headers = {}
        if sub.htmx:
            headers["X-CSRFToken"] = self.token
        else:
            pairs.insert(0, ("csrf_token", self.token))
        if files:
            from io import BytesIO

            from werkzeug.datastructures import MultiDict

            data = MultiDict([(k, _as_text(v)) for k, v in pairs])
            for name, (content, filename) in files.items():
                data.add(name, (BytesIO(content), filename))
            return self._send(
                "POST", url, sub, data=data, headers=headers, content_type="multipart/form-data"
            )
        return self._send(
            "POST",
            url,
            sub,
            data=urlencode(pairs).encode("ascii"),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )

    def get(self, url: str, sub: Submission):
        self.stats.examples += 1
        return self._send("GET", url, sub, query_string=urlencode(sub.pairs))

    def _pop_flashes(self) -> list[tuple[str, str]]:
        with self.client.session_transaction() as session:
            return session.pop("_flashes", [])

    def judge(self, response, sub: Submission) -> str:
        """ACCEPTED or REJECTED; fails on a 5xx and on a refusal nobody would see."""
        status = response.status_code
        assert status < 500, f"{self.name}: {status} for {sub!r}"
        body = response.get_data(as_text=True)
        flashes = []
        if 300 <= status < 400 or response.headers.get("HX-Redirect"):
            flashes = self._pop_flashes()  # shown by the page the redirect leads to
        flashed_error = any(category == "error" for category, _ in flashes)
        shown = FIELD_ERROR.search(body) or ERROR_FLASH.search(body) or flashed_error
        if status >= 400:
            self.stats.rejected += 1
            visible = shown or ALERT.search(body) or ERROR_PAGE.search(body)
            assert visible, f"{self.name}: {status} without a visible message for {sub!r}:\n{body}"
            self.stats.rejected_visible += 1
            return REJECTED
        if shown:
            self.stats.rejected += 1
            self.stats.rejected_visible += 1
            return REJECTED
        self.stats.accepted += 1
        return ACCEPTED


def figures_line() -> str | None:
    if not STATS:
        return None
    forms = sum(s.form for s in STATS.values())
    others = sum(s.examples for s in STATS.values() if not s.form)
    examples = sum(s.examples for s in STATS.values())
    requests = sum(s.requests for s in STATS.values())
    errors = sum(s.server_errors for s in STATS.values())
    rejected = sum(s.rejected for s in STATS.values())
    visible = sum(s.rejected_visible for s in STATS.values())
    accepted = sum(s.accepted for s in STATS.values())
    return (
        f"{forms} forms × {EXAMPLES} examples (+ {others} fixed checks) = {requests} requests "
        f"({examples} submissions, page and htmx), {errors} × 500, rejected {rejected} with a "
        f"visible message {visible}/{rejected}, accepted {accepted} with valid stored/sent "
        "data"
    )
