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
