"""Contact phone rules (reference §11.2)."""

from __future__ import annotations

import re

import phonenumbers

# app/Rules/Phone.php: optional +/00 and a 1-3 digit country code (maybe in parentheses),
# digit groups split by space, dot, dash or slash, an optional extension.
_PATTERN = re.compile(
    r"^(?:\+|00)?(?:\(\d{1,3}\)|\d{1,3})?[\s./-]?(?:\(?\d+\)?[\s./-]?)*\d+"
    r"(?:\s*(?:#|x\.?|ext\.?|extension)\s*\d+)?$",
    re.IGNORECASE,
)
_STRIP = re.compile(r"[+\-() ]")


def matches_pattern(raw: str) -> bool:
    """Length first (7-17 characters), which also bounds the pattern's backtracking."""
    return 7 <= len(raw) <= 17 and bool(_PATTERN.match(raw))


def normalise(raw: str) -> str:
    """Digits only, as stored (`+ ( ) - space` removed, anything else dropped too)."""
    return re.sub(r"\D", "", _STRIP.sub("", raw))


def is_possible(digits: str) -> bool:
    if not digits:
        return False
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse("+" + digits))
    except phonenumbers.NumberParseException:
        return False
