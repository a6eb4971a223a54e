"""Groups and contacts: every operation, both families, both server generations."""

from __future__ import annotations

import pytest

from app.gotone import (
    ApiError,
    AuthError,
    Contact,
    Group,
    InvalidRequestError,
    NotFoundError,
    Page,
    PermissionDeniedError,
    ValidationError,
)

from .conftest import UK, US, api_requests


def test_group_lifecycle(any_client, control):
    group = any_client.create_group("Customers")
    assert isinstance(group, Group) and group.name == "Customers" and len(group.uid) == 13
    assert any_client.get_group(group.uid) == group
    renamed = any_client.rename_group(group.uid, "VIP")
    assert renamed == Group(group.uid, "VIP")
    page = any_client.list_groups()
    assert isinstance(page, Page)
    assert page.items == (renamed,)
    assert (page.page, page.last_page, page.total, page.per_page) == (1, 1, 1, 25)
    assert any_client.delete_group(group.uid) is None
    with pytest.raises(NotFoundError) as caught:
        any_client.get_group(group.uid)
    assert "No query results for model" in caught.value.gateway_message
    assert not caught.value.may_have_been_processed


def test_contact_lifecycle(any_client):
    group = any_client.create_group("Team")
    contact = any_client.create_contact(group.uid, "+1 (202) 555-0775", "Jhon", "Doe")
    assert isinstance(contact, Contact)
    assert (contact.phone, contact.first_name, contact.last_name) == (US, "Jhon", "Doe")
    assert contact.status == "subscribe"
    fetched = any_client.get_contact(group.uid, contact.uid)
    assert (fetched.uid, fetched.phone, fetched.first_name, fetched.last_name) == (
        contact.uid,
        US,
        "Jhon",
        "Doe",
    )
    updated = any_client.update_contact(group.uid, contact.uid, UK, "Jane", "Roe")
    assert (updated.phone, updated.first_name, updated.last_name) == (UK, "Jane", "Roe")
    listed = any_client.list_contacts(group.uid)
    assert [(c.uid, c.phone, c.first_name) for c in listed.items] == [(contact.uid, UK, "Jane")]
    assert any_client.delete_contact(group.uid, contact.uid) is None
    with pytest.raises(NotFoundError):
        any_client.get_contact(group.uid, contact.uid)


def test_contact_calls_send_both_spellings_always(gotone, control):
    group = gotone.create_group("Spellings")
    contact = gotone.create_contact(group.uid, US)
    gotone.update_contact(group.uid, contact.uid, UK, last_name="Smith")
    sent = [
        r["json"] for r in control.requests() if "/store" in r["path"] or "/update/" in r["path"]
    ]
    assert sent[0] == {
        "phone": US,
        "PHONE": US,
        "first_name": "",
        "FIRST_NAME": "",
        "last_name": "",
        "LAST_NAME": "",
    }
    assert sent[1]["phone"] == sent[1]["PHONE"] == UK
    assert sent[1]["last_name"] == sent[1]["LAST_NAME"] == "Smith"


def test_empty_name_on_update_clears_on_legacy_but_keeps_on_modern(make_client, profile):
    """The gateway turns "" into null: L stores null, M keeps the old value (§1.5, §8.3)."""
    client = make_client()
    group = client.create_group("Names")
    contact = client.create_contact(group.uid, US, "Jhon", "Doe")
    updated = client.update_contact(group.uid, contact.uid, US, "Jhon")
    assert updated.last_name == ("" if profile == "legacy" else "Doe")


def test_legacy_first_name_quirk_is_avoided(gotone, control):
    """L crashes on a missing first_name key (§8.1); the client always sends it."""
    control.configure(quirks={"quirk_first_name_required": True})
    group = gotone.create_group("Quirky")
    assert gotone.create_contact(group.uid, US).first_name == ""


def test_iter_all_walks_every_page_lazily(gotone, control, token):
    contacts = [{"phone": f"1202555{n:04d}", "first_name": f"P{n}"} for n in range(60)]
    seeded = control.seed_group(token, "Big", contacts)
    walker = gotone.iter_all(gotone.list_contacts, seeded["uid"])
    first = next(walker)
    assert len(api_requests(control, "/all")) == 1  # one page fetched so far
    rest = list(walker)
    assert [c.uid for c in [first, *rest]] == seeded["contact_uids"]
    assert len(api_requests(control, "/all")) == 3  # 25 + 25 + 10


def test_list_groups_pages(gotone, control, token):
    for n in range(27):
        control.seed_group(token, f"G{n:02d}")
    second = gotone.list_groups(page=2)
    assert (second.page, second.last_page, second.total, len(second.items)) == (2, 2, 27, 2)
    assert not second.has_next and second.next_page is None
    assert [g.name for g in gotone.iter_all(gotone.list_groups)][-1] == "G26"
    beyond = gotone.list_groups(page=9)
    assert beyond.items == () and not beyond.has_next


