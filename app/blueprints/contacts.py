"""Contacts of a gateway group: add, edit inline, delete in place, detail page.

The group page itself (its contacts table) is groups.show; this blueprint owns the changes.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..filters import format_phone
from ..forms import EmptyForm
from ..forms.contacts import ContactForm
from ..gotone.errors import ValidationError
from ..pages import GROUP_PAGE, editor_prefix, group_page, page_arg
from ..rendering import is_fragment_request, redirect_to, render_page, without_content
from ..security import workspace_required
from ..services import contacts, gotone

bp = Blueprint(
    "contacts", __name__, url_prefix="/w/<int:workspace_id>/groups/<uid:group_uid>/contacts"
)
ONE = "/<uid:contact_uid>"


def _form(**kwargs) -> ContactForm:
    return ContactForm(default_country=gotone.get_settings(g.workspace).default_country, **kwargs)


def _group_url(group_uid: str) -> str:
    return url_for("groups.show", workspace_id=g.workspace.id, group_uid=group_uid, page=page_arg())


def _editor(group_uid: str, contact_uid: str, form: ContactForm, status: int = 200):
    return render_page(
        "contacts/edit.html",
        "contact_editor",
        status,
        form=form,
        page=page_arg(),
        group_uid=group_uid,
        contact_uid=contact_uid,
        inline=is_fragment_request(),
    )


def _save(form: ContactForm, group_uid: str, contact_uid: str | None):
    """Create or update; a refusal the gateway ties to the input lands next to the phone."""
    values = form.values()
    try:
        if contact_uid is None:
            return contacts.create_contact(g.workspace, current_user, group_uid, **values)
        return contacts.update_contact(g.workspace, current_user, group_uid, contact_uid, **values)
    except ValidationError as error:
        form.phone.errors.append(contacts.phone_message(error))
        return None


@bp.post("")
@workspace_required("contacts.edit")
def create(workspace_id, group_uid):
    form = _form()
    if form.validate_on_submit() and (contact := _save(form, group_uid, None)):
        flash(_("Contact %(phone)s added.", phone=format_phone(contact.phone)), "success")
        if not is_fragment_request():
            return redirect_to(_group_url(group_uid))
        # A fresh form, and the table (its total changed) out of band: one list call.
        return group_page(group_uid, "contact_form", oob_table=True, form=_form(formdata=None))
    return group_page(group_uid, "contact_form", 422, form=form)


@bp.get(ONE)
@workspace_required("workspace.view")
def show(workspace_id, group_uid, contact_uid):
    contact = contacts.get_contact(g.workspace, group_uid, contact_uid)
    return render_page(
        "contacts/show.html", contact=contact, group_uid=group_uid, form=EmptyForm(formdata=None)
    )


@bp.get(ONE + "/row")
@workspace_required("workspace.view")
def row(workspace_id, group_uid, contact_uid):
    if not is_fragment_request():
        return redirect(_group_url(group_uid))
    contact = contacts.get_contact(g.workspace, group_uid, contact_uid)
    return render_page(
        GROUP_PAGE, "contact_row", contact=contact, group_uid=group_uid, page=page_arg()
    )


@bp.get(ONE + "/edit")
@workspace_required("contacts.edit")
def edit(workspace_id, group_uid, contact_uid):
    contact = contacts.get_contact(g.workspace, group_uid, contact_uid)
    data = {
        "phone": "+" + contact.phone,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
    }
    form = _form(formdata=None, data=data, prefix=editor_prefix(contact_uid))
    return _editor(group_uid, contact_uid, form)


@bp.post(ONE)
@workspace_required("contacts.edit")
def update(workspace_id, group_uid, contact_uid):
    form = _form(prefix=editor_prefix(contact_uid))
    if form.validate_on_submit() and (contact := _save(form, group_uid, contact_uid)):
        flash(_("Contact %(phone)s saved.", phone=format_phone(contact.phone)), "success")
        if is_fragment_request():
            return render_page(
                GROUP_PAGE, "contact_row", contact=contact, group_uid=group_uid, page=page_arg()
            )
        return redirect_to(_group_url(group_uid))
    return _editor(group_uid, contact_uid, form, 422)


@bp.post(ONE + "/delete")
@workspace_required("contacts.edit")
def delete(workspace_id, group_uid, contact_uid):
    if not EmptyForm().validate_on_submit():
        abort(400)
    contacts.delete_contact(g.workspace, current_user, group_uid, contact_uid)
    flash(_("Contact deleted."), "info")
    if is_fragment_request():
        return without_content()
    return redirect_to(_group_url(group_uid))
