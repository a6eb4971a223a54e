"""Contacts of a group against the simulator: add, phone rules, inline edit, delete, detail."""

from __future__ import annotations

import pytest

from app.models import AuditEvent, GoToneSettings
from app.permissions import Role
from tests.conftest import HX
from tests.factories import add_member, login, make_user


@pytest.fixture
def owner(client, sim_workspace):
    user = sim_workspace.memberships[0].user
    login(client, user)
    return user


@pytest.fixture
def group(sim, gateway_token, sim_workspace):
    seeded = sim.control.seed_group(
        gateway_token,
        "Friends",
        [
            {"phone": "12025550100", "first_name": "Ann", "last_name": "Lee"},
        ],
    )
    return {
        "uid": seeded["uid"],
        "contact": seeded["contact_uids"][0],
        "url": f"/w/{sim_workspace.id}/groups/{seeded['uid']}",
    }


def _calls(sim):
    return [r for r in sim.control.requests() if "/api/" in r["path"]]


def _edited(uid, **fields):
    """Form data of a row editor (its fields carry the uid, see groups.editor_prefix)."""
    return {f"edit-{uid}-{name}": value for name, value in fields.items()}


def _sent_phone(sim):
    return _calls(sim)[-1]["json"]["phone"]


@pytest.mark.parametrize(
    "typed, country, sent",
    [
        ("(202) 555-0175", "US", "12025550175"),
        ("202.555.0175", "US", "12025550175"),
        ("+44 20 7946 0958", "US", "442079460958"),
        ("0044 20 7946 0958", "US", "442079460958"),
        ("020 7946 0958", "GB", "442079460958"),
        ("138 0013 8000", "CN", "8613800138000"),
    ],
)
def test_phone_numbers_reach_the_gateway_as_digits_with_country_code(
    client, owner, group, sim, sim_workspace, db, typed, country, sent
):
    db.session.get(GoToneSettings, sim_workspace.id).default_country = country
    db.session.commit()
    response = client.post(group["url"] + "/contacts", data={"phone": typed, "first_name": "Bo"})
    assert response.status_code == 303
    assert _sent_phone(sim) == sent


@pytest.mark.parametrize(
    "typed, message",
    [
        ("123", "too short"),
        ("+1 202 555 01755555555", "too long"),
        ("hello", "not a phone number"),
        ("", "Enter a phone number."),
        ("+999 1234567", "country code is not valid"),
    ],
)
def test_impossible_numbers_are_refused_in_place_without_a_gateway_call(
    client, owner, group, sim, typed, message
):
    before = len(_calls(sim))
    response = client.post(group["url"] + "/contacts", data={"phone": typed}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and body.lstrip().startswith('<form id="contact-form"')
    assert 'class="field-error"' in body and message in body
    assert len(_calls(sim)) == before


def test_add_with_htmx_returns_a_fresh_form_and_the_table_out_of_band(
    client, owner, group, sim, db
):
    before = len(_calls(sim))
    response = client.post(
        group["url"] + "/contacts?page=1",
        headers=HX,
        data={"phone": "+1 202 555 0101", "first_name": "<b>Bo</b>"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<form id="contact-form"') and 'value="+1' not in body
    assert '<div id="contacts-table" hx-swap-oob="true">' in body and "Total: 2" in body
    assert "&lt;b&gt;Bo&lt;/b&gt;" in body and "<b>Bo" not in body
    assert "Contact +1 202-555-0101 added." in body
    assert [c["path"].rsplit("/", 1)[1] for c in _calls(sim)[before:]] == ["store", "all"]
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "contact.created"))
    assert event.actor_id == owner.id and event.details["group"] == group["uid"]


def test_duplicate_phone_is_shown_next_to_the_field(client, owner, group):
    for headers in (HX, {}):
        response = client.post(
            group["url"] + "/contacts", data={"phone": "+12025550100"}, headers=headers
        )
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        assert 'class="field-error">This number is already in the group.' in body
        assert ("<html" in body) is (headers == {})


@pytest.mark.parametrize(
    "phone, message",
    [
        ("+1 202 555 0199", "This number is on the account&#39;s blacklist."),
        ("+1 202 555 0100", "This number is already in the group."),
    ],
)
def test_modern_gateway_validation_messages(
    client, owner, group, sim, gateway_token, phone, message
):
    sim.control.configure(profile="modern")
    sim.control.blacklist(gateway_token, ["12025550199"])
    response = client.post(group["url"] + "/contacts", data={"phone": phone}, headers=HX)
    assert response.status_code == 422
    assert f'class="field-error">{message}' in response.get_data(as_text=True)


def test_edit_a_row_inline_and_cancel(client, owner, group, sim, db):
    contact = f"{group['url']}/contacts/{group['contact']}"
    editor = client.get(contact + "/edit?page=1", headers=HX)
    body = editor.get_data(as_text=True)
    assert body.lstrip().startswith(f'<tr id="contact-{group["contact"]}" class="editor">')
    assert 'value="+12025550100"' in body and 'value="Ann"' in body
    assert f'id="edit-{group["contact"]}-phone"' in body
    saved = client.post(
        contact + "?page=1",
        headers=HX,
        data=_edited(group["contact"], phone="202-555-0142", first_name="Anna", last_name="Lee"),
    )
    body = saved.get_data(as_text=True)
    assert saved.status_code == 200 and body.lstrip().startswith(
        f'<tr id="contact-{group["contact"]}">'
    )
    assert "+1 202-555-0142" in body and ">Anna<" in body and 'hx-swap-oob="true"' in body
    assert _sent_phone(sim) == "12025550142"
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "contact.updated"))
    assert event.actor_id == owner.id and event.target == group["contact"]
    row = client.get(contact + "/row", headers=HX).get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="contact-{group["contact"]}">') and "Anna" in row


