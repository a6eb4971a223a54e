"""Reference §9.1.5 (scheduling), §9.2/§9.3 (view and list messages)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.simulator.schedule import ScheduleParseError, parse_schedule

from .conftest import UK, US, Api, error_of

FAR_FUTURE = "2099-12-20 07:00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-12-20 07:00", "2030-12-20T01:00"),
        ("2030-12-20T07:00:45", "2030-12-20T01:00"),
        ("2030-12-20T07:00:00+05:00", "2030-12-20T01:00"),  # offset ignored
        ("2030-12-20T07:00:00Z", "2030-12-20T01:00"),
        ("2030/12/20 07:00", "2030-12-20T01:00"),
        ("12/20/2030 07:00", "2030-12-20T01:00"),
        ("20-12-2030 07:00", "2030-12-20T01:00"),
        ("2030-12-20", "2030-12-19T18:00"),
    ],
)
def test_schedule_time_is_read_in_the_user_zone(value, expected):
    moment = parse_schedule(value, "Asia/Dhaka")  # UTC+6
    assert moment.strftime("%Y-%m-%dT%H:%M") == expected and moment.second == 0


def test_relative_schedule_times():
    now = datetime(2030, 1, 1, 12, 30, 15, tzinfo=UTC)
    assert parse_schedule("tomorrow 09:00", "UTC", now) == datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
    assert parse_schedule("+2 hours", "UTC", now) == datetime(2030, 1, 1, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", ["tomorrow-ish", "2030-13-45 10:00", "next blue moon"])
def test_unparsable_schedule_times(value):
    with pytest.raises(ScheduleParseError, match=rf"^Could not parse '{value}': "):
        parse_schedule(value, "UTC")


def test_scheduled_bulk_send_appears_only_when_due(api, control, token):
    response = api.send(f"{US},{UK}", "Later", schedule_time=FAR_FUTURE)
    assert response.json() == {
        "status": "success",
        "message": "Message is scheduled successfully.",
        "data": None,
    }
    assert control.balance(token) == 998  # charged up front
    assert api.get("sms").json()["data"]["total"] == 0
    assert control.sends(token) == []
    assert [e["to"] for e in control.scheduled(token)] == [US, UK]
    assert control.run_scheduler() == 0
    control.set_delivery(token, {UK: "Failed"})
    assert control.run_scheduler(now=datetime(2100, 1, 1, tzinfo=UTC)) == 2
    listed = api.get("sms").json()["data"]
    assert listed["total"] == 2
    assert {r["to"]: r["status"] for r in listed["data"]} == {US: "Delivered", UK: "Failed"}
    assert control.balance(token) == 999  # the failed one refunded
    assert all(s["scheduled_for"] == "2099-12-20T07:00:00.000000Z" for s in control.sends(token))


def test_past_schedule_is_dispatched_by_the_next_request(api, token):
    api.send(f"{US},{UK}", schedule_time="2001-01-01 00:00")
    assert api.get("sms").json()["data"]["total"] == 2


def test_schedule_errors_and_partial_messages(api, control, token):
    assert error_of(api.send(f"{US},{UK}", schedule_time="tomorrow-ish"))[1].startswith(
        "Could not parse 'tomorrow-ish': "
    )
    assert control.balance(token) == 1000
    mixed = api.send(f"{US},12", schedule_time=FAR_FUTURE).json()
    assert mixed == {"status": "success", "message": "12 is a invalid phone number", "data": None}


def test_single_recipient_ignores_schedule(api, control, token):
    sent = api.send(US, schedule_time=FAR_FUTURE).json()
    assert sent["message"] == "Your message was successfully delivered"
    control.configure(quirks={"quirk_single_schedule_ignored": False})
    assert api.send(US, schedule_time=FAR_FUTURE).json()["data"] is None
    assert len(control.scheduled(token)) == 1


def test_view_message_legacy(sim, api, control):
    uid = api.send(US, "Code 1", sender_id="SignOTP").json()["data"]["uid"]
    assert api.get(f"sms/{uid}").json() == {
        "status": "success",
        "message": None,
        "data": {
            "uid": uid,
            "to": US,
            "from": "SignOTP",
            "message": "Code 1",
            "status": "Delivered",
            "cost": "1",
        },
    }
    other = Api(sim, control.create_account(token="other"))
    expected = (200, f"No query results for model [App\\Models\\Reports] {uid}")
    assert error_of(other.get(f"sms/{uid}")) == expected
    assert other.get("sms").json()["data"]["total"] == 0
    control.configure(quirks={"quirk_list_sms_all_users": True})
    assert other.get("sms").json()["data"]["total"] == 1


@pytest.mark.usefixtures("modern")
def test_view_and_list_modern(sim, api, http_api, control):
    uid = api.send(US, "Hi").json()["data"]["uid"]
    api.send(f"{US},{UK}", "Hi", type="otp")
    viewed = api.get(f"sms/{uid}").json()["data"]
    assert list(viewed) == [
        "uid",
        "to",
        "from",
        "message",
        "sms_type",
        "direction",
        "status",
        "sms_count",
        "cost",
    ]
    other = Api(sim, control.create_account(token="other"))
    assert error_of(other.get(f"sms/{uid}")) == (404, "SMS Info not found")
    listed = api.get("sms").json()
    assert listed["message"] == "SMS data fetched successfully"
    item = listed["data"]["data"][0]
    assert list(item) == [
        "id",
        "uid",
        "to",
        "from",
        "message",
        "sms_type",
        "direction",
        "status",
        "sms_count",
        "cost",
        "sent_at",
    ]
    assert len(item["sent_at"]) == 19 and item["sent_at"][10] == " "
    assert "id" not in http_api.get("sms").json()["data"]["data"][0]
    assert api.get("sms", params={"sms_type": "otp"}).json()["data"]["total"] == 2
    assert api.get("sms", params={"direction": "incoming"}).json()["data"]["total"] == 0
    assert (
        api.get(
            "sms", params={"start_date": "2000-01-01 00:00:00", "end_date": "2000-01-02 00:00:00"}
        ).json()["data"]["total"]
        == 0
    )


@pytest.mark.usefixtures("modern")
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"timezone": "Mars/Base"}, "Invalid timezone provided."),
        ({"start_date": "yesterday"}, "Invalid datetime format. Use Y-m-d H:i:s"),
        ({"end_date": "2024-01-01"}, "Invalid datetime format. Use Y-m-d H:i:s"),
        (
            {"start_date": "2024-02-01 00:00:00", "end_date": "2024-01-01 00:00:00"},
            "Start datetime must be before end datetime.",
        ),
    ],
)
def test_modern_list_filter_errors(api, params, message):
    assert error_of(api.get("sms", params=params)) == (422, message)


def test_delivery_receipt_changes_status(api, control):
    uid = api.send(US).json()["data"]["uid"]
    control.set_report_status(uid, "Undelivered")
    assert api.get(f"sms/{uid}").json()["data"]["status"] == "Undelivered"
