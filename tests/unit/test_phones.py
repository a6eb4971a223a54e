"""Phone input: any common formatting in, digits with the country code out, clear refusals."""

import pytest
from flask import Flask
from flask_babel import Babel

from app.exceptions import PhoneError
from app.services.phones import parse_phone, parse_phone_list


@pytest.fixture(autouse=True)
def babel_context():
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    ("raw", "country", "digits"),
    [
        ("+1 (202) 555-0775", "NL", "12025550775"),
        ("(202) 555-0775", "US", "12025550775"),
        ("202.555.0775", "US", "12025550775"),
        ("0612345678", "NL", "31612345678"),
        ("06-12 34 56 78", "nl", "31612345678"),
        ("0031 6 12345678", "US", "31612345678"),
        ("+39 06 1234 5678", "US", "390612345678"),
        ("  +8801721970168 ", None, "8801721970168"),
    ],
)
def test_common_formats_become_digits_with_the_country_code(raw, country, digits):
    assert parse_phone(raw, country) == digits


@pytest.mark.parametrize(
    ("raw", "country", "reason"),
    [
        ("", "US", "Enter a phone number"),
        ("   ", "US", "Enter a phone number"),
        ("hello", "US", "not a phone number"),
        ("12", "US", "too short"),
        ("+1 202 555 0775 1234 5678", "US", "too long"),
        ("+999 1234567", "US", "country code"),
        ("202 555 0775", None, "country code"),
        ("1" * 60, "US", "too long"),
    ],
)
def test_impossible_numbers_are_refused_with_the_reason(raw, country, reason):
    with pytest.raises(PhoneError, match=reason):
        parse_phone(raw, country)


def test_a_pasted_list_keeps_order_drops_duplicates_and_lists_the_invalid():
    result = parse_phone_list("+1 202 555 0775, 0612345678\n12;bogus\n\n+31 6 12345678", "NL")
    assert result.numbers == ("12025550775", "31612345678")
    assert result.duplicates == 1
    assert [raw for raw, _ in result.invalid] == ["12", "bogus"]


# Numbers as the gateway stores and returns them: digits with the country code, no "+".
GATEWAY_NUMBERS = [
    ("8801721970125", "8801721970125"),  # Bangladesh
    ("447700900123", "447700900123"),  # United Kingdom
    ("8613800138000", "8613800138000"),  # China
    ("4915123456789", "4915123456789"),  # Germany
    ("12025550175", "12025550175"),  # United States
    ("+919876543210", "919876543210"),  # India, if a gateway adds the "+"
]


@pytest.mark.parametrize(("raw", "digits"), GATEWAY_NUMBERS)
def test_gateway_numbers_are_international(raw, digits):
    """Issue 12 item 40: the gateway's digits carry their country code; read with a default
    country they were invalid (8801721970125 as a US number) or another person's."""
    from app.services.phones import from_gateway

    assert from_gateway(raw) == digits


def test_read_as_national_numbers_they_went_wrong():
    with pytest.raises(PhoneError):
        parse_phone("8801721970125", "US")
    assert parse_phone("447700900123", "CN") != "447700900123"


@pytest.mark.parametrize("raw", ["", "12", "hello", "999999999999999999"])
def test_a_gateway_number_that_is_no_number_is_refused(raw):
    from app.services.phones import from_gateway

    with pytest.raises(PhoneError):
        from_gateway(raw)
