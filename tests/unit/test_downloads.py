"""Content-Disposition for any file name (issue 12 item 17: a Chinese group name gave a 500)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

from app.downloads import ascii_fallback, attachment


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("contacts-12.csv", "contacts-12.csv"),
        ("客户名单-12.csv", "12.csv"),
        ("Café Müller-3.csv", "Cafe-Muller-3.csv"),
        ('a"b;c\r\nd.csv', "a-b-c-d.csv"),
        ("名单.csv", "download.csv"),
    ],
)
def test_the_header_is_ascii_and_carries_the_real_name(name, fallback):
    assert ascii_fallback(name) == fallback
    header = attachment(name)
    header.encode("ascii")  # a header Werkzeug and every proxy accept
    Headers([("Content-Disposition", header)])  # no newline can split it
    _, options = parse_options_header(header)
    assert options["filename"] == name  # RFC 6266: filename* wins where it is understood
