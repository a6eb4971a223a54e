"""Phone number handling for the client: digits-only normalisation and masking for messages."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import InvalidRequestError

# The gateway strips these before parsing (reference §11); anything else is not a phone number.
_SEPARATORS = re.compile(r"[\s+()\-./]")
# Seven or more digits standing alone: inside a word they are part of a uid such as
# "60a1234567b" (which the member needs to see whole), not a phone number.
_DIGIT_RUN = re.compile(r"(?<![A-Za-z0-9_])\d{7,}(?![A-Za-z0-9_])")
MIN_DIGITS, MAX_DIGITS = 7, 15


def mask_phone(digits: str) -> str:
    """Return the number with all but its last four digits hidden."""
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_numbers(text: str) -> str:
    """Return text with every free-standing run of seven or more digits masked."""
    return _DIGIT_RUN.sub(lambda match: mask_phone(match.group()), text)


def normalise_phone(value: str | int, *, position: int | None = None) -> str:
    """Return the number as digits with country code. Raises InvalidRequestError."""
    where = "phone number" if position is None else f"recipient #{position}"
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InvalidRequestError(f"{where} must be a string or an integer")
    digits = _SEPARATORS.sub("", str(value))
    if not digits.isdigit() or not digits.isascii():
        raise InvalidRequestError(f"{where} must contain only digits and + ( ) - . / spaces")
    if digits.startswith("00"):
        digits = digits[2:]  # the international call prefix: what follows is the country code
    if digits.startswith("0"):
        # A national (trunk) prefix: the gateway would read the next digits as a country code
        # and send to another country, or (M, §9.1.3) strip it and do the same.
        raise InvalidRequestError(
            f"{where} ({mask_phone(digits)}) starts with 0, a national number: add the country code"
        )
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise InvalidRequestError(
            f"{where} ({mask_phone(digits)}) must have {MIN_DIGITS} to {MAX_DIGITS} digits "
            "including the country code"
        )
    return digits


def normalise_recipients(recipients: str | int | Iterable[str | int]) -> list[str]:
    """Return unique digit-only numbers in first-seen order. Raises InvalidRequestError.

    A string may hold several numbers separated by commas, as the gateway's own parameter does.
    """
    if isinstance(recipients, str):
        items: list[str | int] = [part for part in recipients.split(",") if part.strip()]
    elif isinstance(recipients, int):
        items = [recipients]
    else:
        items = list(recipients)
    numbers = [normalise_phone(item, position=index + 1) for index, item in enumerate(items)]
    unique = list(dict.fromkeys(numbers))
    if not unique:
        raise InvalidRequestError("at least one recipient is required")
    return unique


def split_evenly(numbers: list[str], size: int) -> list[list[str]]:
    """Return chunks of at most `size`, as equal as possible.

    Equal chunks matter: a chunk of exactly one number would go to the gateway's single path,
    which ignores schedule_time and answers in another shape (reference §9.1.3).
    """
    count = -(-len(numbers) // size)
    base, extra = divmod(len(numbers), count)
    chunks, start = [], 0
    for index in range(count):
        end = start + base + (1 if index < extra else 0)
        chunks.append(numbers[start:end])
        start = end
    return chunks