def test_duplicate_group_and_contact_are_validation_errors(family, make_client):
    client = make_client(family)
    group = client.create_group("Dup")
    with pytest.raises(ValidationError) as caught:
        client.create_group("Dup")
    assert caught.value.gateway_message in (
        "Dup already available as your contact group.",
        "The name has already been taken.",
    )
    client.create_contact(group.uid, US)
    with pytest.raises(ValidationError, match="You have already subscribed to Dup"):
        client.create_contact(group.uid, US)


def test_invalid_contact_phone_is_a_validation_error(gotone):
    group = gotone.create_group("Phones")
    with pytest.raises(ValidationError):
        gotone.create_contact(group.uid, "9999999")  # no such country code: not possible


def test_client_refuses_bad_input_before_any_request(gotone, control):
    with pytest.raises(InvalidRequestError):
        gotone.create_contact("abc", "not a number")
    with pytest.raises(InvalidRequestError):
        gotone.create_contact("abc", "123")  # too short to carry a country code
    with pytest.raises(InvalidRequestError):
        gotone.get_group("../../me")
    with pytest.raises(InvalidRequestError):
        gotone.create_group("   ")
    with pytest.raises(InvalidRequestError):
        gotone.list_groups(page=0)
    with pytest.raises(ValueError):  # InvalidRequestError is a ValueError too
        gotone.list_contacts("abc", page=-1)
    assert control.requests() == []


def test_unknown_uids_are_not_found(any_client):
    group = any_client.create_group("Known")
    with pytest.raises(NotFoundError):
        any_client.get_group("6065ecdc9184a")
    with pytest.raises(NotFoundError):
        any_client.get_contact(group.uid, "6065ecdc9184a")
    with pytest.raises(NotFoundError):
        any_client.delete_contact(group.uid, "6065ecdc9184a")
    with pytest.raises(NotFoundError):
        any_client.list_contacts("6065ecdc9184a")


def test_contact_of_another_group_is_not_found(any_client):
    first, second = any_client.create_group("A"), any_client.create_group("B")
    contact = any_client.create_contact(first.uid, US)
    with pytest.raises(NotFoundError):  # L: success with null data; M: HTTP 404
        any_client.get_contact(second.uid, contact.uid)
    with pytest.raises(NotFoundError):  # "Something went wrong. Please try again" (404)
        any_client.delete_contact(second.uid, contact.uid)


def test_other_accounts_objects_are_invisible(make_client, control):
    mine = make_client()
    theirs = make_client(token=control.create_account(token="8|someone-else-token-xyz"))
    group = theirs.create_group("Private")
    with pytest.raises(NotFoundError):
        mine.get_group(group.uid)


def test_bad_token_is_an_auth_error(family, make_client):
    client = make_client(family, token="9|wrong-token-value-123")
    with pytest.raises(AuthError) as caught:
        client.list_groups()
    assert caught.value.gateway_message in (
        "Unauthenticated.",
        "These credentials do not match our records.",
    )
    assert "wrong-token" not in str(caught.value)


def test_missing_ability_is_permission_denied(make_client, control):
    limited = control.create_account(token="10|limited-token-abc", abilities=["developers"])
    client = make_client(token=limited)
    with pytest.raises(PermissionDeniedError) as caught:
        client.list_groups()
    assert caught.value.http_status == 403


def test_missing_form_permission_is_permission_denied(make_client, control):
    limited = control.create_account(token="11|no-create-token", permissions=["developers"])
    with pytest.raises(PermissionDeniedError, match="This action is unauthorized."):
        make_client(token=limited).create_group("Nope")


def test_modern_developers_permission(make_client, control):
    control.configure(profile="modern")
    limited = control.create_account(token="12|no-api-token", permissions=["view_reports"])
    with pytest.raises(PermissionDeniedError, match="You do not have permission to access API"):
        make_client("http", token=limited).get_balance()


def test_modern_contact_list_sql_error_surfaces(make_client, control):
    control.configure(profile="modern", quirks={"quirk_modern_contact_list_sql_error": True})
    client = make_client()
    group = client.create_group("Broken")
    with pytest.raises(ApiError):
        client.list_contacts(group.uid)


def test_http_group_delete_quirk_is_confirmed_and_absorbed(make_client, control):
    """§7.5: the http family deletes, then answers an error; the client checks and succeeds."""
    control.configure(quirks={"quirk_http_group_delete_error": True})
    client = make_client("http")
    group = client.create_group("Doomed")
    client.delete_group(group.uid)
    with pytest.raises(NotFoundError):
        client.get_group(group.uid)


def test_modern_http_view_contact_is_forbidden(make_client, control):
    """§8.2: M's http view-contact checks abilities of a user without a token: always 403."""
    control.configure(profile="modern", quirks={"quirk_modern_http_view_contact_forbidden": True})
    client = make_client("http")
    group = client.create_group("Forbidden")
    contact = client.create_contact(group.uid, US)
    with pytest.raises(PermissionDeniedError):
        client.get_contact(group.uid, contact.uid)


def test_uid_with_seven_digits_in_a_row_is_shown_whole(gotone):
    # Masking is for phone numbers; a uid is needed whole to find what was not found.
    with pytest.raises(NotFoundError) as caught:
        gotone.get_group("60a1234567b")
    assert str(caught.value).endswith("] 60a1234567b")