def test_edit_with_a_bad_number_stays_in_the_editor(client, owner, group, sim):
    contact = f"{group['url']}/contacts/{group['contact']}"
    before = len(_calls(sim))
    response = client.post(contact, headers=HX, data=_edited(group["contact"], phone="12"))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'class="editor"' in body and "field-error" in body
    assert len(_calls(sim)) == before


def test_edit_and_delete_without_javascript(client, owner, group, sim):
    contact = f"{group['url']}/contacts/{group['contact']}"
    page = client.get(contact + "/edit").get_data(as_text=True)
    assert "<html" in page and "hx-post" not in page.split("<main")[1]
    assert client.get(contact + "/row").status_code == 302
    saved = client.post(
        contact + "?page=2", data=_edited(group["contact"], phone="+1 202 555 0143")
    )
    assert saved.status_code == 303 and saved.headers["Location"] == f"{group['url']}?page=2"
    deleted = client.post(contact + "/delete")
    assert deleted.status_code == 303 and deleted.headers["Location"] == f"{group['url']}?page=1"
    assert client.get(contact).status_code == 404


def test_delete_a_row_in_place(client, owner, group, db):
    contact = f"{group['url']}/contacts/{group['contact']}"
    response = client.post(contact + "/delete", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<tr" not in body and 'hx-swap-oob="true"' in body
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "contact.deleted"))
    assert event.actor_id == owner.id and event.target == group["contact"]
    again = client.post(contact + "/delete", headers=HX)
    assert again.status_code == 404 and 'role="alert"' in again.get_data(as_text=True)


def test_contact_detail_page_makes_one_call(client, owner, group, sim):
    before = len(_calls(sim))
    response = client.get(f"{group['url']}/contacts/{group['contact']}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "+1 202-555-0100" in body and "Ann" in body
    assert len(_calls(sim)) == before + 1


def test_unknown_or_malformed_contact_is_404(client, owner, group, sim):
    assert client.get(f"{group['url']}/contacts/0123456789abc").status_code == 404
    before = len(_calls(sim))
    assert client.get(f"{group['url']}/contacts/NOT-A-UID").status_code == 404
    assert client.post(f"{group['url']}/contacts/123/delete").status_code == 404
    assert len(_calls(sim)) == before


def test_group_page_empty_state_and_page_past_the_end(
    client, owner, sim, gateway_token, sim_workspace
):
    uid = sim.control.seed_group(gateway_token, "Empty")["uid"]
    url = f"/w/{sim_workspace.id}/groups/{uid}"
    assert "Add the first one" in client.get(url).get_data(as_text=True)
    # Past the end: the last page (issue 12 item 30), not "Page 3 of 1" with no rows.
    past = client.get(url + "?page=3").get_data(as_text=True)
    assert "Add the first one" in past and "Page 3 of" not in past


def test_a_page_past_the_end_shows_the_last_page(client, owner, sim, gateway_token, sim_workspace):
    people = [{"phone": f"1202555{n:04d}", "first_name": f"N{n}"} for n in range(30)]
    uid = sim.control.seed_group(gateway_token, "Thirty", people)["uid"]
    for n in range(27):  # two pages of groups
        sim.control.seed_group(gateway_token, f"G{n:02d}")
    for url, block in (
        (f"/w/{sim_workspace.id}/groups/{uid}?page=9", "#contacts-table"),
        (f"/w/{sim_workspace.id}/groups?page=9", "#groups-table"),
    ):
        page = client.get(url).get_data(as_text=True)
        assert "Page 2 of 2" in page and "Page 9" not in page, url
        assert 'rel="prev"' in page and 'rel="next"' not in page
        fragment = client.get(url, headers=HX).get_data(as_text=True)
        assert "Page 2 of 2" in fragment, block


def test_viewers_see_contacts_read_only(client, sim_workspace, group, sim):
    login(client, add_member(sim_workspace, make_user(), Role.VIEWER))
    contact = f"{group['url']}/contacts/{group['contact']}"
    for url in (group["url"], contact):
        body = client.get(url).get_data(as_text=True).split("<main")[1]
        assert "<form" not in body and "<button" not in body and "Ann" in body
    before = len(_calls(sim))
    for url in (group["url"] + "/contacts", contact, contact + "/delete"):
        assert client.post(url, data={"phone": "+12025550111"}).status_code == 403
    assert client.get(contact + "/edit").status_code == 403
    assert len(_calls(sim)) == before
