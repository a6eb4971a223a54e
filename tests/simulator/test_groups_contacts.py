"""Reference §7 and §8: groups and contacts, both families, legacy and modern shapes."""

from __future__ import annotations

import re

import pytest

from .conftest import US, Api, error_of

UID = re.compile(r"^[0-9a-f]{13}$")
NO_ABILITY = "Sorry, but you do not have permissions to access this page."


def test_group_lifecycle(family_api):
    api = family_api
    created = api.post("contacts", {"name": "Codeglen"}).json()
    assert created["message"] == "Contact group was successfully added"
    assert list(created["data"]) == ["name", "uid"]
    uid = created["data"]["uid"]
    assert UID.match(uid)
    assert api.post(f"contacts/{uid}/show").json() == {
        "status": "success",
        "message": None,
        "data": {"uid": uid, "name": "Codeglen"},
    }
    listed = api.get("contacts").json()["data"]
    assert listed["data"] == [{"uid": uid, "name": "Codeglen"}]
    renamed = api.call("PUT", f"contacts/{uid}", {"name": "VIP"}).json()
    assert renamed == {
        "status": "success",
        "message": "Contact group was successfully updated",
        "data": {"name": "VIP", "uid": uid},
    }
    assert api.patch(f"contacts/{uid}", {"name": "VIP"}).json()["status"] == "success"
    deleted = api.delete(f"contacts/{uid}").json()
    assert deleted == {
        "status": "success",
        "message": "Contact group was successfully deleted",
        "data": None,
    }
    assert api.get("contacts").json()["data"]["total"] == 0


def test_group_name_errors(api, http_api):
    api.post("contacts", {"name": "Codeglen"})
    assert error_of(api.post("contacts", {"name": "Codeglen"})) == (
        200,
        "Codeglen already available as your contact group.",
    )
    assert error_of(http_api.post("contacts", {"name": "Codeglen"})) == (
        200,
        "The name has already been taken.",
    )
    assert error_of(api.post("contacts", {"name": ""})) == (200, "The name field is required.")
    other = api.post("contacts", {"name": "Other"}).json()["data"]["uid"]
    assert error_of(api.patch(f"contacts/{other}", {"name": "codeglen"}))[1].endswith(
        "as your contact group."
    )


def test_groups_are_scoped_to_the_caller(sim, api, control):
    mine = api.post("contacts", {"name": "Mine"}).json()["data"]["uid"]
    intruder = Api(sim, control.create_account(token="intruder"))
    assert intruder.get("contacts").json()["data"]["total"] == 0
    msg = f"No query results for model [App\\Models\\ContactGroups] {mine}"
    assert error_of(intruder.post(f"contacts/{mine}/show")) == (200, msg)
    assert error_of(Api(sim, "intruder", "http").delete(f"contacts/{mine}")) == (200, msg)
    control.configure(quirks={"quirk_unscoped_uids": True})
    assert intruder.post(f"contacts/{mine}/show").json()["data"]["name"] == "Mine"


def test_abilities_and_permissions(sim, control):
    limited = Api(sim, control.create_account(token="lim", abilities=[], permissions=[]))
    assert error_of(limited.get("contacts")) == (403, NO_ABILITY)
    assert error_of(limited.post("contacts", {"name": "x"})) == (
        200,
        "This action is unauthorized.",
    )
    assert error_of(limited.get("sms")) == (403, NO_ABILITY)
    # The http family checks no abilities in L.
    assert Api(sim, "lim", "http").get("contacts").json()["status"] == "success"


def test_http_group_delete_quirk(http_api, control):
    control.configure(quirks={"quirk_http_group_delete_error": True})
    uid = http_api.post("contacts", {"name": "G"}).json()["data"]["uid"]
    assert error_of(http_api.delete(f"contacts/{uid}")) == (
        200,
        'Attempt to read property "id" on null',
    )
    assert http_api.get("contacts").json()["data"]["total"] == 0


def _group(api):
    return api.post("contacts", {"name": "Friends"}).json()["data"]["uid"]


def test_legacy_contact_lifecycle(family_api):
    api = family_api
    group = _group(api)
    created = api.post(
        f"contacts/{group}/store",
        {"phone": "8801721970168", "first_name": "Jhon", "last_name": "Doe"},
    ).json()
    assert created["message"] == "Contact was successfully added"
    data = created["data"]
    assert list(data) == [
        "customer_id",
        "group_id",
        "phone",
        "status",
        "first_name",
        "last_name",
        "uid",
        "updated_at",
        "created_at",
        "id",
    ]
    assert data["phone"] == 8801721970168 and data["status"] == "subscribe"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z$", data["created_at"])
    uid = data["uid"]
    viewed = api.post(f"contacts/{group}/search/{uid}").json()
    expected = {"uid": uid, "phone": 8801721970168, "first_name": "Jhon", "last_name": "Doe"}
    assert viewed == {"status": "success", "message": None, "data": expected}
    updated = api.patch(
        f"contacts/{group}/update/{uid}", {"phone": "8801821475168", "last_name": "Roe"}
    ).json()
    assert updated["message"] == "Contact was successfully updated"
    assert updated["data"]["phone"] == 8801821475168
    assert (updated["data"]["first_name"], updated["data"]["last_name"]) == ("Jhon", "Roe")
    assert list(updated["data"])[:5] == ["id", "uid", "customer_id", "group_id", "phone"]
    assert updated["data"]["anniversary_date"] is None
    listed = api.post(f"contacts/{group}/all").json()["data"]
    assert listed["data"] == [
        {"uid": uid, "phone": 8801821475168, "first_name": "Jhon", "last_name": "Roe"}
    ]
    deleted = api.delete(f"contacts/{group}/delete/{uid}").json()
    assert deleted == {
        "status": "success",
        "message": "Contact was successfully deleted",
        "data": None,
    }


