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
from ..services import accounts, audit, sessions, throttle
from ..services import two_factor as totp

bp = Blueprint("auth", __name__, url_prefix="/auth")
PENDING_2FA_SECONDS = 300


def log_in(user: User) -> None:
    """Start a fresh server-side session (new cookie contents: no fixation)."""
    keep = {k: session[k] for k in ("_locale",) if k in session}
    session.clear()
    session.update(keep)
    user.session_token = sessions.create(user, request.remote_addr, request.user_agent.string)
    login_user(user)


def _after_login():
    return redirect_to(safe_next(request.args.get("next")) or url_for("workspaces.home"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    if not current_app.config["SIGNUP_ENABLED"]:
        abort(404)
    form = SignupForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.email.data, form.password.data)
        except accounts.EmailTakenError:
            form.email.errors.append(_("An account with this e-mail address exists."))
        else:
            log_in(user)
            flash(_("Welcome! Create your first workspace."), "success")
            return _after_login()
    status = 422 if form.is_submitted() else 200
    return render_page("auth/signup.html", "signup_form", status, form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        email, ip = form.email.data, request.remote_addr
        if (wait := throttle.retry_after(email, ip)) is not None:
            abort(429, retry_after=wait)
        user = accounts.authenticate(email, form.password.data)
        if user is None:
            throttle.record_failure(email, ip)
            audit.record(None, None, "login.failed", accounts.normalise_email(email)[:254])
            db.session.commit()
            # One message for unknown e-mail and wrong password.
            form.password.errors.append(_("E-mail or password is incorrect."))
        elif user.two_factor_enabled:
            session["pending_2fa"] = {"user": user.id, "at": time.time()}
            return redirect_to(url_for("auth.two_factor", next=request.args.get("next")))
        else:
            throttle.clear_account(email)
            log_in(user)
            audit.record(user, None, "login.succeeded", user.email)
            db.session.commit()
            return _after_login()
    status = 422 if form.is_submitted() else 200
    return render_page("auth/login.html", "login_form", status, form=form)


@bp.route("/login/2fa", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def two_factor():
    pending = session.get("pending_2fa") or {}
    user = db.session.get(User, pending.get("user", 0)) if pending else None
    if user is None or time.time() - pending.get("at", 0) > PENDING_2FA_SECONDS:
        session.pop("pending_2fa", None)
        return redirect(url_for("auth.login"))
    form = TwoFactorForm()
    if form.validate_on_submit():
        if (wait := throttle.retry_after(user.email, request.remote_addr)) is not None:
            abort(429, retry_after=wait)
        if totp.verify(user, form.code.data):
            throttle.clear_account(user.email)
            log_in(user)
            audit.record(user, None, "login.succeeded", user.email, second_factor=True)
            db.session.commit()
            return _after_login()
        throttle.record_failure(user.email, request.remote_addr)
        audit.record(user, None, "login.failed", user.email, second_factor=True)
        db.session.commit()
        form.code.errors.append(_("This code is not valid."))
    status = 422 if form.is_submitted() else 200
    return render_page("auth/two_factor.html", "two_factor_form", status, form=form)


@bp.post("/logout")
@login_required
def logout():
    user = current_user._get_current_object()
    # Ends every session of this user, including copies of this cookie.
    sessions.end_all(user)
    audit.record(user, None, "logout", user.email)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have been logged out."), "info")
    return redirect_to(url_for("auth.login"))
