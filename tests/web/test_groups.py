"""Groups pages and fragments against the simulator: paging, create, rename, delete, errors."""

from __future__ import annotations

import pytest

from app.models import AuditEvent
from app.permissions import Role
from tests.conftest import HX
from tests.factories import add_member, login, make_user

BOOSTED = {**HX, "HX-Boosted": "true"}


@pytest.fixture
def owner(client, sim_workspace):
    user = sim_workspace.memberships[0].user
    login(client, user)
    return user


@pytest.fixture
def url(sim_workspace):
    return f"/w/{sim_workspace.id}/groups"


def _calls(sim, path=None):
    return [r for r in sim.control.requests(path) if "/api/" in r["path"]]


def _seed_groups(sim, token, count):
    return [sim.control.seed_group(token, f"Group {i:02d}")["uid"] for i in range(count)]


def test_index_is_a_page_for_plain_and_boosted_requests_and_a_table_for_htmx(client, owner, url):
    for headers in ({}, BOOSTED):
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
        assert "HX-Request" in response.headers["Vary"]
    fragment = client.get(url, headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="groups-table">')
    assert "HX-Request" in fragment.headers["Vary"]


def test_empty_states_tell_editors_and_viewers_what_to_do(client, owner, url, sim_workspace):
    assert "Create one above" in client.get(url).get_data(as_text=True)
    viewer = add_member(sim_workspace, make_user(), Role.VIEWER)
    login(client, viewer)
    page = client.get(url).get_data(as_text=True)
    assert "Ask a member" in page and 'id="group-form"' not in page


def test_groups_are_paged_25_with_one_gateway_call_per_view(client, owner, url, sim, gateway_token):
    uids = _seed_groups(sim, gateway_token, 30)
    before = len(_calls(sim))
    page2 = client.get(f"{url}?page=2", headers=HX).get_data(as_text=True)
    assert len(_calls(sim)) == before + 1
    assert uids[25] in page2 and uids[24] not in page2 and "Page 2 of 2" in page2
    assert f'href="{url}?page=1"' in page2 and 'hx-push-url="true"' in page2
    full = client.get(f"{url}?page=2").get_data(as_text=True)
    assert len(_calls(sim)) == before + 2 and "<html" in full and uids[29] in full


@pytest.mark.parametrize("page", ["0", "-3", "x", "999999999"])
def test_unusable_page_numbers_show_the_first_page(client, owner, url, page):
    assert client.get(f"{url}?page={page}").status_code == 200


def test_a_page_past_the_end_shows_the_last_page(client, owner, url, sim, gateway_token):
    """Issue 12 item 30: not "Page 4 of 1" with no rows."""
    _seed_groups(sim, gateway_token, 2)
    body = client.get(f"{url}?page=4").get_data(as_text=True)
    assert "no groups on this page" not in body and "Page 4" not in body
    assert "Group 00" in body and "Group 01" in body


def test_create_goes_to_the_new_group_and_is_audited(client, owner, url, sim, db):
    response = client.post(url, data={"name": "  Friends  "})
    assert response.status_code == 303
    uid = response.headers["Location"].rsplit("/", 1)[1]
    assert _calls(sim, "/api/v3/contacts")[-1]["json"] == {"name": "Friends"}
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "group.created"))
    assert (event.actor_id, event.target, event.details) == (owner.id, uid, {"name": "Friends"})
    hx = client.post(url, data={"name": "Family"}, headers=HX)
    assert hx.status_code == 200 and hx.headers["HX-Redirect"].startswith(url + "/")


def test_duplicate_name_is_shown_next_to_the_field_with_422(client, owner, url, sim, gateway_token):
    sim.control.seed_group(gateway_token, "Friends")
    fragment = client.post(url, data={"name": "friends"}, headers=HX)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 422 and "<html" not in body
    assert body.lstrip().startswith('<form id="group-form"')
    assert 'class="field-error">A group with this name already exists.' in body
    page = client.post(url, data={"name": "friends"})
    assert page.status_code == 422 and "<html" in page.get_data(as_text=True)


def test_empty_name_is_refused_without_a_gateway_call(client, owner, url, sim):
    before = len(_calls(sim))
    response = client.post(url, data={"name": "   "}, headers=HX)
    assert response.status_code == 422 and "field-error" in response.get_data(as_text=True)
    assert len(_calls(sim)) == before


