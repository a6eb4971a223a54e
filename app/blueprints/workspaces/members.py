"""Members, roles and invitation links."""

from __future__ import annotations

from flask import abort, flash, g, redirect, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ...exceptions import RuleError
from ...forms import EmptyForm
from ...forms.workspaces import InvitationForm, RoleForm, TransferForm
from ...rendering import redirect_to, render_page
from ...security import workspace_required
from ...services import invitations, workspaces
from .base import after_change, bp

TEMPLATE = "workspaces/members.html"
# The session key of an invitation link being redeemed (kept across the login, see auth).
INVITATION_KEY = "invitation"


def _ctx() -> dict:
    return {
        "members": workspaces.members(g.workspace),
        "invitations": invitations.open_invitations(g.workspace),
        "invitation_form": InvitationForm(formdata=None),
        "button_form": EmptyForm(formdata=None),
        "transfer_form": TransferForm(formdata=None),
        "role_form": RoleForm,
    }


def _refused(form) -> None:
    """A role that is not one of the choices (a forged post): say so, never answer silently."""
    flash(" ".join(str(e) for e in form.role.errors) or _("Choose one of the roles."), "error")


def _target(user_id: int):
    target = workspaces.get_member(g.workspace, user_id)
    if target is None:
        abort(404)  # an id from another workspace is simply not here
    return target


@bp.get("/w/<int:workspace_id>/members")
@workspace_required("workspace.view")
def members(workspace_id):
    return render_page(TEMPLATE, "members_table", **_ctx())


@bp.post("/w/<int:workspace_id>/members/<int:user_id>/role")
@workspace_required("members.manage")
def change_role(workspace_id, user_id):
    target = _target(user_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            workspaces.change_role(g.workspace, g.membership, target, form.role.data)
            flash(_("Role changed."), "success")
        except RuleError as exc:
            flash(str(exc), "error")
    else:
        _refused(form)
    return after_change("workspaces.members", TEMPLATE, "members_table", _ctx)


@bp.post("/w/<int:workspace_id>/members/<int:user_id>/remove")
@workspace_required("members.manage")
def remove_member(workspace_id, user_id):
    target = _target(user_id)
    if EmptyForm().validate_on_submit():
        try:
            workspaces.remove_member(g.workspace, g.membership, target)
            flash(_("Member removed."), "success")
        except RuleError as exc:
            flash(str(exc), "error")
    return after_change("workspaces.members", TEMPLATE, "members_table", _ctx)


@bp.post("/w/<int:workspace_id>/invitations")
@workspace_required("members.manage")
def create_invitation(workspace_id):
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            _, secret = invitations.create(g.workspace, g.membership, form.role.data)
            link = url_for("workspaces.invitation", secret=secret, _external=True)
            # Shown once: only a hash of the secret is stored.
            flash(link, "invite_link")
        except RuleError as exc:
            flash(str(exc), "error")
    else:
        _refused(form)
    return after_change("workspaces.members", TEMPLATE, "invitations_panel", _ctx)


@bp.post("/w/<int:workspace_id>/invitations/<int:invitation_id>/revoke")
@workspace_required("members.manage")
def revoke_invitation(workspace_id, invitation_id):
    invitation = invitations.get(g.workspace, invitation_id)
    if invitation is None:
        abort(404)
    if EmptyForm().validate_on_submit():
        invitations.revoke(g.workspace, current_user, invitation)
        flash(_("Invitation revoked."), "info")
    return after_change("workspaces.members", TEMPLATE, "invitations_panel", _ctx)


@bp.get("/invitations/<secret>")
def invitation(secret):
    """Redeem the link into the session, then leave its URL at once: the secret (a bearer
    credential for days) must not stay in the address bar, the history, a Referer or the
    ?next= of the login and sign-up links. gunicorn's access log redacts this one hit
    (app/access_log.py)."""
    if invitations.find_open(secret) is None:
        abort(404)
    session[INVITATION_KEY] = secret
    return redirect(url_for("workspaces.pending_invitation"), code=303)


def _pending():
    found = invitations.find_open(session.get(INVITATION_KEY) or "")
    if found is None:
        session.pop(INVITATION_KEY, None)
    return found


@bp.get("/invitations/pending")
def pending_invitation():
    found = _pending()
    if found is None:  # used, revoked, expired, or never opened in this browser
        flash(_("This invitation link is not valid any more."), "error")
        return redirect_to(url_for("workspaces.home"))
    return render_page("workspaces/invitation.html", invitation=found, form=EmptyForm())


@bp.post("/invitations/pending")
@login_required
def accept_invitation():
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        workspace = invitations.accept(session.get(INVITATION_KEY) or "", current_user)
    except RuleError as exc:
        flash(str(exc), "error")
        return redirect_to(url_for("workspaces.home"))
    finally:
        session.pop(INVITATION_KEY, None)
    flash(_("You joined %(name)s.", name=workspace.name), "success")
    return redirect_to(url_for("workspaces.show", workspace_id=workspace.id))
