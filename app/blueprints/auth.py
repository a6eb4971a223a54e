"""Sign up, log in (with the optional second factor), log out."""

from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, limiter
from ..forms.auth import LoginForm, SignupForm, TwoFactorForm
from ..models import User
from ..rendering import redirect_to, render_page
from ..security import safe_next
from ..services import accounts, logins

bp = Blueprint("auth", __name__, url_prefix="/auth")
PENDING_2FA_SECONDS = 300


def _signed_in(user: User):
    """Start a fresh server-side session (new cookie contents: no fixation) for the session
    the login service opened (user.session_token), then go where the visitor was going."""
    keep = {k: session[k] for k in ("_locale", "invitation") if k in session}
    session.clear()
    session.update(keep)
    login_user(user)
    return _after_login()


def _after_login():
    return redirect_to(safe_next(request.args.get("next")) or url_for("workspaces.home"))


def _signup_limit() -> str:
    return current_app.config["SIGNUP_IP_LIMIT"]


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(_signup_limit, methods=["POST"])
def signup():
    if not current_app.config["SIGNUP_ENABLED"]:
        abort(404)
    form = SignupForm()
    if form.validate_on_submit():
        # A new and a taken address get the same answer (no account enumeration): the
        # visitor is sent to the login page with one message that fits both; nobody is
        # signed in by signing up. See accounts.sign_up for why.
        accounts.sign_up(form.email.data, form.password.data)
        session["login_email"] = accounts.normalise_email(form.email.data)
        flash(
            _(
                "Thank you. If this address was new, its account is ready: sign in with it "
                "below. If it already had an account, nothing was changed: sign in with that "
                "account's password."
            ),
            "success",
        )
        return redirect_to(url_for("auth.login", next=safe_next(request.args.get("next"))))
    status = 422 if form.is_submitted() else 200
    return render_page("auth/signup.html", "signup_form", status, form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login():
    form = LoginForm(email=session.get("login_email"))
    if form.validate_on_submit():
        attempt = logins.with_password(
            form.email.data, form.password.data, request.remote_addr, request.user_agent.string
        )
        if attempt.wait is not None:
            abort(429, retry_after=attempt.wait)
        if attempt.second_factor:
            session["pending_2fa"] = {"user": attempt.user.id, "at": time.time()}
            return redirect_to(url_for("auth.two_factor", next=request.args.get("next")))
        if attempt.user is not None:
            return _signed_in(attempt.user)
        # One message for unknown e-mail and wrong password.
        form.password.errors.append(_("E-mail or password is incorrect."))
    status = 422 if form.is_submitted() else 200
    return render_page("auth/login.html", "login_form", status, form=form)


def _pending_user() -> User | None:
    """The user whose password was right, while the second factor may still be given."""
    pending = session.get("pending_2fa") or {}
    user = db.session.get(User, pending.get("user", 0)) if pending else None
    if user is None or time.time() - pending.get("at", 0) > PENDING_2FA_SECONDS:
        session.pop("pending_2fa", None)
        return None
    return user


@bp.route("/login/2fa", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def two_factor():
    user = _pending_user()
    if user is None:
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        attempt = logins.with_code(
            user, form.code.data, request.remote_addr, request.user_agent.string
        )
        if attempt.wait is not None:
            abort(429, retry_after=attempt.wait)
        if attempt.user is not None:
            return _signed_in(attempt.user)
        form.code.errors.append(_("This code is not valid."))
    status = 422 if form.is_submitted() else 200
    return render_page("auth/two_factor.html", "two_factor_form", status, form=form)


@bp.post("/logout")
@login_required
def logout():
    logins.log_out(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect_to(url_for("auth.login"))
