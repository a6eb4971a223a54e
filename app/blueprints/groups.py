"""Gateway contact groups: list, create, rename inline, delete with confirmation, group page.

Nothing is stored in the portal: each view makes the one gateway call it needs through
services.groups / services.contacts; gateway errors propagate to app/errors.py.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..forms import EmptyForm
from ..forms.groups import GroupForm
from ..gotone.errors import ValidationError
from ..pages import editor_prefix, group_page, page_arg
from ..rendering import is_fragment_request, redirect_to, render_page, without_content
from ..security import workspace_required
from ..services import groups

bp = Blueprint("groups", __name__, url_prefix="/w/<int:workspace_id>/groups")
TEMPLATE = "groups/index.html"


def _index(block: str, status: int = 200, form: GroupForm | None = None):
    result = None
    if block == "groups_table" or not is_fragment_request():
        result = groups.list_groups(g.workspace, page_arg())
    page = result.page if result is not None else page_arg()
    return render_page(
        TEMPLATE, block, status, result=result, page=page, form=form or GroupForm(formdata=None)
    )


def _index_url(**extra) -> str:
    return url_for("groups.index", workspace_id=g.workspace.id, page=page_arg(), **extra)


@bp.get("")
@workspace_required("workspace.view")
def index(workspace_id):
    return _index("groups_table")


@bp.post("")
@workspace_required("contacts.edit")
def create(workspace_id):
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = groups.create_group(g.workspace, current_user, form.name.data)
        except ValidationError as error:
            form.name.errors.append(groups.name_message(error))
        else:
            flash(
                _("Group “%(name)s” created. Add its contacts below.", name=group.name), "success"
            )
            return redirect_to(
                url_for("groups.show", workspace_id=workspace_id, group_uid=group.uid)
            )
    return _index("group_form", 422, form)


@bp.get("/<uid:group_uid>")
@workspace_required("workspace.view")
def show(workspace_id, group_uid):
    return group_page(group_uid, "contacts_table")


@bp.get("/<uid:group_uid>/row")
@workspace_required("workspace.view")
def row(workspace_id, group_uid):
    if not is_fragment_request():
        return redirect(_index_url())
    group = groups.get_group(g.workspace, group_uid)
    return render_page(TEMPLATE, "group_row", group=group, page=page_arg())


@bp.get("/<uid:group_uid>/edit")
@workspace_required("contacts.edit")
def edit(workspace_id, group_uid):
    group = groups.get_group(g.workspace, group_uid)
    form = GroupForm(formdata=None, obj=group, prefix=editor_prefix(group_uid))
    return render_page(
        "groups/edit.html",
        "group_editor",
        group_uid=group_uid,
        page=page_arg(),
        form=form,
        inline=is_fragment_request(),
    )


@bp.post("/<uid:group_uid>")
@workspace_required("contacts.edit")
def update(workspace_id, group_uid):
    form = GroupForm(prefix=editor_prefix(group_uid))
    if form.validate_on_submit():
        try:
            group = groups.rename_group(g.workspace, current_user, group_uid, form.name.data)
        except ValidationError as error:
            form.name.errors.append(groups.name_message(error))
        else:
            flash(_("Group renamed to “%(name)s”.", name=group.name), "success")
            if is_fragment_request():
                return render_page(TEMPLATE, "group_row", group=group, page=page_arg())
            return redirect_to(_index_url())
    return render_page(
        "groups/edit.html",
        "group_editor",
        422,
        group_uid=group_uid,
        page=page_arg(),
        form=form,
        inline=is_fragment_request(),
    )


@bp.get("/<uid:group_uid>/delete")
@workspace_required("contacts.edit")
def confirm_delete(workspace_id, group_uid):
    preview = groups.deletion_preview(g.workspace, group_uid)
    return render_page(
        "groups/delete.html",
        "group_delete",
        preview=preview,
        page=page_arg(),
        form=EmptyForm(formdata=None),
        inline=is_fragment_request(),
    )


@bp.post("/<uid:group_uid>/delete")
@workspace_required("contacts.edit")
def delete(workspace_id, group_uid):
    if not EmptyForm().validate_on_submit():
        abort(400)
    groups.delete_group(g.workspace, current_user, group_uid)
    flash(_("Group deleted, with its contacts."), "info")
    if is_fragment_request():
        return without_content()
    return redirect_to(_index_url())
