"""Reading contact files: header mapping, delimiters, encodings, and memory that stays flat."""

from __future__ import annotations

import tracemalloc

import pytest

from app.services.spreadsheets import FileProblem, auto_map, iter_rows, sniff


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


def test_reading_a_big_file_keeps_memory_flat(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w") as fh:
        fh.write("phone,first_name,last_name\n")
        for n in range(200_000):
            fh.write(f"+1202{5_000_000 + n:07d},First{n},Last{n}\n")
    info = sniff(path)
    tracemalloc.start()
    count = sum(1 for _ in iter_rows(path, info))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 200_000
    assert peak < 2 * 1024 * 1024, peak  # the file is about 8 MB


def _xlsx_bomb(path, shared_mb: int, lie: bool = False) -> None:
    """A valid workbook whose one shared string is `shared_mb` MB of the same letter (a zip
    of about 0.3 MB for 300 MB). With `lie`, the archive declares the string 1 KB long."""
    import struct
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["phone"])
    book.active.append(["x"])
    book.save(path)
    with zipfile.ZipFile(path) as src:
        parts = {info.filename: src.read(info) for info in src.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in parts.items():
            if name != "xl/sharedStrings.xml":
                out.writestr(name, data)
        with out.open("xl/sharedStrings.xml", "w") as fh:
            fh.write(b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
                     b'spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>phone</t>'
                     b"</si><si><t>")  # fmt: skip
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
