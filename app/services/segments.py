"""Segments as the gateway charges them, for the compose estimate and the outbox's drafts.

Its own module so that services/compose.py can build the outbox's Draft (it imports the
outbox) while the outbox counts segments without importing compose back.
"""

from __future__ import annotations

from ..gotone.segments import SegmentInfo, count_segments
from ..models.outbox import MMS, VOICE


def message_segments(text: str, sms_type: str) -> SegmentInfo:
    """Segments as the gateway charges them (MMS and voice cost at least one)."""
    info = count_segments(text)
    if info.segments == 0 and sms_type in (MMS, VOICE):
        return SegmentInfo(info.encoding, info.length, 1, info.per_part, info.unicode_chars)
    return info
