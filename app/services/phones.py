"""Phone numbers as people type them, turned into what the gateway expects.

Every number is checked here, with the workspace's default country for numbers typed without
a country code, before it costs a gateway call: the gateway only wants digits with the
country code (reference §11) and answers bad numbers with terse, sometimes buggy, texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from flask_babel import gettext as _
from phonenumbers import NumberParseException, ValidationResult

from ..exceptions import PhoneError

# Commas, semicolons and line breaks separate numbers in pasted lists; spaces do not
# (people write "+1 202 555 0775").
_LIST_SEPARATORS = re.compile(r"[,;\n\r\t]+")
MAX_INPUT_LENGTH = 40


def _reason_for_parse_error(error: NumberParseException) -> str:
    reasons = {
        NumberParseException.INVALID_COUNTRY_CODE: _("The country code is not valid."),
        NumberParseException.NOT_A_NUMBER: _("This is not a phone number."),
        NumberParseException.TOO_SHORT_AFTER_IDD: _("The number is too short."),
        NumberParseException.TOO_SHORT_NSN: _("The number is too short."),
        NumberParseException.TOO_LONG: _("The number is too long."),
    }
    return reasons.get(error.error_type, _("This is not a phone number."))


def _reason_for_impossible(number: phonenumbers.PhoneNumber) -> str:
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        return _("The country code is not valid.")
    if reason == ValidationResult.TOO_SHORT:
        return _("The number is too short for its country.")
    if reason == ValidationResult.TOO_LONG:
        return _("The number is too long for its country.")
    return _("The number has the wrong length for its country.")


def parse_phone(raw: str, default_country: str | None) -> str:
    """Return the number as digits with country code (E.164 without '+'). Raises PhoneError.

    A number without a country code takes `default_country` (an ISO region such as "US").
    """
    text = (raw or "").strip()
    if not text:
        raise PhoneError(_("Enter a phone number."))
    if len(text) > MAX_INPUT_LENGTH:
        raise PhoneError(_("The number is too long."))
    if text.startswith("00"):
        text = "+" + text[2:]
    region = None if text.startswith("+") else (default_country or "").upper() or None
    if region is None and not text.startswith("+"):
        raise PhoneError(_("Add the country code, for example +1 202 555 0775."))
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        raise PhoneError(_reason_for_parse_error(error)) from None
    if not phonenumbers.is_possible_number(number):
        raise PhoneError(_reason_for_impossible(number))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


@dataclass(frozen=True)
class PhoneList:
    """Numbers parsed from a pasted list: the good ones in order, and the rejected ones."""

    numbers: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...]  # (what was typed, why it was refused)
    duplicates: int


def parse_phone_list(text: str, default_country: str | None) -> PhoneList:
    """Split a pasted list on commas, semicolons and line breaks; parse each number once."""
    numbers: dict[str, None] = {}
    invalid: list[tuple[str, str]] = []
    duplicates = 0
    for item in _LIST_SEPARATORS.split(text or ""):
        if not item.strip():
            continue
        try:
            digits = parse_phone(item, default_country)
        except PhoneError as error:
            invalid.append((item.strip(), str(error)))
            continue
        if digits in numbers:
            duplicates += 1
        numbers.setdefault(digits)
    return PhoneList(tuple(numbers), tuple(invalid), duplicates)


def from_gateway(raw: str | int | None) -> str:
    """A number as the gateway stores and returns it: digits WITH the country code, no "+"
    (8801721970125). Never read with the workspace's default country: as a US number that one
    is invalid, and a UK number read as Chinese would be another person's. Raises PhoneError.
    """
    text = str(raw if raw is not None else "").strip()
    if not text:
        raise PhoneError(_("Enter a phone number."))
    return parse_phone("+" + text.lstrip("+"), None)


def e164(digits: str) -> str:
    """Digits with the country code written as E.164 ("+" first), as exports write them: the
    import then reads the country from the number whatever the importer's default country."""
    return "+" + digits.lstrip("+")
