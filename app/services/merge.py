"""Merge fields in message texts: {first_name}, {last_name}, {phone}, with fallbacks.

`{first_name|there}` becomes the recipient's first name, or "there" when it is empty. A field
without a fallback becomes an empty string for a recipient who lacks it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..gotone.segments import count_segments

FIELDS = ("first_name", "last_name", "phone")
FIELD_RE = re.compile(r"\{(first_name|last_name|phone)(?:\|([^{}]*))?\}")


@dataclass(frozen=True)
class Recipient:
    phone: str
    first_name: str = ""
    last_name: str = ""


def has_fields(text: str) -> bool:
    """Tell whether the text holds at least one merge field."""
    return FIELD_RE.search(text) is not None


def render(text: str, recipient: Recipient) -> str:
    """The text this recipient gets."""

    def value(match: re.Match) -> str:
        own = (getattr(recipient, match.group(1)) or "").strip()
        return own or (match.group(2) or "")

    return FIELD_RE.sub(value, text)


def empty_fields(text: str, recipient: Recipient) -> tuple[bool, bool]:
    """(a field the text uses is empty for this recipient, one of those has no fallback)."""
    empty = gap = False
    for match in FIELD_RE.finditer(text):
        if not (getattr(recipient, match.group(1)) or "").strip():
            empty = True
            gap = gap or match.group(2) is None
    return empty, gap


@dataclass(frozen=True)
class MergeSummary:
    previews: list[tuple[Recipient, str]]
    empty_fields: int  # recipients with an empty field that the text uses
    gaps: int  # ...of whom a field has no fallback, so their text has a hole
    worst_segments: int
    worst_text: str


def summarise(text: str, recipients: list[Recipient], previews: int = 3) -> MergeSummary:
    """A few rendered previews, how many lack a field, and the worst-case segment count."""
    worst, worst_text, empty, gaps = 0, render(text, Recipient("")), 0, 0
    for recipient in recipients:
        rendered = render(text, recipient)
        segments = count_segments(rendered).segments
        if segments > worst:
            worst, worst_text = segments, rendered
        lacks, gap = empty_fields(text, recipient)
        empty += lacks
        gaps += gap
    shown = [(r, render(text, r)) for r in recipients[:previews]]
    if not recipients:
        worst = count_segments(worst_text).segments
    return MergeSummary(shown, empty, gaps, worst, worst_text)
