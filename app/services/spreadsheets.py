"""Contact files as people make them: CSV (any common delimiter) or XLSX, read row by row.

Nothing here loads a whole file: CSV goes through the csv module over a text wrapper, XLSX
through openpyxl's read-only mode. `sniff` looks at the start of a file and refuses, with a
message a member can act on, what cannot be read: empty, binary, the old .xls format, not
UTF-8 (or UTF-16) text, an XLSX that is not one. Header names are mapped to phone, first name
and last name automatically; the member can override the mapping.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from ..exceptions import FileProblem

SAMPLE_BYTES = 64 * 1024
FIELDS = ("phone", "first_name", "last_name")
MAX_CELL = 200
MAX_COLUMNS = 200
# Limits of an XLSX (a zip) before it is opened. A 50 MB contact sheet unpacks to a few
# hundred MB of XML at most, compressed 5-20 times; the shared strings (names) are loaded
# whole, so they get the lowest cap.
XLSX_MAX_UNPACKED = 500 * 1024 * 1024
XLSX_MAX_SHARED_STRINGS = 32 * 1024 * 1024
XLSX_MAX_ENTRIES = 1000
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM = 8 * 1024 * 1024  # small parts may compress better: they cost little

# Header names, compared lower-case with spaces, dots, dashes and underscores removed.
_HEADER_NAMES = {
    "phone": {
        "phone",
        "phonenumber",
        "phoneno",
        "mobile",
        "mobilenumber",
        "mobilephone",
        "cell",
        "cellphone",
        "cellular",
        "tel",
        "telephone",
        "number",
        "msisdn",
        "contact",
        "contactnumber",
        "recipient",
        "whatsapp",
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "电话号码",
        "号码",
        "联系电话",
    },
    "first_name": {
        "firstname",
        "first",
        "givenname",
        "forename",
        "name",
        "fname",
        "名",
        "名字",
        "姓名",
    },
    "last_name": {"lastname", "last", "surname", "familyname", "lname", "姓", "姓氏"},
}
_NORMALISE_HEADER = re.compile(r"[\s._\-/]+")
_LOOKS_LIKE_PHONE = re.compile(r"^\+?[\d\s().\-]{6,20}$")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes that were not valid text


@dataclass
class FileInfo:
    """What sniff() learnt: how to read the file, its first row, the automatic mapping."""

    format: str  # "csv" | "xlsx"
    encoding: str = "utf-8"
    delimiter: str = ","
    has_header: bool = True
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, int | None] = field(default_factory=dict)

    def options(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "has_header": self.has_header,
            "headers": self.headers,
            "mapping": self.mapping,
        }

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> FileInfo:
        return cls(
            format=options["format"],
            encoding=options.get("encoding", "utf-8"),
            delimiter=options.get("delimiter", ","),
            has_header=bool(options.get("has_header", True)),
            headers=list(options.get("headers") or []),
            mapping=dict(options.get("mapping") or {}),
        )


def column_labels(info: FileInfo) -> list[str]:
    """A label per column: the header text, or "Column N" for files without a header."""
    labels = []
    for index, name in enumerate(info.headers):
        text = name.strip() if info.has_header else ""
        labels.append(text or _("Column %(n)s", n=index + 1))
    return labels


def _key(name: str) -> str:
    return _NORMALISE_HEADER.sub("", (name or "").strip().lower())


def auto_map(headers: list[str]) -> dict[str, int | None]:
    """Map header names to the contact fields; unknown fields are None."""
    mapping: dict[str, int | None] = dict.fromkeys(FIELDS)
    keys = [_key(h) for h in headers]
    for name in FIELDS:
        for index, key in enumerate(keys):
            if key in _HEADER_NAMES[name] and index not in mapping.values():
                mapping[name] = index
                break
    if mapping["phone"] is None:
        # "Phone number (mobile)", "Mobile no.", "客户手机": a header that contains a phone word.
        for index, key in enumerate(keys):
            if index not in mapping.values() and re.search(r"phone|mobile|手机|电话", key):
                mapping["phone"] = index
                break
    return mapping


def cell_text(value: Any) -> str:
    """A cell as text: spreadsheets store numbers as floats (4915..0.0) - give the digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()[:MAX_CELL]


def _decode_sample(raw: bytes) -> tuple[str, str]:
    """(encoding, text) for the file's first bytes; FileProblem when it is not text."""
    if raw.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode text" (tab separated)
    else:
        encoding = "utf-8"
    if encoding != "utf-16" and b"\x00" in raw:
        raise FileProblem(_("This file is not a CSV or Excel file."))
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        text = decoder.decode(raw, final=False)  # a character cut at the sample's end is fine
    except UnicodeDecodeError:
        raise FileProblem(
            _(
                "The file is not UTF-8 text. In Excel choose “Save as” → “CSV UTF-8”, "
                "or upload the .xlsx file."
            )
        ) from None
    return encoding, text


