"""The signed-in user's own account: password, language, two-factor."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..forms import EmptyForm
from ..forms.account import DisableTwoFactorForm, EnableTwoFactorForm, LanguageForm, PasswordForm
from ..rendering import redirect_to, render_page
from ..services import accounts, two_factor

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(status=200, block=None, **forms):
    ctx = {
        "password_form": forms.get("password_form") or PasswordForm(formdata=None),
        "language_form": forms.get("language_form")
        or LanguageForm(formdata=None, locale=current_user.locale),
        "disable_form": forms.get("disable_form") or DisableTwoFactorForm(formdata=None),
    }
    return render_page("account/index.html", block, status, **ctx)


@bp.get("/")
@login_required
def index():
    return _page()


@bp.post("/password")
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if accounts.change_password(user, form.current.data, form.new.data, user.session_token):
            flash(_("Password changed. Your other sessions have been ended."), "success")
            return redirect_to(url_for("account.index"))
        form.current.errors.append(_("The current password is not correct."))
    return _page(422, "password_form", password_form=form)


@bp.post("/language")
@login_required
def change_language():
    form = LanguageForm()
    if form.validate_on_submit():
        accounts.set_locale(current_user, form.locale.data)
        return redirect(url_for("account.index"), code=303)
    return _page(422, "language_form", language_form=form)


def _enable_two_factor(user, secret: str | None, form: EnableTwoFactorForm) -> list[str] | None:
    """A posted first code: the recovery codes once it proves the app has the seed, else None
    (and the reason on the form or in a flash)."""
    codes = None
    if secret is not None and form.validate_on_submit():
        codes = two_factor.enable(user, secret, form.code.data, keep_session=user.session_token)
        if codes is None:
            form.code.errors.append(_("This code is not valid. Check the time on your device."))
        else:
            flash(
                _("Two-factor authentication is on. Your other sessions have been ended."),
                "success",
            )
    elif secret is None and form.is_submitted():
        flash(
            _("The set-up has not been started, or it was finished elsewhere. Start it again."),
            "error",
        )
    return codes


@bp.route("/2fa", methods=["GET", "POST"])
@login_required
def setup_two_factor():
    user = current_user._get_current_object()
    if user.two_factor_enabled:
        return redirect(url_for("account.index"))
    # The seed waits on the server (encrypted) until a first code proves the app has it; a
    # GET only shows it, the "start" post makes it.
    form = EnableTwoFactorForm()
    if request.method == "POST" and "start" in request.form:
        if EmptyForm().validate_on_submit():
            two_factor.begin(user)
        return redirect_to(url_for("account.setup_two_factor"))
    secret = two_factor.pending_secret(user)
    codes = _enable_two_factor(user, secret, form)
    status = 422 if form.is_submitted() and codes is None else 200
    uri = two_factor.provisioning_uri(secret, user.email) if secret else None
    return render_page(
        "account/two_factor.html",
        "two_factor_setup",
        status,
        form=form,
        secret=secret,
        uri=uri,
        codes=codes,
        start_form=EmptyForm(formdata=None),
    )


@bp.post("/2fa/disable")
@login_required
def disable_two_factor():
    form = DisableTwoFactorForm()
    user = current_user._get_current_object()
    if form.validate_on_submit() and user.two_factor_enabled:
        if two_factor.disable(user, form.password.data, form.code.data, user.session_token):
            flash(
                _("Two-factor authentication is off. Your other sessions have been ended."),
                "success",
            )
            return redirect_to(url_for("account.index"))
        form.code.errors.append(_("The password or the code is not correct."))
    return _page(422, "two_factor_status", disable_form=form)
