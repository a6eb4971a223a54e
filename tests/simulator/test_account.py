"""Reference §10: /me and /balance in both families and profiles."""

from __future__ import annotations

import pytest

from app.simulator.accounts import format_balance
from app.simulator.clock import human, parse_iso

from .conftest import Api


@pytest.mark.parametrize(
    ("balance", "pattern", "text"),
    [
        (1250, "${PRICE}", "$1,250"),
        (12.5, "${PRICE}", "$12.50"),
        (1234567.891, "{PRICE}", "1,234,567.89"),
        (427, "₱{PRICE}", "₱427"),
        (-1, "${PRICE}", "Unlimited"),
        (0, "${PRICE}", "$0"),
    ],
)
def test_balance_formatting(balance, pattern, text):
    assert format_balance({"balance": balance, "currency_format": pattern}) == text


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        ("2026-03-05T15:04:00+00:00", "5th Mar 26, 3:04 PM"),
        ("2027-01-29T19:24:00+00:00", "29th Jan 27, 7:24 PM"),
        ("2027-01-01T00:05:00+00:00", "1st Jan 27, 12:05 AM"),
        ("2027-01-22T12:00:00+00:00", "22nd Jan 27, 12:00 PM"),
        ("2027-01-13T09:00:00+00:00", "13th Jan 27, 9:00 AM"),
    ],
)
def test_human_dates(moment, text):
    assert human(parse_iso(moment), "UTC") == text


def test_me_and_balance_both_families(sim, control):
    token = control.create_account(
        token="7|me",
        first_name="Jhon",
        last_name="Doe",
        email="jhon@example.com",
        timezone="Asia/Dhaka",
        balance=1250,
    )
    control.update_account(
        token,
        subscription_ends_at="2027-01-29T13:24:00+00:00",
        last_access_at="2026-03-05T09:04:00+00:00",
    )
    v3, http = Api(sim, token), Api(sim, token, "http")
    me = v3.get("me").json()
    assert list(me["data"]) == [
        "uid",
        "api_token",
        "first_name",
        "last_name",
        "email",
        "locale",
        "timezone",
        "last_access_at",
    ]
    assert me["data"]["api_token"] == token and me["data"]["timezone"] == "Asia/Dhaka"
    assert me["data"]["last_access_at"] == "5th Mar 26, 3:04 PM"  # the user's zone on v3
    assert http.get("me").json()["data"]["last_access_at"] == "5th Mar 26, 9:04 AM"  # APP_TIMEZONE
    assert v3.get("balance").json() == {
        "status": "success",
        "message": None,
        "data": {"remaining_balance": "$1,250", "expired_on": "29th Jan 27, 7:24 PM"},
    }
    assert http.get("balance").json()["data"]["expired_on"] == "29th Jan 27, 1:24 PM"
    control.configure(profile="modern")
    assert v3.get("me").json()["data"]["last_access_at"] == "2026-03-05T09:04:00+00:00"
    control.update_account(token, last_access_at=None)
    assert "last_access_at" not in v3.get("me").json()["data"]
