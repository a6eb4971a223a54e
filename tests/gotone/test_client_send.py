"""Sending: single and bulk paths, chunking, scheduling, type checks, rejections, reports."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from app.gotone import (
    InvalidRequestError,
    Message,
    NotFoundError,
    SendRejectedError,
    SendResult,
    ValidationError,
    format_schedule_time,
    to_account_time,
)

from .conftest import NL, TOKEN, UK, US, api_requests


def test_single_recipient_goes_to_the_single_path(any_client, control):
    result = any_client.send_sms("+31 6 1234 5678", "Your code is 123456.", sender_id="SignOTP")
    assert isinstance(result, SendResult)
    assert result.errors == () and result.scheduled is False and result.recipients == (NL,)
    (message,) = result.messages
    assert isinstance(message, Message)
    assert (message.to, message.text, message.sender) == (NL, "Your code is 123456.", "SignOTP")
    assert message.is_delivered and not message.is_failed and not message.is_pending
    assert message.cost == Decimal(1) and message.sms_count == 1
    (call,) = api_requests(control, "/sms/send")
    assert call["json"]["recipient"] == NL and call["json"]["type"] == "plain"
    assert [s["to"] for s in control.sends()] == [NL]


def test_bulk_send_normalises_and_dedupes(any_client, control):
    result = any_client.send_sms([US, "+1 202-555-0775", NL, 447911123456], "Hello")
    assert result.recipients == (US, NL, UK)
    assert [m.to for m in result.messages] == [US, NL, UK]
    assert all(m.is_delivered and m.cost == 1 for m in result.messages)
    (call,) = api_requests(control, "/sms/send")
    assert call["json"]["recipient"] == f"{US},{NL},{UK}"
    assert "sender_id" not in call["json"] and "schedule_time" not in call["json"]


def test_comma_separated_string_is_several_recipients(gotone, control):
    result = gotone.send_sms(f"{US}, {NL},", "Hi")
    assert result.recipients == (US, NL)


def test_250_recipients_take_three_calls_of_at_most_100(gotone, control):
    numbers = [f"1202555{n:04d}" for n in range(250)] + ["12025550000"]  # one duplicate
    result = gotone.send_sms(numbers, "Hi all")
    calls = api_requests(control, "/sms/send")
    sizes = [len(c["json"]["recipient"].split(",")) for c in calls]
    assert len(calls) == 3 and max(sizes) <= 100 and sum(sizes) == 250
    assert result.calls == 3 and len(result.messages) == 250
    assert len(control.sends()) == 250
    sent = [n for c in calls for n in c["json"]["recipient"].split(",")]
    assert sent == numbers[:250]


def test_no_chunk_is_a_lone_recipient(gotone, control):
    """101 numbers: 51 + 50, never 100 + 1 (a lone number would take the single path)."""
    gotone.send_sms([f"1202555{n:04d}" for n in range(101)], "Hi")
    sizes = [len(c["json"]["recipient"].split(",")) for c in api_requests(control, "/sms/send")]
    assert sorted(sizes) == [50, 51]


def test_scheduled_bulk_send(any_client, control):
    result = any_client.send_sms([US, NL], "Later", schedule_time=datetime(2030, 1, 2, 9, 30))
    assert result.scheduled is True and result.messages == () and result.errors == ()
    (call,) = api_requests(control, "/sms/send")
    assert call["json"]["schedule_time"] == "2030-01-02 09:30"
    assert len(control.scheduled()) == 2 and control.sends() == []


def test_immediate_bulk_is_not_scheduled_despite_the_wording(gotone):
    """The gateway says "Message is scheduled successfully." for immediate sends too (§17.30)."""
    assert gotone.send_sms([US, NL], "Now").scheduled is False


def test_single_recipient_schedule_is_refused_without_a_request(gotone, control):
    with pytest.raises(InvalidRequestError, match="at least two"):
        gotone.send_sms([US, "+1 (202) 555-0775"], "Later", schedule_time="2030-01-01 10:00")
    with pytest.raises(ValueError):
        gotone.send_sms(US, "Later", schedule_time=datetime(2030, 1, 1, 10, 0))
    assert control.requests() == []


def test_schedule_time_formats():
    assert format_schedule_time(datetime(2030, 5, 6, 7, 8, 59)) == "2030-05-06 07:08"
    assert format_schedule_time(" 2030-05-06 07:08 ") == "2030-05-06 07:08"
    assert format_schedule_time(None) is None and format_schedule_time("") is None
    with pytest.raises(InvalidRequestError, match="to_account_time"):
        format_schedule_time(datetime(2030, 5, 6, 7, 8, tzinfo=UTC))
    with pytest.raises(InvalidRequestError):
        format_schedule_time(12345)  # type: ignore[arg-type]
    aware = datetime(2030, 5, 6, 7, 8, tzinfo=UTC)
    assert to_account_time(aware, "Asia/Dhaka") == datetime(2030, 5, 6, 13, 8)


def test_type_and_parameter_checks_happen_before_any_request(gotone, control):
    cases = [
        dict(message=""),
        dict(message="   "),
        dict(type="fax"),
        dict(type="voice"),
        dict(type="voice", language="en-gb"),
        dict(type="voice", language="xx-yy", gender="female"),
        dict(type="voice", language="en-gb", gender="robot"),
        dict(type="mms"),
        dict(type="mms", media_url="not a url"),
    ]
    for case in cases:
        options = {"message": "Hi", **case}
        message = options.pop("message")
        with pytest.raises(InvalidRequestError):
            gotone.send_sms([US, NL], message, **options)
    with pytest.raises(InvalidRequestError):
        gotone.send_sms([], "Hi")
    with pytest.raises(InvalidRequestError):
        gotone.send_sms(["12", US], "Hi")
    assert control.requests() == []


def test_voice_mms_and_other_types_are_sent(gotone, control):
    gotone.send_sms([US, NL], "Hello", type="voice", language="en-gb", gender="female")
    gotone.send_sms(US, "Hallo", type="voice", language="xx-yy", gender="x", check_voice=False)
    gotone.send_sms([US, NL], "Pic", type="mms", media_url="https://example.com/a.png")
    gotone.send_sms(US, "Code 1", type="otp", dlt_template_id="1107")
    bodies = [c["json"] for c in api_requests(control, "/sms/send")]
    voice = bodies[0]
    assert (voice["language"], voice["gender"], voice["type"]) == ("en-gb", "female", "voice")
    assert bodies[1]["language"] == "xx-yy"
    assert bodies[2]["media_url"] == "https://example.com/a.png"
    assert bodies[3]["dlt_template_id"] == "1107"
    assert [s["type"] for s in control.sends()][-1] == "otp"


def test_unicode_text_is_switched_by_the_gateway(gotone, control):
    gotone.send_sms([US, NL], "Привет")
    assert {s["type"] for s in control.sends()} == {"unicode"}


def test_single_send_failure_is_rejected_with_the_gateway_reason(any_client, control, token):
    control.set_delivery(token, {NL: "Failed"})
    with pytest.raises(SendRejectedError) as caught:
        any_client.send_sms(NL, "Hi")
    error = caught.value
    assert error.reason == "Failed" and error.http_status == 403
    assert not error.may_have_been_processed and not error.definitely_not_received


def test_bulk_delivery_failures_stay_in_the_result(gotone, control, token):
    control.set_delivery(token, {NL: "Undelivered"})
    result = gotone.send_sms([US, NL], "Hi")
    assert [m.to for m in result.delivered] == [US]
    assert [m.to for m in result.failed] == [NL]


def test_per_number_errors_are_reported_one_by_one(make_client, control):
    control.create_account(token="13|narrow", coverage={"1": 1})
    result = make_client(token="13|narrow").send_sms([US, NL, UK], "Hi")
    assert [m.to for m in result.messages] == [US]
    assert len(result.errors) == 2
    assert all("Permission to send an SMS has not been enabled" in e for e in result.errors)
    assert result.errors[0].endswith(NL) and result.errors[1].endswith(UK)


def test_not_enough_balance_is_rejected(make_client, control):
    poor = control.create_account(token="14|poor-token", balance=1)
    with pytest.raises(SendRejectedError, match="not enough balance") as caught:
        make_client(token=poor).send_sms([US, NL], "Hi")
    assert caught.value.http_status == 403


def test_a_later_chunk_failing_keeps_what_was_sent(make_client, control):
    funded = control.create_account(token="15|funded-token", balance=150)
    numbers = [f"1202555{n:04d}" for n in range(200)]
    with pytest.raises(SendRejectedError) as caught:
        make_client(token=funded).send_sms(numbers, "Hi")
    error = caught.value
    assert error.partial_result is not None and len(error.partial_result.messages) == 100
    assert error.chunk_recipients == tuple(numbers[100:]) and error.unsent_recipients == ()
    assert len(control.sends(funded)) == 100


def test_sender_id_verification_rejection(make_client, control):
    strict = control.create_account(
        token="16|strict", sender_id_verification=True, sender_ids=["Good"]
    )
    client = make_client(token=strict)
    with pytest.raises(SendRejectedError, match="not authorized"):
        client.send_sms([US, NL], "Hi", sender_id="Bad")
    assert len(client.send_sms([US, NL], "Hi", sender_id="Good").messages) == 2


def test_gateway_validation_errors_on_send(gotone, control):
    """The http family validates before the single/bulk split; a missing parameter is 200."""
    envelope = {"status": "error", "message": "The message field is required."}
    control.add_fault("wrong_shape", path="sms/send", body=envelope)
    with pytest.raises(ValidationError):
        gotone.send_sms([US, NL], "Hi")


def test_get_and_list_sms(any_client, control):
    sent = any_client.send_sms([US, NL], "Report me").messages
    one = any_client.get_sms(sent[0].uid)
    assert (one.uid, one.to, one.text, one.status) == (sent[0].uid, US, "Report me", "Delivered")
    assert one.cost == Decimal(1) and one.is_delivered
    page = any_client.list_sms()
    assert {m.uid for m in page.items} == {m.uid for m in sent}
    assert page.total == 2 and page.per_page == 25
    assert len(list(any_client.iter_all(any_client.list_sms))) == 2
    with pytest.raises(NotFoundError):
        any_client.get_sms("6065ecdc9184a")


def test_report_status_changes_are_visible(gotone, control):
    (message,) = gotone.send_sms(US, "Hi").messages
    control.set_report_status(message.uid, "Enroute")
    assert gotone.get_sms(message.uid).status == "Enroute"


def test_modern_list_filters_are_passed(make_client, control):
    control.configure(profile="modern")
    client = make_client()
    client.send_sms([US, NL], "Hi")
    assert client.list_sms(sms_type="plain").total == 2
    assert client.list_sms(sms_type="voice").total == 0
    with pytest.raises(ValidationError, match="Invalid timezone"):
        client.list_sms(timezone="Mars/Base")


def test_legacy_single_send_echoes_the_token_but_the_client_keeps_none(gotone, control):
    result = gotone.send_sms(US, "Hi")
    assert TOKEN not in repr(result)
    (call,) = api_requests(control, "/sms/send")
    assert call["token"] == TOKEN


def test_legacy_http_single_send_bug_is_a_definite_rejection(make_client, control):
    """§9.1.3: L's http single send fails with a PHP error text (HTTP 200); nothing is sent."""
    control.configure(quirks={"quirk_http_single_send_user_key": True})
    with pytest.raises(SendRejectedError, match='Undefined array key "user"') as caught:
        make_client("http").send_sms(US, "Hi")
    assert not caught.value.may_have_been_processed
    assert control.sends() == []


def test_00_prefix_is_international_and_stripped(any_client, control):
    result = any_client.send_sms(["0031 6 1234 5678", "+1 202 555 0775"], "Hi")
    assert result.recipients == (NL, US)
    (call,) = api_requests(control, "/sms/send")
    assert call["json"]["recipient"] == f"{NL},{US}"


@pytest.mark.parametrize("national", ["06 1234 5678", "020 7946 0000", "+0612345678"])
def test_national_number_is_refused_without_a_request(gotone, control, national):
    with pytest.raises(InvalidRequestError, match="add the country code") as caught:
        gotone.send_sms([US, national], "Hi")
    assert "recipient #2" in str(caught.value)
    assert national.replace(" ", "") not in str(caught.value)  # masked
    assert api_requests(control, "/sms/send") == []