def test_rename_inline_row_editor_and_back(client, owner, url, sim, gateway_token, db):
    uid = sim.control.seed_group(gateway_token, "Old")["uid"]
    editor = client.get(f"{url}/{uid}/edit?page=2", headers=HX)
    body = editor.get_data(as_text=True)
    assert body.lstrip().startswith(f'<tr id="group-{uid}" class="editor">')
    assert 'value="Old"' in body and f'hx-get="{url}/{uid}/row?page=2"' in body
    assert "HX-Request" in editor.headers["Vary"]
    saved = client.post(f"{url}/{uid}?page=2", data={f"edit-{uid}-name": "New"}, headers=HX)
    body = saved.get_data(as_text=True)
    assert saved.status_code == 200 and body.lstrip().startswith(f'<tr id="group-{uid}">')
    assert ">New</a>" in body and 'hx-swap-oob="true"' in body
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "group.renamed"))
    assert event.actor_id == owner.id and event.details == {"name": "New"}
    cancel = client.get(f"{url}/{uid}/row", headers=HX).get_data(as_text=True)
    assert cancel.lstrip().startswith(f'<tr id="group-{uid}">') and ">New</a>" in cancel


def test_rename_without_javascript(client, owner, url, sim, gateway_token):
    uid = sim.control.seed_group(gateway_token, "Old")["uid"]
    sim.control.seed_group(gateway_token, "Taken")
    page = client.get(f"{url}/{uid}/edit").get_data(as_text=True)
    assert "<html" in page and "hx-post" not in page.split("<main")[1]
    assert client.get(f"{url}/{uid}/row").status_code == 302
    taken = client.post(f"{url}/{uid}", data={f"edit-{uid}-name": "Taken"})
    assert taken.status_code == 422 and "already exists" in taken.get_data(as_text=True)
    done = client.post(f"{url}/{uid}?page=3", data={f"edit-{uid}-name": "New"})
    assert done.status_code == 303 and done.headers["Location"] == f"{url}?page=3"


def test_delete_confirms_that_contacts_go_too_then_removes_the_row(
    client, owner, url, sim, gateway_token, db
):
    contacts = [{"phone": f"1202555{i:04d}"} for i in range(3)]
    uid = sim.control.seed_group(gateway_token, "Doomed", contacts)["uid"]
    confirm = client.get(f"{url}/{uid}/delete", headers=HX).get_data(as_text=True)
    assert confirm.lstrip().startswith(f'<tr id="group-{uid}" class="confirm">')
    assert "Its contacts are deleted with it (3 in total)." in confirm and "hx-post" in confirm
    gone = client.post(f"{url}/{uid}/delete", headers=HX)
    body = gone.get_data(as_text=True)
    assert gone.status_code == 200 and "<tr" not in body and 'id="flash"' in body
    assert client.get(f"{url}/{uid}").status_code == 404
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "group.deleted"))
    assert event.actor_id == owner.id and event.target == uid


def test_delete_without_javascript_has_a_confirmation_page(client, owner, url, sim, gateway_token):
    uid = sim.control.seed_group(gateway_token, "Doomed")["uid"]
    page = client.get(f"{url}/{uid}/delete").get_data(as_text=True)
    assert "<html" in page and "(0 in total)" in page
    assert "hx-post" not in page.split("<main")[1]
    done = client.post(f"{url}/{uid}/delete?page=2")
    assert done.status_code == 303 and done.headers["Location"] == f"{url}?page=2"


def test_group_page_makes_two_calls_and_its_table_fragment_one(
    client, owner, url, sim, gateway_token
):
    contacts = [{"phone": f"1202555{i:04d}", "first_name": f"F{i}"} for i in range(60)]
    uid = sim.control.seed_group(gateway_token, "Big", contacts)["uid"]
    before = len(_calls(sim))
    page = client.get(f"{url}/{uid}?page=2")
    assert page.status_code == 200 and "Page 2 of 3" in page.get_data(as_text=True)
    calls = _calls(sim)[before:]
    assert [c["path"].rsplit("/", 1)[1] for c in calls] == ["show", "all"]
    fragment = client.get(f"{url}/{uid}?page=3", headers=HX)
    body = fragment.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="contacts-table">') and "F59" in body
    assert "F49" not in body and "HX-Request" in fragment.headers["Vary"]
    assert len(_calls(sim)) == before + 3