def test_legacy_contact_errors(api):
    group = _group(api)
    store = f"contacts/{group}/store"
    assert error_of(api.post(store, {"first_name": "a"})) == (200, "The phone field is required.")
    assert error_of(api.post(store, {"phone": "abc"})) == (200, "abc is a invalid phone number")
    assert error_of(api.post(store, {"phone": "12345678901234567890"}))[1].endswith(
        "is a invalid phone number"
    )
    assert error_of(api.post(store, {"phone": "+999 1234567"})) == (
        200,
        "9991234567 is a invalid phone number",
    )
    api.post(store, {"phone": US, "first_name": "", "last_name": ""})
    assert error_of(api.post(store, {"phone": US})) == (
        200,
        "You have already subscribed to Friends",
    )
    # L compares the raw input with the stored digits: a "+" spelling slips through.
    assert api.post(store, {"phone": "+" + US}).json()["status"] == "success"


def test_legacy_contact_in_other_group(api):
    first, second = _group(api), api.post("contacts", {"name": "Second"}).json()["data"]["uid"]
    uid = api.post(f"contacts/{first}/store", {"phone": US}).json()["data"]["uid"]
    assert api.post(f"contacts/{second}/search/{uid}").json() == {
        "status": "success",
        "message": None,
        "data": None,
    }
    page_missing = (404, "Sorry, but the page you were trying to view does not exist.")
    assert error_of(api.patch(f"contacts/{second}/update/{uid}", {"phone": US})) == page_missing
    assert error_of(api.delete(f"contacts/{second}/delete/{uid}")) == (
        404,
        "Something went wrong. Please try again",
    )


def test_first_name_quirk(api, control):
    control.configure(quirks={"quirk_first_name_required": True})
    store = f"contacts/{_group(api)}/store"
    assert error_of(api.post(store, {"phone": US})) == (200, 'Undefined array key "first_name"')
    assert error_of(api.post(store, {"phone": US, "first_name": "A"})) == (
        200,
        'Undefined array key "last_name"',
    )
    assert (
        api.post(store, {"phone": US, "first_name": "", "last_name": ""}).json()["status"]
        == "success"
    )


@pytest.mark.usefixtures("modern")
def test_modern_contacts(api, http_api, control):
    group = _group(api)
    store = f"contacts/{group}/store"
    assert error_of(api.post(store, {"phone": US})) == (200, "The p h o n e field is required.")
    assert error_of(http_api.post(store, {"phone": US})) == (422, "The Phone is required")
    created = api.post(
        store, {"PHONE": US, "FIRST_NAME": "Jhon", "phone": US, "first_name": "Jhon"}
    ).json()
    assert created["message"] == "Contact was successfully added"
    uid = created["data"]["uid"]
    fields = {"FIRST_NAME": "Jhon", "LAST_NAME": ""}
    expected = {"uid": uid, "phone": int(US), "status": "subscribe", "custom_fields": fields}
    assert created["data"] == expected
    assert error_of(api.post(store, {"PHONE": US, "phone": US})) == (
        200,
        "You have already subscribed to Friends",
    )
    assert error_of(api.post(store, {"PHONE": "+" + US})) == (
        422,
        "The Phone has already been taken.",
    )
    assert error_of(api.post(store, {"PHONE": "12"})) == (
        422,
        "The Phone must be a valid phone number.",
    )
    viewed = api.post(f"contacts/{group}/search/{uid}").json()
    assert viewed["message"] == "Contact was successfully retrieved"
    assert viewed["data"]["custom_fields"] == {"FIRST_NAME": "Jhon", "LAST_NAME": ""}
    updated = api.patch(f"contacts/{group}/update/{uid}", {"PHONE": US, "LAST_NAME": "Doe"}).json()
    assert updated["message"] == "Contact was successfully updated"
    assert updated["data"]["custom_fields"] == {"FIRST_NAME": "Jhon", "LAST_NAME": "Doe"}
    other = api.post("contacts", {"name": "Other"}).json()["data"]["uid"]
    missing = (404, "Sorry, but the page you were trying to view does not exist.")
    assert error_of(api.post(f"contacts/{other}/search/{uid}")) == missing
    control.configure(quirks={"quirk_modern_contact_list_sql_error": True})
    assert "Unknown column 'first_name'" in error_of(api.post(f"contacts/{group}/all"))[1]


@pytest.mark.usefixtures("modern")
def test_modern_blacklisted_contact(api, control, token):
    control.blacklist(token, [US])
    assert error_of(api.post(f"contacts/{_group(api)}/store", {"PHONE": US})) == (
        422,
        "This phone number is blacklisted.",
    )


@pytest.mark.usefixtures("modern")
def test_modern_developers_permission(sim, control):
    token = control.create_account(token="nodev", permissions=["view_reports"])
    for family in ("v3", "http"):
        assert error_of(Api(sim, token, family).get("me")) == (
            403,
            "You do not have permission to access API",
        )
    assert error_of(Api(sim, token).get("sms")) == (403, NO_ABILITY)
    assert error_of(Api(sim, token, "http").get("sms")) == (
        403,
        "You do not have permission to access API",
    )
