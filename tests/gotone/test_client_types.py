"""Parsing: legacy and modern shapes into the same dataclasses (reference samples verbatim)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app.gotone import Balance, Contact, Group, Message, Page, Profile, ProtocolError
from app.gotone.phones import mask_numbers, mask_phone, normalise_recipients, split_evenly

L_CREATE_CONTACT = json.loads(
    '{"customer_id":12,"group_id":34,"phone":8801721970168,"status":"subscribe",'
    '"first_name":"Jhon","last_name":"Doe","uid":"65fa8465d3b58",'
    '"updated_at":"2024-03-20T06:49:41.000000Z","created_at":"2024-03-20T06:49:41.000000Z","id":5678}'
)
M_CREATE_CONTACT = json.loads(
    '{"uid":"65fa8465d3b58","phone":8801721970168,"status":"subscribe",'
    '"custom_fields":{"FIRST_NAME":"Jhon","LAST_NAME":"Doe"}}'
)
L_SINGLE_SEND = json.loads(
    '{"user_id":12,"to":"31612345678","message":"Your verification code is 123456.",'
    '"sms_type":"plain","status":"Delivered","sms_count":1,"cost":1,"sending_server_id":3,'
    '"from":"SignOTP","api_key":"7|q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8l9Z0","send_by":"api",'
    '"uid":"606812e63f78b","updated_at":"2024-03-20T06:49:41.000000Z",'
    '"created_at":"2024-03-20T06:49:41.000000Z","id":91011}'
)
M_BULK_ITEM = json.loads(
    '{"id":1,"uid":"606812e63f78b","to":"31612345678","from":"SignOTP",'
    '"message":"Your verification code is 123456.","customer_status":"Delivered","cost":"1",'
    '"sms_count":1}'
)
L_PAGINATOR = json.loads(
    '{"current_page":1,"data":[{"uid":"65fa99fa9d55e","name":"Codeglen"},'
    '{"uid":"65fa9a1b2c3d4","name":"VIP"}],"first_page_url":"https://x/api/v3/contacts?page=1",'
    '"from":1,"last_page":1,"last_page_url":"https://x/api/v3/contacts?page=1","links":[],'
    '"next_page_url":null,"path":"https://x/api/v3/contacts","per_page":25,'
    '"prev_page_url":null,"to":2,"total":2}'
)


def test_contact_shapes_parse_alike():
    legacy, modern = Contact.from_api(L_CREATE_CONTACT), Contact.from_api(M_CREATE_CONTACT)
    for contact in (legacy, modern):
        assert (contact.uid, contact.phone, contact.first_name, contact.last_name) == (
            "65fa8465d3b58",
            "8801721970168",
            "Jhon",
            "Doe",
        )
        assert contact.subscribed is True
    assert dict(modern.custom_fields) == {"FIRST_NAME": "Jhon", "LAST_NAME": "Doe"}
    nulls = Contact.from_api({"uid": "a1", "phone": "8801721970168", "first_name": None})
    assert (nulls.first_name, nulls.last_name, nulls.status) == ("", "", None)


def test_contact_is_frozen():
    contact = Contact.from_api(L_CREATE_CONTACT)
    with pytest.raises(AttributeError):
        contact.phone = "1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        contact.custom_fields["X"] = "y"  # type: ignore[index]


def test_message_shapes_parse_alike():
    legacy, modern = Message.from_api(L_SINGLE_SEND), Message.from_api(M_BULK_ITEM)
    for message in (legacy, modern):
        assert (message.uid, message.to, message.sender, message.status) == (
            "606812e63f78b",
            "31612345678",
            "SignOTP",
            "Delivered",
        )
        assert message.cost == Decimal(1) and message.sms_count == 1
    assert "q1W2e3R4" not in repr(legacy)  # api_key is dropped with the other unknown keys


@pytest.mark.parametrize(
    ("status", "delivered", "failed", "pending"),
    [
        ("Delivered", True, False, False),
        ("Delivered|abc-123", True, False, False),
        ("Failed", False, True, False),
        ("Rejected", False, True, False),
        ("Undelivered", False, True, False),
        ("Expired", False, True, False),
        ("Enroute", False, False, True),
        ("Accepted", False, False, True),
        ("Skipped", False, False, False),
        ("Invalid request", False, True, False),
        ("Insufficient credit at provider", False, True, False),
    ],
)
def test_message_status_helpers(status, delivered, failed, pending):
    message = Message(uid="u1", to="1", status=status)
    assert (message.is_delivered, message.is_failed, message.is_pending) == (
        delivered,
        failed,
        pending,
    )


@pytest.mark.parametrize(
    ("raw", "amount", "unlimited"),
    [
        ("$1,250", Decimal(1250), False),
        ("₱427", Decimal(427), False),
        ("12.50", Decimal("12.50"), False),
        ("1,234.56 USD", Decimal("1234.56"), False),
        ("Unlimited", None, True),
        ("n/a", None, False),
        (750, Decimal(750), False),
    ],
)
def test_balance_parse(raw, amount, unlimited):
    balance = Balance.from_api({"remaining_balance": raw, "expired_on": "29th Jan 27, 7:24 PM"})
    assert balance.remaining_balance == str(raw)
    assert (balance.amount, balance.unlimited) == (amount, unlimited)
    assert balance.expired_on == "29th Jan 27, 7:24 PM"


def test_unlimited_balance_from_the_gateway(make_client, control):
    unlimited = control.create_account(token="20|unlimited", balance=-1)
    balance = make_client(token=unlimited).get_balance()
    assert balance == Balance("Unlimited", None, True, balance.expired_on)


def test_profile_drops_the_token():
    data = json.loads(
        '{"uid":"6065e1f2a3b4c","api_token":"7|q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8l9Z0",'
        '"first_name":"Jhon","last_name":"Doe","email":"jhon@example.com","locale":"en",'
        '"timezone":"Asia/Dhaka","last_access_at":"5th Mar 26, 3:04 PM"}'
    )
    profile = Profile.from_api(data)
    assert profile.timezone == "Asia/Dhaka" and profile.email == "jhon@example.com"
    assert "q1W2e3R4" not in repr(profile)


def test_profile_from_both_generations(make_client, profile):
    me = make_client().get_profile()
    assert (me.first_name, me.last_name, me.timezone) == ("Demo", "User", "UTC")


def test_page_parse():
    page = Page.from_api(L_PAGINATOR, Group.from_api)
    assert page.items == (Group("65fa99fa9d55e", "Codeglen"), Group("65fa9a1b2c3d4", "VIP"))
    assert (page.page, page.last_page, page.total, page.per_page) == (1, 1, 2, 25)


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        "x",
        {"data": {}},
        {"current_page": 1, "last_page": 1, "data": [{"name": "no uid"}]},
    ],
)
def test_wrong_shapes_are_protocol_errors(bad):
    with pytest.raises(ProtocolError):
        Page.from_api(bad, Group.from_api)


def test_phone_helpers():
    assert normalise_recipients("+1 (202) 555-0775, 31.6123.45678") == [
        "12025550775",
        "31612345678",
    ]
    assert normalise_recipients(12025550775) == ["12025550775"]
    assert mask_phone("31612345678") == "*******5678"
    assert mask_numbers("to 31612345678 and 12025550775.") == "to *******5678 and *******0775."
    assert [len(c) for c in split_evenly([str(n) for n in range(250)], 100)] == [84, 83, 83]
    assert [len(c) for c in split_evenly([str(n) for n in range(200)], 100)] == [100, 100]
    assert [len(c) for c in split_evenly(["1"], 100)] == [1]


def test_masking_spares_uids_but_not_numbers():
    text = "uid 6065e1234567c, 31612345678 and +12025550775: 60681234567 failed"
    masked = "uid 6065e1234567c, *******5678 and +*******0775: *******4567 failed"
    assert mask_numbers(text) == masked
