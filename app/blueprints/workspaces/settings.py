"""Gateway settings, the write-only token, and the connection test."""

from __future__ import annotations

from flask import flash, g
from flask_babel import gettext as _
from flask_login import current_user

from ...forms import EmptyForm
from ...forms.workspaces import DeleteForm, SettingsForm, TokenForm, WorkspaceForm
from ...gotone.errors import GoToneError
from ...rendering import render_page
from ...security import workspace_required
from ...services import gotone, keys
from .base import after_change, bp

TEMPLATE = "workspaces/settings.html"


def _ctx(**override) -> dict:
    settings = gotone.get_settings(g.workspace)
    ctx = {
        "settings": settings,
        "settings_form": SettingsForm(formdata=None, obj=settings),
        "token_form": TokenForm(formdata=None),
        "rename_form": WorkspaceForm(formdata=None, obj=g.workspace),
        "delete_form": DeleteForm(formdata=None),
        "button_form": EmptyForm(formdata=None),
        "keyring_problem": keys.keyring_problem(),
        "report": None,
        "gateway_error": None,
    }
    ctx.update(override)
    return ctx


@bp.get("/w/<int:workspace_id>/settings")
@workspace_required("settings.manage")
def settings(workspace_id):
    return render_page(TEMPLATE, **_ctx())


@bp.post("/w/<int:workspace_id>/settings")
@workspace_required("settings.manage")
def update_settings(workspace_id):
    form = SettingsForm()
    if not form.validate_on_submit():
        return render_page(TEMPLATE, "settings_form", 422, **_ctx(settings_form=form))
    values = {name: form[name].data for name in gotone.EDITABLE}
    changed = gotone.update_settings(g.workspace, current_user, values)
    flash(_("Settings saved.") if changed else _("Nothing changed."), "success")
    return after_change("workspaces.settings", TEMPLATE, "settings_form", _ctx)


@bp.post("/w/<int:workspace_id>/settings/token")
@workspace_required("token.manage")
def set_token(workspace_id):
    keys.keyring()  # 503 before reading the form when the server cannot encrypt
    form = TokenForm()
    if not form.validate_on_submit():
        return render_page(TEMPLATE, "token_panel", 422, **_ctx(token_form=form))
    gotone.set_token(g.workspace, current_user, form.token.data)
    flash(_("Token saved. Use “Test connection” to check it."), "success")
    return after_change("workspaces.settings", TEMPLATE, "token_panel", _ctx)


@bp.post("/w/<int:workspace_id>/settings/token/clear")
@workspace_required("token.manage")
def clear_token(workspace_id):
    if EmptyForm().validate_on_submit():
        gotone.clear_token(g.workspace, current_user)
        flash(_("Token removed."), "info")
    return after_change("workspaces.settings", TEMPLATE, "token_panel", _ctx)


@bp.post("/w/<int:workspace_id>/settings/test")
@workspace_required("token.manage")
def test_connection(workspace_id):
    if not EmptyForm().validate_on_submit():
        return render_page(TEMPLATE, "connection_result", 400, **_ctx())
    try:
        report, error = gotone.test_connection(g.workspace), None
    except GoToneError as exc:
        # A failed test is a result to show in place, not a page error.
        report, error = None, str(exc)
    return render_page(TEMPLATE, "connection_result", **_ctx(report=report, gateway_error=error))
