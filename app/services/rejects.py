"""The files a member downloads from an import: every line not imported, with the reason,
as CSV that can be fixed and imported again; and the cell rules every CSV we write follows."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

from ..exceptions import PhoneError
from ..extensions import db
from ..models import Job, JobItem, Workspace
from . import jobs
from .gotone import get_settings
from .phones import e164, parse_phone

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_LIKE = re.compile(r"^\+[0-9][0-9 ().\-]*$")


def safe_cell(value: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula (= + - @, tab, CR)."""
    text = value or ""
    return "'" + text if text.startswith(_FORMULA_START) else text


def safe_phone_cell(value: str) -> str:
    """safe_cell for a phone column: a number as people write it ("+44 20 7946 0958") stays
    as it is. Digits and + ( ) . - space make no formula that calls anything, and a quote in
    front would turn the number into one the import refuses."""
    text = value or ""
    return text if _PHONE_LIKE.match(text) else safe_cell(text)


REJECTS_HEADER = ["row", "phone", "first_name", "last_name", "reason"]
REJECTS_CHUNK = 1000


def rejects_chunk(
    job_id: int, after_seq: int = 0, limit: int = REJECTS_CHUNK
) -> tuple[str, int | None]:
    """CSV text of the rejected (and failed) lines after row `after_seq`, and the last row in
    it (None when there are no more). The header comes first, with after_seq=0."""
    buffer = _LineBuffer()
    writer = csv.writer(buffer)
    if after_seq == 0:
        # Machine-readable column names (not translated): the file can be fixed and re-imported.
        writer.writerow(REJECTS_HEADER)
    last = None
    country = None
    for item in jobs.rejected_items(job_id, limit, after_seq=after_seq):
        if country is None:
            workspace = db.session.get_one(Workspace, db.session.get_one(Job, job_id).workspace_id)
            country = get_settings(workspace).default_country or ""
        writer.writerow(
            [
                item.seq,
                _rejected_phone(item, country),
                safe_cell(item.first_name),
                safe_cell(item.last_name),
                safe_cell(item.reason or ""),
            ]
        )
        last = item.seq
    return buffer.take(), last


def _rejected_phone(item: JobItem, country: str) -> str:
    """The number in the format the export writes (E.164 with "+") whenever it is one - a
    repeated line, a number the gateway refused - so a fixed rejects file imports again under
    any default country; what the file said when it is no number at all."""
    if item.phone:
        return e164(item.phone)
    try:
        return e164(parse_phone(item.raw_phone, country or None))
    except PhoneError:
        return safe_phone_cell(item.raw_phone)


def rejects_csv(job_id: int) -> Iterator[str]:
    """The whole rejects file, chunk by chunk (inside one app context)."""
    after: int | None = 0
    while after is not None:
        text, after = rejects_chunk(job_id, after)
        if text:
            yield text


class _LineBuffer:
    """A write() target for csv.writer that hands back what was written since last time."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text
