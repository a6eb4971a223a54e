"""Workspace list, creation, dashboard, rename, leave, transfer, delete."""

from __future__ import annotations

from flask import abort, flash, g, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...exceptions import RuleError
from ...forms import EmptyForm
from ...forms.reauth import ConfirmDeleteForm
from ...forms.workspaces import TransferForm, WorkspaceForm
from ...pages import dashboard_context
from ...rendering import redirect_to, render_page
from ...security import workspace_required
from ...services import gotone, keys, workspaces
from .base import bp
from .settings import reauthenticate


@bp.get("/")
@login_required
def home():
    memberships = workspaces.memberships_of(current_user)
    by_id = {m.workspace_id: m for m in memberships}
    chosen = by_id.get(session.get("workspace_id") or 0) or (
        memberships[0] if memberships else None
    )
    if chosen is None:
        return redirect(url_for("workspaces.index"))
    return redirect(url_for("workspaces.show", workspace_id=chosen.workspace_id))


def _index(form: WorkspaceForm, status: int = 200):
    return render_page(
        "workspaces/index.html",
        "workspace_form",
        status,
        form=form,
        memberships=workspaces.memberships_of(current_user),
    )


@bp.get("/w")
@login_required
def index():
    return _index(WorkspaceForm(formdata=None))


@bp.post("/w")
@login_required
def create():
    form = WorkspaceForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    workspace = workspaces.create(form.name.data, current_user)
    flash(_("Workspace created. Set its GoTone token in the settings."), "success")
    return redirect_to(url_for("workspaces.show", workspace_id=workspace.id))


@bp.get("/w/<int:workspace_id>")
@workspace_required("workspace.view")
def show(workspace_id):
    # The landing page is the dashboard (app/blueprints/dashboard.py renders its cards alone).
    return render_page(
        "dashboard/index.html",
        "dashboard_cards",
        **dashboard_context(),
        settings=gotone.get_settings(g.workspace),
        keyring_problem=keys.keyring_problem(),
        leave_form=EmptyForm(),
    )


@bp.post("/w/<int:workspace_id>/rename")
@workspace_required("settings.manage")
def rename(workspace_id):
    form = WorkspaceForm()
    if form.validate_on_submit():
        workspaces.rename(g.workspace, current_user, form.name.data)
        flash(_("Workspace renamed."), "success")
    else:
        flash(_("Enter a name of at most 100 characters."), "error")
    return redirect_to(url_for("workspaces.settings", workspace_id=workspace_id))


@bp.post("/w/<int:workspace_id>/leave")
@workspace_required("workspace.view")
def leave(workspace_id):
    if EmptyForm().validate_on_submit():
        try:
            workspaces.leave(g.workspace, g.membership)
        except RuleError as exc:
            flash(str(exc), "error")
            return redirect_to(url_for("workspaces.show", workspace_id=workspace_id))
        session.pop("workspace_id", None)
        flash(_("You have left the workspace."), "info")
    return redirect_to(url_for("workspaces.index"))


@bp.post("/w/<int:workspace_id>/transfer")
@workspace_required("ownership.transfer")
def transfer_ownership(workspace_id):
    form = TransferForm()
    if not form.validate_on_submit():
        abort(422)
    target = workspaces.get_member(g.workspace, form.user_id.data)
    if target is None:
        abort(404)
    try:
        workspaces.transfer_ownership(g.workspace, g.membership, target)
        flash(_("Ownership transferred."), "success")
    except RuleError as exc:
        flash(str(exc), "error")
    return redirect_to(url_for("workspaces.members", workspace_id=workspace_id))


@bp.post("/w/<int:workspace_id>/delete")
@workspace_required("workspace.delete")
def delete(workspace_id):
    form = ConfirmDeleteForm()
    back = url_for("workspaces.settings", workspace_id=workspace_id)
    if not form.validate_on_submit() or form.confirm_name.data.strip() != g.workspace.name:
        flash(_("Type the workspace name exactly to delete it."), "error")
        return redirect_to(back)

    def refused():
        flash(" ".join(form.password.errors), "error")
        return redirect_to(back)

    answer = reauthenticate(form.password, refused)  # deleting asks for the password again
    if answer is not None:
        return answer
    workspaces.delete(g.workspace, current_user)
    session.pop("workspace_id", None)
    flash(_("Workspace deleted."), "info")
    return redirect_to(url_for("workspaces.index"))
