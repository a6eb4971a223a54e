"""SMS encoding, length and segment count, exactly as the gateway computes them (reference §13).

The portal (live compose panel, estimates) and the simulator (charging) both use this module,
so an estimate can never disagree with what the gateway charges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM_7BIT = "GSM_7BIT"
GSM_7BIT_EX = "GSM_7BIT_EX"
UTF16 = "UTF16"

# The gateway's counter treats the extension characters as GSM too, but each costs two septets.
GSM_EXTENSION = frozenset("^{}\\[]~|€\f")

# Printable ASCII except the backtick (which the gateway's table lacks, so it forces UCS-2)
# and the extension characters, plus LF, CR and the non-ASCII letters of GSM 03.38.
GSM_BASIC = (frozenset(chr(c) for c in range(0x20, 0x7F)) - {"`"} - GSM_EXTENSION) | frozenset(
    "\n\r£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà"
)

LIMITS = {
    GSM_7BIT: (160, 153),
    GSM_7BIT_EX: (160, 153),
    UTF16: (70, 67),
}


@dataclass(frozen=True)
class SegmentInfo:
    """How the gateway will count one message text."""

    encoding: str
    length: int
    segments: int
    per_part: int
    unicode_chars: tuple[str, ...] = ()

    @property
    def is_unicode(self) -> bool:
        return self.encoding == UTF16


def detect_encoding(text: str) -> str:
    """Return GSM_7BIT, GSM_7BIT_EX or UTF16 for the text."""
    if any(ch not in GSM_BASIC and ch not in GSM_EXTENSION for ch in text):
        return UTF16
    if any(ch in GSM_EXTENSION for ch in text):
        return GSM_7BIT_EX
    return GSM_7BIT


def message_length(text: str, encoding: str) -> int:
    """Return the length the gateway counts: septets for GSM, UTF-16 code units for UCS-2."""
    if encoding == UTF16:
        return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)
    return len(text) + sum(1 for ch in text if ch in GSM_EXTENSION)


def unicode_characters(text: str) -> tuple[str, ...]:
    """Return the distinct characters, in order of appearance, that force UCS-2."""
    seen: dict[str, None] = {}
    for ch in text:
        if ch not in GSM_BASIC and ch not in GSM_EXTENSION:
            seen.setdefault(ch)
    return tuple(seen)


def count_segments(text: str) -> SegmentInfo:
    """Return encoding, length and segment count of a message text."""
    encoding = detect_encoding(text)
    length = message_length(text, encoding)
    single, multi = LIMITS[encoding]
    per_part = single if length <= single else multi
    segments = math.ceil(length / per_part) if length else 0
    return SegmentInfo(encoding, length, segments, per_part, unicode_characters(text))
