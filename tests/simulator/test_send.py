"""Reference §9.1, §12, §13: the send pipeline, charging and refunds."""

from __future__ import annotations

import pytest

from .conftest import NL, UK, US, Api, error_of

SCHEDULED = "Message is scheduled successfully."
L_ROW = [
    "user_id",
    "to",
    "message",
    "sms_type",
    "status",
    "sms_count",
    "cost",
    "sending_server_id",
    "from",
    "api_key",
    "send_by",
    "uid",
    "updated_at",
    "created_at",
    "id",
]


def test_single_send_legacy_row_and_charge(api, control, token):
    response = api.send("+1 (202) 555-0775", "Your code is 1", sender_id="SignOTP")
    payload = response.json()
    assert payload["message"] == "Your message was successfully delivered"
    assert list(payload["data"]) == L_ROW
    data = payload["data"]
    assert (data["to"], data["from"], data["status"], data["cost"], data["sms_count"]) == (
        US,
        "SignOTP",
        "Delivered",
        1,
        1,
    )
    assert data["api_key"] == token and data["send_by"] == "api"
    assert control.balance(token) == 999
    assert "from" not in api.send(US).json()["data"]
    sends = control.sends(token)
    assert [(s["to"], s["status"], s["type"], s["scheduled_for"]) for s in sends] == [
        (US, "Delivered", "plain", None),
        (US, "Delivered", "plain", None),
    ]


@pytest.mark.usefixtures("modern")
def test_single_send_modern_projection(api):
    data = api.send("0012025550775", "Hi", sender_id="S").json()["data"]
    assert list(data) == [
        "id",
        "uid",
        "to",
        "from",
        "message",
        "status",
        "cost",
        "sms_count",
        "media_url",
    ]
    assert (data["to"], data["cost"], data["status"]) == (US, 1, "Delivered")


@pytest.mark.parametrize(
    ("recipient", "message"),
    [
        ("123", "123 is a invalid phone number"),
        ("abc", "The string supplied did not seem to be a phone number."),
        ("+999 123456789", "Could not interpret numbers after plus-sign."),
    ],
)
def test_single_send_invalid_numbers(api, control, token, recipient, message):
    assert error_of(api.send(recipient)) == (403, message)
    assert control.balance(token) == 1000 and control.sends(token) == []


def test_coverage_and_prices(sim, control):
    priced = Api(sim, control.create_account(token="p", coverage={"1": 2, "44": {"plain": 3}}))
    region = (
        "Permission to send an SMS has not been enabled for the region indicated by the "
        "'To' number: "
    )
    assert error_of(priced.send(NL)) == (403, region + NL)
    assert priced.send(UK).json()["data"]["cost"] == 3
    assert priced.send(US, "x" * 161).json()["data"]["cost"] == 4  # 2 segments x 2
    assert control.balance("p") == 993
    bare = Api(sim, control.create_account(token="bare", coverage={}))
    assert error_of(bare.send(US)) == (403, "Please add coverage on your plan.")


def test_single_delivery_failure_is_403_and_free(api, control, token):
    control.set_delivery(token, {US: "Failed"})
    assert error_of(api.send(US)) == (403, "Failed")
    assert control.balance(token) == 1000
    assert api.get("sms").json()["data"]["data"][0]["status"] == "Failed"


def test_balance_checks(sim, control):
    poor = Api(sim, control.create_account(token="poor", balance=1))
    assert error_of(poor.send(US, "x" * 200)) == (
        403,
        "There is not enough balance available to send this message.You have 1 of the 2",
    )
    poor.send(US)
    assert control.balance("poor") == 0
    assert error_of(poor.send(f"{US},{UK}")) == (403, "You have exceeded your sending limit.")
    control.configure(profile="modern")
    assert error_of(poor.send(US)) == (404, "You have exceeded your sending limit.")


def test_unlimited_balance(sim, control):
    rich = Api(sim, control.create_account(token="rich", balance=-1))
    rich.send(US)
    rich.send(f"{US},{UK}")
    assert control.balance("rich") == -1
    assert rich.get("balance").json()["data"]["remaining_balance"] == "Unlimited"
    control.configure(quirks={"quirk_bulk_charges_unlimited": True})
    rich.send(f"{US},{UK}")
    assert control.balance("rich") == -3
    assert error_of(rich.send(US))[1].startswith("There is not enough balance available")


def test_bulk_send_legacy(api, control, token):
    control.set_delivery(token, {UK: "Undelivered"})
    response = api.send(f"{US},{US},+{US},{UK},123,abc1,", "Hello")
    payload = response.json()
    assert payload["status"] == "success"
    assert (
        payload["message"]
        == "123 is a invalid phone number abc1 is a invalid phone number  is a invalid phone number"
    )
    rows = payload["data"]
    assert [r["to"] for r in rows] == [US, US, UK]  # "+1..." survives de-duplication
    assert list(rows[0]) == ["uid", "to", "from", "message", "status", "cost", "sms_count"]
    assert [r["status"] for r in rows] == ["Delivered", "Delivered", "Undelivered"]
    assert rows[0]["cost"] == "1"
    assert control.balance(token) == 998  # 3 charged up front, the undelivered one refunded