def sniff(path: Path, filename: str = "") -> FileInfo:
    """Recognise the file and its columns. Raises FileProblem."""
    size = path.stat().st_size
    if size == 0:
        raise FileProblem(_("The file is empty."))
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if head.startswith(_OLE_MAGIC):
        raise FileProblem(
            _(
                "Old Excel files (.xls) cannot be read. Save the file as .xlsx or "
                "CSV UTF-8 and upload it again."
            )
        )
    if head.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        info = FileInfo(format="xlsx")
    else:
        encoding, text = _decode_sample(head)
        info = FileInfo(format="csv", encoding=encoding, delimiter=_delimiter(text))
    first = next(iter_rows(path, info, include_header=True), None)
    if first is None:
        raise FileProblem(_("The file is empty."))
    info.headers = [cell_text(c) for c in first[1]][:MAX_COLUMNS]
    info.mapping = auto_map(info.headers)
    if info.mapping["phone"] is None:
        phone_column = next(
            (i for i, c in enumerate(info.headers) if _LOOKS_LIKE_PHONE.match(c)), None
        )
        if phone_column is not None:
            # No header row: the first line is already a contact.
            info.has_header = False
            info.mapping = {"phone": phone_column, "first_name": None, "last_name": None}
            others = [i for i in range(len(info.headers)) if i != phone_column]
            if others:
                info.mapping["first_name"] = others[0]
            if len(others) > 1:
                info.mapping["last_name"] = others[1]
    return info


def _delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        first = lines[0]
        counts = {d: first.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.__getitem__)
        return best if counts[best] else ","


def iter_rows(
    path: Path, info: FileInfo, *, include_header: bool = False, start_after: int = 0
) -> Iterator[tuple[int, list[Any]]]:
    """(row number as a spreadsheet shows it, cells) for each row, streamed.

    Rows up to `start_after` are skipped (a resumed dry run); the header row unless asked.
    Raises FileProblem for a file that turns out unreadable part way (bad encoding, bad zip).
    """
    rows = _xlsx_rows(path) if info.format == "xlsx" else _csv_rows(path, info)
    skip_header = info.has_header and not include_header
    for number, cells in rows:
        if number == 1 and skip_header:
            continue
        if number <= start_after:
            continue
        yield number, cells


def _csv_rows(path: Path, info: FileInfo) -> Iterator[tuple[int, list[Any]]]:
    with open(path, "rb") as raw:
        # surrogateescape, then a check per row: the wrapper decodes ahead in blocks, so a
        # strict decoder would name a row before the bad one.
        text = io.TextIOWrapper(raw, encoding=info.encoding, errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=info.delimiter)
        number = 0
        try:
            for cells in reader:
                number += 1
                if any(_UNDECODABLE.search(cell) for cell in cells):
                    raise FileProblem(
                        _(
                            "Row %(n)s is not UTF-8 text. Save the file as “CSV "
                            "UTF-8” and upload it again.",
                            n=number,
                        )
                    )
                yield number, cells[:MAX_COLUMNS]
        except csv.Error as error:
            raise FileProblem(
                _("Row %(n)s cannot be read as CSV (%(why)s).", n=number + 1, why=str(error)[:100])
            ) from None


def check_archive(fh) -> None:
    """Refuse a zip bomb before openpyxl unpacks anything (it reads the shared strings whole:
    0.3 MB holding a 300 MB string took a worker from 124 to 717 MB).

    The sizes checked are the archive's declared ones, and they also cap what is read: the
    zip reader stops at an entry's declared size. The shared strings are read through once
    here (at most their cap): an entry holding more than it declares fails its CRC check.
    """
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, OSError, ValueError):
        fh.seek(0)
        return  # not a zip: openpyxl's own refusal says it cannot be opened
    try:
        entries = archive.infolist()
        total = sum(entry.file_size for entry in entries)
        if (
            len(entries) > XLSX_MAX_ENTRIES
            or total > XLSX_MAX_UNPACKED
            or any(_too_packed(entry) for entry in entries)
        ):
            raise FileProblem(
                _(
                    "This Excel file unpacks to far more data than a contact list "
                    "holds (%(mb)s MB), so it was not opened. Save it as CSV "
                    "UTF-8, or split it, and upload it again.",
                    mb=max(1, total // (1024 * 1024)),
                )
            )
        for entry in entries:
            if _is_shared_strings(entry):
                with archive.open(entry) as member:
                    while member.read(1024 * 1024):
                        pass
    except FileProblem:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise FileProblem(_cannot_open()) from None
    finally:
        archive.close()
        fh.seek(0)


def _is_shared_strings(entry: zipfile.ZipInfo) -> bool:
    return entry.filename.lower().endswith("sharedstrings.xml")


def _too_packed(entry: zipfile.ZipInfo) -> bool:
    if _is_shared_strings(entry) and entry.file_size > XLSX_MAX_SHARED_STRINGS:
        return True
    ratio = entry.file_size / max(entry.compress_size, 1)
    return entry.file_size > XLSX_RATIO_FROM and ratio > XLSX_MAX_RATIO


def _cannot_open() -> str:
    return _("This Excel file cannot be opened. Save it again as .xlsx or CSV UTF-8.")


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    # A file object, not the path: the stored upload has no .xlsx suffix for openpyxl to check.
    with open(path, "rb") as fh:
        check_archive(fh)
        try:
            book = load_workbook(fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError):
            raise FileProblem(_cannot_open()) from None
        try:
            sheet = book.worksheets[0] if book.worksheets else None
            if sheet is None:
                return
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(values[:MAX_COLUMNS])
        except (zipfile.BadZipFile, EOFError):
            # A sheet holding more than it declares fails its CRC check at its end.
            raise FileProblem(_cannot_open()) from None
        finally:
            book.close()