@pytest.mark.parametrize(
    "path",
    ["/ABCDEF0123456", "/0123456789ab", "/0123456789abcd/edit", "/zzzzzzzzzzzzz/delete", "/../1"],
)
def test_malformed_uids_are_404_without_a_gateway_call(client, owner, url, sim, path):
    before = len(_calls(sim))
    assert client.get(url + path).status_code == 404
    assert len(_calls(sim)) == before


@pytest.mark.parametrize("suffix", ["", "/edit", "/row", "/delete"])
def test_a_group_that_no_longer_exists_is_a_404_page_or_fragment(client, owner, url, suffix):
    missing = f"{url}/0123456789abc{suffix}"
    fragment = client.get(missing, headers=HX)
    assert fragment.status_code == 404 and 'role="alert"' in fragment.get_data(as_text=True)
    if suffix != "/row":
        page = client.get(missing)
        assert page.status_code == 404 and "<html" in page.get_data(as_text=True)


def test_everything_from_the_gateway_is_escaped(client, owner, url, sim, gateway_token):
    name = '<script>alert("x")</script>'
    sim.control.seed_group(gateway_token, name)
    body = client.get(url).get_data(as_text=True)
    assert name not in body and "&lt;script&gt;" in body


def test_viewers_see_groups_read_only_and_cannot_write(
    client, sim_workspace, url, sim, gateway_token
):
    uid = sim.control.seed_group(gateway_token, "Friends", [{"phone": "12025550100"}])["uid"]
    login(client, add_member(sim_workspace, make_user(), Role.VIEWER))
    for page in (client.get(url), client.get(f"{url}/{uid}")):
        body = page.get_data(as_text=True).split("<main")[1]
        assert page.status_code == 200 and "<form" not in body and "<button" not in body
        assert "/edit" not in body and "/delete" not in body
    before = len(_calls(sim))
    assert client.post(url, data={"name": "X"}).status_code == 403
    assert client.post(f"{url}/{uid}/delete").status_code == 403
    assert len(_calls(sim)) == before


def test_each_workspace_sees_only_its_own_account_even_with_forged_uids(client, sim):
    from tests.factories import make_workspace

    worlds = []
    for n in (1, 2):
        token = sim.control.create_account(token=f"{n}|tenant-token-{n}-abcd")
        seeded = sim.control.seed_group(
            token,
            f"Secret group {n}",
            [
                {"phone": f"1202555010{n}", "first_name": f"Private{n}"},
            ],
        )
        owner = make_user()
        ws = make_workspace(owner, base_url=sim.api_url("v3"), token=token)
        worlds.append((owner, ws, seeded["uid"], seeded["contact_uids"][0]))
    for (owner, ws, uid, contact), (_, _, other_uid, other_contact) in (worlds, worlds[::-1]):
        login(client, owner)
        base = f"/w/{ws.id}/groups"
        own = client.get(base).get_data(as_text=True)
        assert uid in own and other_uid not in own
        assert client.get(f"{base}/{uid}/contacts/{contact}").status_code == 200
        forged = [
            client.get(f"{base}/{other_uid}"),
            client.get(f"{base}/{other_uid}", headers=HX),
            client.get(f"{base}/{other_uid}/contacts/{other_contact}"),
            client.get(f"{base}/{uid}/contacts/{other_contact}"),
            client.get(f"{base}/{other_uid}/edit", headers=HX),
            client.post(f"{base}/{other_uid}", data={f"edit-{other_uid}-name": "Mine now"}),
            client.post(f"{base}/{other_uid}/contacts/{other_contact}/delete"),
            client.post(f"{base}/{other_uid}/delete"),
        ]
        for response in forged:
            body = response.get_data(as_text=True)
            assert response.status_code == 404
            assert "Secret group" not in body and "Private" not in body
    for owner, ws, uid, contact in worlds:
        login(client, owner)
        page = client.get(f"/w/{ws.id}/groups/{uid}").get_data(as_text=True)
        assert contact in page  # nothing of theirs was renamed or deleted by the other
