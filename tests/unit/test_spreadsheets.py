"""Reading contact files: header mapping, delimiters, encodings, and memory that stays flat."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from app.exceptions import FileProblem
from app.services.spreadsheets import auto_map, iter_rows, sniff

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "headers, expected",
    [
        (["Phone", "First Name", "Last Name"], {"phone": 0, "first_name": 1, "last_name": 2}),
        (["surname", "given_name", "MSISDN"], {"phone": 2, "first_name": 1, "last_name": 0}),
        (["姓名", "手机号码"], {"phone": 1, "first_name": 0, "last_name": None}),
        (["Customer mobile no.", "Notes"], {"phone": 0, "first_name": None, "last_name": None}),
        (["Company", "City"], {"phone": None, "first_name": None, "last_name": None}),
    ],
)
def test_headers_map_to_the_contact_fields(headers, expected):
    assert auto_map(headers) == expected


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_recognised(tmp_path, delimiter):
    path = tmp_path / "f.csv"
    path.write_text(delimiter.join(["phone", "first name"]) + "\n+12025550100" + delimiter + "A\n")
    info = sniff(path)
    assert info.delimiter == delimiter and info.mapping["phone"] == 0
    assert list(iter_rows(path, info)) == [(2, ["+12025550100", "A"])]


def test_utf16_text_from_excel_is_read(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("Phone\tName\n+12025550100\tZoë\n".encode("utf-16"))
    info = sniff(path)
    assert info.encoding == "utf-16"
    assert list(iter_rows(path, info)) == [(2, ["+12025550100", "Zoë"])]


def test_bad_bytes_after_the_sample_name_the_row(tmp_path):
    path = tmp_path / "late.csv"
    path.write_bytes(b"phone\n" + b"+12025550100\n" * 10_000 + b"M\xfcller\n")
    info = sniff(path)
    with pytest.raises(FileProblem, match="Row 10002 is not UTF-8"):
        list(iter_rows(path, info))


_FLAT_MEMORY = """
import sys, tracemalloc
from pathlib import Path
from app.services.spreadsheets import iter_rows, sniff
path = Path(sys.argv[1])
info = sniff(path)
tracemalloc.start()
count = sum(1 for _ in iter_rows(path, info))
print(count, tracemalloc.get_traced_memory()[1])
"""


def test_reading_a_big_file_keeps_memory_flat(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w") as fh:
        fh.write("phone,first_name,last_name\n")
        for n in range(200_000):
            fh.write(f"+1202{5_000_000 + n:07d},First{n},Last{n}\n")
    # A process of its own: tracemalloc counts every thread, and an earlier test's threads
    # (a simulator, a log reader) allocate in this one while the rows are read.
    out = subprocess.run(
        [sys.executable, "-c", _FLAT_MEMORY, str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    ).stdout
    count, peak = map(int, out.split())
    assert count == 200_000
    assert peak < 2 * 1024 * 1024, peak  # the file is about 8 MB


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0"?><Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets><sheet '
        'name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0"?><Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        f'Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
    "xl/worksheets/sheet1.xml": (
        f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}"><sheetData><row r="1"><c r="A1" '
        't="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData>'
        "</worksheet>"
    ),
}


def _xlsx_bomb(path, shared_mb: int, lie: bool = False) -> None:
    """A workbook whose second shared string is `shared_mb` MB of one letter (0.3 MB of zip
    for 300 MB), which openpyxl loads whole when it opens the file. With `lie`, the archive
    declares the shared strings 1 KB long."""
    import struct
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, text in _XLSX_PARTS.items():
            out.writestr(name, text)
        with out.open("xl/sharedStrings.xml", "w") as fh:
            fh.write(
                f'<?xml version="1.0"?><sst xmlns="{_MAIN}" count="2" uniqueCount="2">'
                "<si><t>phone</t></si><si><t>".encode()
            )
            chunk = b"A" * (1024 * 1024)
            for _ in range(shared_mb):
                fh.write(chunk)
            fh.write(b"</t></si></sst>")
    if lie:
        data = bytearray(path.read_bytes())
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("xl/sharedStrings.xml")
        # The uncompressed size in the local header (offset 22) and the central directory
        # entry (offset 24), which is the one readers believe.
        struct.pack_into("<I", data, info.header_offset + 22, 1024)
        start = data.find(b"PK\x01\x02")
        while start != -1:
            name_len = struct.unpack_from("<H", data, start + 28)[0]
            if data[start + 46 : start + 46 + name_len] == b"xl/sharedStrings.xml":
                struct.pack_into("<I", data, start + 24, 1024)
            start = data.find(b"PK\x01\x02", start + 4)
        path.write_bytes(bytes(data))


def test_the_bomb_is_a_real_workbook(tmp_path):
    """The generated file is what openpyxl opens and reads (a small one, to check)."""
    path = tmp_path / "small.xlsx"
    _xlsx_bomb(path, 1)
    info = sniff(path, "small.xlsx")
    assert info.headers == ["phone"]
    assert [len(c[0]) for _, c in iter_rows(path, info)] == [1024 * 1024]  # loaded whole


@pytest.mark.parametrize("lie", [False, True], ids=["declared", "lying-header"])
def test_an_xlsx_bomb_is_refused_with_bounded_memory(tmp_path, lie):
    """Issue 12 item 7: 0.3 MB holding a 300 MB shared string took a worker to 717 MB."""
    path = tmp_path / "bomb.xlsx"
    _xlsx_bomb(path, 300, lie=lie)
    assert path.stat().st_size < 1024 * 1024
    tracemalloc.start()
    with pytest.raises(FileProblem) as refused:
        sniff(path, "bomb.xlsx")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    expected = "cannot be opened" if lie else "unpacks to far more data"
    assert expected in str(refused.value)
    assert peak < 20 * 1024 * 1024, peak


def test_an_ordinary_xlsx_still_opens(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Phone", "Name"])
    for n in range(2000):
        book.active.append([f"+1202555{n:04d}", f"Name {n}"])
    path = tmp_path / "ok.xlsx"
    book.save(path)
    info = sniff(path, "ok.xlsx")
    assert info.mapping["phone"] == 0 and sum(1 for _ in iter_rows(path, info)) == 2000
