"""Gateway settings, the write-only token, and the connection test.

Changing the gateway URL or API family and replacing the token ask for the member's password
again (services/reauth.py): these decide where the token goes.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, flash, g, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...exceptions import ReauthError
from ...forms import EmptyForm
from ...forms.reauth import ConfirmDeleteForm, GatewaySettingsForm, ReplaceTokenForm
from ...forms.workspaces import WorkspaceForm
from ...gotone.errors import GoToneError
from ...rendering import redirect_to, render_page, with_oob
from ...security import workspace_required
from ...services import gotone, health, keys, reauth
from .base import after_change, bp

TEMPLATE = "workspaces/settings.html"


def _ctx(**override) -> dict:
    settings = gotone.get_settings(g.workspace)
    ctx = {
        "settings": settings,
        "settings_form": GatewaySettingsForm(formdata=None, obj=settings),
        "token_form": ReplaceTokenForm(formdata=None),
        "rename_form": WorkspaceForm(formdata=None, obj=g.workspace),
        "delete_form": ConfirmDeleteForm(formdata=None),
        "button_form": EmptyForm(formdata=None),
        "keyring_problem": keys.keyring_problem(),
        "reauth_needed": not reauth.window_open(current_user),
        "report": None,
        "gateway_error": None,
    }
    ctx.update(override)
    return ctx


def reauthenticate(field, refused: Callable[[], Response]) -> Response | None:
    """Ask for the password again (`field`); None when confirmed, else the answer to give:
    `refused()` with the field's error set, or the login page once the session has ended."""
    try:
        reauth.confirm(current_user, field.data)
    except ReauthError as exc:
        if exc.signed_out:
            flash(str(exc), "error")
            return redirect_to(url_for("auth.login"))
        field.errors = [*field.errors, str(exc)]
        return refused()
    return None


@bp.get("/w/<int:workspace_id>/settings")
@workspace_required("settings.manage")
def settings(workspace_id):
    return render_page(TEMPLATE, **_ctx())


def _flash_change(change) -> None:
    """What the settings form's save did, in one message."""
    if change.token_cleared:
        message = _(
            "Settings saved. The API token was removed because the gateway URL or "
            "API family changed: enter the token for the new gateway below."
        )
        flash(message, "warning")
    elif change.token_stored:
        flash(_("Settings and token saved. Use “Test connection” to check them."), "success")
    else:
        flash(_("Settings saved.") if change.changed else _("Nothing changed."), "success")


@bp.post("/w/<int:workspace_id>/settings")
@workspace_required("settings.manage")
def update_settings(workspace_id):
    form = GatewaySettingsForm()
    if not form.validate_on_submit():
        return render_page(TEMPLATE, "settings_form", 422, **_ctx(settings_form=form))
    values = {name: form[name].data for name in gotone.EDITABLE}
    new_token = (form.new_token.data or "").strip() or None
    if gotone.moves_gateway(g.workspace, values) or (new_token and gotone.has_token(g.workspace)):
        refused = reauthenticate(
            form.password,
            lambda: render_page(TEMPLATE, "settings_form", 422, **_ctx(settings_form=form)),
        )
        if refused is not None:
            return refused
    change = gotone.update_settings(g.workspace, current_user, values, new_token)
    _flash_change(change)
    response = after_change("workspaces.settings", TEMPLATE, "settings_form", _ctx)
    if change.token_cleared or change.token_stored:
        response = with_oob(response, TEMPLATE, "token_panel", **_ctx())
    return response


@bp.post("/w/<int:workspace_id>/settings/token")
@workspace_required("token.manage")
def set_token(workspace_id):
    keys.keyring()  # 503 before reading the form when the server cannot encrypt
    form = ReplaceTokenForm()
    if not form.validate_on_submit():
        return render_page(TEMPLATE, "token_panel", 422, **_ctx(token_form=form))
    if gotone.has_token(g.workspace):  # replacing: the password again
        refused = reauthenticate(
            form.password,
            lambda: render_page(TEMPLATE, "token_panel", 422, **_ctx(token_form=form)),
        )
        if refused is not None:
            return refused
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
        # A failed test is a result to show in place, not a page error; in the portal's own
        # words, never the text of whatever answered at the URL.
        report, error = None, health.failure_message(exc)
    return render_page(TEMPLATE, "connection_result", **_ctx(report=report, gateway_error=error))
