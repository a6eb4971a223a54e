"""The Content-Disposition of every file the portal serves (RFC 6266, RFC 8187).

A header is Latin-1 on the wire: a group called 客户 cannot go into `filename="..."` as it is
(Werkzeug refuses the header, the download answered 500). `filename*` carries the real name
in UTF-8, percent-encoded; `filename` keeps an ASCII stand-in for clients that ignore it.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

_NOT_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_fallback(filename: str, default: str = "download") -> str:
    """The name with accents dropped and anything else outside [A-Za-z0-9._-] as one '-'."""
    plain = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    stem, dot, ext = _NOT_SAFE.sub("-", plain).rpartition(".")
    if not dot:
        stem, ext = ext, ""
    stem = stem.strip("-.") or default
    return f"{stem}.{ext}" if ext else stem


def attachment(filename: str) -> str:
    """`attachment; filename="<ascii>"; filename*=UTF-8''<name>` for any name."""
    fallback = ascii_fallback(filename)
    if fallback == filename:
        return f'attachment; filename="{filename}"'
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