@pytest.mark.usefixtures("modern")
def test_bulk_send_modern_items(api):
    rows = api.send(f"{US},{UK}").json()["data"]
    assert list(rows[0]) == [
        "id",
        "uid",
        "to",
        "from",
        "message",
        "customer_status",
        "cost",
        "sms_count",
    ]


def test_bulk_all_invalid_and_clean_message(api):
    assert api.send("1,2").json() == {
        "status": "success",
        "message": "1 is a invalid phone number 2 is a invalid phone number",
        "data": [],
    }
    assert api.send(f"{US},{UK}").json()["message"] == SCHEDULED


def test_recipient_limit(api, control, token):
    numbers = [f"1202555{i:04d}" for i in range(101)]
    assert error_of(api.send(",".join(numbers))) == (
        403,
        "You cannot send more than 100 SMS in a single request.",
    )
    assert len(api.send(",".join(numbers[:100] + numbers[:5])).json()["data"]) == 100
    assert control.balance(token) == 900


def test_bulk_blacklisted_number_is_refunded(api, control, token):
    control.blacklist(token, [UK])
    rows = api.send(f"{US},{UK}").json()["data"]
    assert rows[1]["status"] == "Number contains in the blacklist"
    assert control.balance(token) == 999
    assert error_of(api.send(UK)) == (403, "Number contains in the blacklist")


def test_sender_id_verification_legacy(sim, control):
    checked = Api(
        sim, control.create_account(token="v", sender_id_verification=True, sender_ids=["Good"])
    )
    assert error_of(checked.send(f"{US},{UK}", sender_id="Bad")) == (
        403,
        "Originator Bad is not authorized to send this message",
    )
    assert error_of(checked.send(f"{US},{UK}")) == (
        403,
        "Originator  is not authorized to send this message",
    )
    assert checked.send(f"{US},{UK}", sender_id="Good").json()["status"] == "success"
    assert checked.send(US, sender_id="Bad").json()["status"] == "success"  # L: bulk path only


@pytest.mark.usefixtures("modern")
def test_sender_id_verification_modern(sim, control):
    checked = Api(
        sim, control.create_account(token="v", sender_id_verification=True, sender_ids=["Good"])
    )
    expected = (404, 'Sender ID "Bad" is not authorized to send this message.')
    assert error_of(checked.send(US, sender_id="Bad")) == expected
    assert error_of(checked.send(f"{US},{UK}", sender_id="Bad")) == expected


def test_type_rules(api, control, token):
    bad = "Please insert valid sms type called plain, unicode, voice, mms, viber, OTP and whatsapp."
    assert error_of(api.send(US, type="fax")) == (404, bad)
    assert error_of(api.send(US, type="Plain")) == (404, bad)
    assert error_of(api.send(US, type="voice", language="en-gb")) == (
        404,
        "Language and gender parameters are required",
    )
    assert error_of(api.send(US, type="mms")) == (404, "media_url parameter is required")
    assert error_of(api.send(US, type="mms", media_url="not a url")) == (
        404,
        "Valid media url is required.",
    )
    assert api.send(US, type="mms", media_url="https://x.test/a.png").json()["status"] == "success"
    assert (
        api.send(US, type="voice", language="zz", gender="x").json()["data"]["sms_type"] == "voice"
    )
    # Non-GSM text forces unicode whatever type was asked, even an invalid one.
    assert api.send(US, "Привет `", type="fax").json()["data"]["sms_type"] == "unicode"
    assert control.sends(token)[-1]["type"] == "unicode"


@pytest.mark.usefixtures("modern")
def test_modern_type_rules(api):
    assert api.send(US, type="voice", language=None, gender=None).json()["status"] == "success"
    assert api.send(US, "Привет", type="whatsapp").json()["status"] == "success"


def test_unicode_segments_are_charged(api, control, token):
    api.send(US, "é" * 160 + "Ж")  # UCS-2: 161 chars -> 3 parts of 67
    assert control.balance(token) == 997


def test_http_single_send_quirk(http_api, control):
    control.configure(quirks={"quirk_http_single_send_user_key": True})
    assert error_of(http_api.send(US)) == (200, 'Undefined array key "user"')
    assert http_api.send(f"{US},{UK}").json()["status"] == "success"


@pytest.mark.usefixtures("modern")
def test_http_single_send_quirk_is_fixed_on_modern(http_api, control):
    # Reference §9.1.3: M fixed the http controller's key, so the quirk is L's alone.
    control.configure(quirks={"quirk_http_single_send_user_key": True})
    answer = http_api.send(US)
    assert answer.json()["status"] == "success", answer.text
