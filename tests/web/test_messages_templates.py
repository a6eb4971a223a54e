"""Message templates: create, edit, delete, start a compose from one; viewers only read."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import AuditEvent, MessageTemplate
from app.permissions import Role
from tests.factories import add_member, login, make_user, make_workspace


@pytest.fixture
def owner(client, sim_workspace):
    user = sim_workspace.memberships[0].user
    login(client, user)
    return user


@pytest.fixture
def url(sim_workspace):
    return f"/w/{sim_workspace.id}/messages/templates"


def _create(client, url, name="Reminder", text="Hi {first_name|there}, see you at 9"):
    return client.post(url, data={"name": name, "text": text})


def test_create_edit_delete(client, owner, url, sim_workspace):
    response = _create(client, url, name="  Reminder  ")
    assert response.status_code == 303 and response.location.endswith(url)
    template = MessageTemplate.query.one()
    assert template.name == "Reminder" and template.workspace_id == sim_workspace.id
    page = client.get(url).get_data(as_text=True)
    assert "Reminder" in page and "Template saved." in page

    edit_url = f"{url}/{template.id}/edit"
    form = client.get(edit_url)
    assert form.status_code == 200 and "see you at 9" in form.get_data(as_text=True)
    response = client.post(edit_url, data={"name": "Reminder", "text": "Changed text"})
    assert response.status_code == 303
    assert MessageTemplate.query.one().text == "Changed text"

    response = client.post(f"{url}/{template.id}/delete")
    assert response.status_code == 303
    assert MessageTemplate.query.count() == 0
    assert "No templates yet." in client.get(url).get_data(as_text=True)
    actions = [e.action for e in AuditEvent.query.order_by(AuditEvent.id)]
    assert actions[-3:] == ["template.saved", "template.saved", "template.deleted"]


def test_bad_and_duplicate_names_are_refused_in_place(client, owner, url):
    assert _create(client, url).status_code == 303
    again = _create(client, url, text="Other")
    assert again.status_code == 422
    assert "already exists" in again.get_data(as_text=True)
    blank = _create(client, url, name="   ")
    assert blank.status_code == 422 and "Enter a name." in blank.get_data(as_text=True)
    other = _create(client, url, name="Other")
    assert other.status_code == 303
    template = MessageTemplate.query.filter_by(name="Other").one()
    clash = client.post(f"{url}/{template.id}/edit", data={"name": "Reminder", "text": "x"})
    assert clash.status_code == 422 and "already exists" in clash.get_data(as_text=True)
    assert MessageTemplate.query.filter_by(name="Other").one().text.startswith("Hi ")


def test_use_a_template_in_compose(client, owner, url, sim_workspace):
    _create(client, url, text="Doors open <at> nine")
    template = MessageTemplate.query.one()
    compose_url = f"/w/{sim_workspace.id}/messages/compose?template={template.id}"
    assert compose_url in client.get(url).get_data(as_text=True)
    compose = client.get(compose_url)
    assert compose.status_code == 200
    body = compose.get_data(as_text=True)
    assert "Doors open &lt;at&gt; nine</textarea>" in body
    # The compose page lists the templates too.
    plain = client.get(f"/w/{sim_workspace.id}/messages/compose").get_data(as_text=True)
    assert compose_url in plain


def test_templates_of_another_workspace_are_not_found(client, owner, url, sim_workspace):
    stranger = make_workspace(make_user())
    foreign = MessageTemplate(workspace_id=stranger.id, name="Theirs", text="Secret text")
    db.session.add(foreign)
    db.session.commit()
    assert client.get(f"{url}/{foreign.id}/edit").status_code == 404
    assert client.post(f"{url}/{foreign.id}/delete").status_code == 404
    compose = client.get(f"/w/{sim_workspace.id}/messages/compose?template={foreign.id}")
    assert compose.status_code == 200 and "Secret text" not in compose.get_data(as_text=True)
    assert "Theirs" not in client.get(url).get_data(as_text=True)
    assert MessageTemplate.query.filter_by(name="Theirs").one().text == "Secret text"


def test_viewers_read_templates_but_cannot_change_or_use_them(client, sim_workspace, url):
    login(client, sim_workspace.memberships[0].user)
    _create(client, url)
    template = MessageTemplate.query.one()
    viewer = add_member(sim_workspace, make_user(), Role.VIEWER)
    login(client, viewer)
    page = client.get(url)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Reminder" in body and "New template" not in body and "/delete" not in body
    assert _create(client, url, name="Mine").status_code == 403
    assert client.get(f"{url}/{template.id}/edit").status_code == 403
    edit = client.post(f"{url}/{template.id}/edit", data={"name": "X", "text": "Y"})
    assert edit.status_code == 403
    assert client.post(f"{url}/{template.id}/delete").status_code == 403
    compose = f"/w/{sim_workspace.id}/messages/compose?template={template.id}"
    assert client.get(compose).status_code == 403
    assert [t.name for t in MessageTemplate.query] == ["Reminder"]
