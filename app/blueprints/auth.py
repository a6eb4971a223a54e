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
    keep = {k: session[k] for k in ("_locale", "invitation") if k in session}
    session.clear()
    session.update(keep)
    user.session_token = sessions.create(user, request.remote_addr, request.user_agent.string)
    login_user(user)


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
        flash(_("Thank you. If this address was new, its account is ready: sign in with it "
                "below. If it already had an account, nothing was changed: sign in with that "
                "account's password."), "success")  # fmt: skip
        return redirect_to(url_for("auth.login", next=safe_next(request.args.get("next"))))
    status = 422 if form.is_submitted() else 200
    return render_page("auth/signup.html", "signup_form", status, form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def login():
    form = LoginForm(email=session.get("login_email"))
    if form.validate_on_submit():
        email, ip = form.email.data, request.remote_addr
        # Counted before the check, atomically: concurrent guesses cannot all pass.
        if (wait := throttle.reserve(email, ip)) is not None:
            abort(429, retry_after=wait)
        user = accounts.authenticate(email, form.password.data)
        if user is None:
            audit.record(None, None, "login.failed", accounts.normalise_email(email)[:254])
            db.session.commit()
            # One message for unknown e-mail and wrong password.
            form.password.errors.append(_("E-mail or password is incorrect."))
        elif user.two_factor_enabled:
            throttle.release(email, ip)  # the codes guessed next still count
            session["pending_2fa"] = {"user": user.id, "at": time.time()}
            return redirect_to(url_for("auth.two_factor", next=request.args.get("next")))
        else:
            throttle.succeeded(email, ip)
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
        ip = request.remote_addr
        if (wait := throttle.reserve(user.email, ip, second_factor=True)) is not None:
            abort(429, retry_after=wait)
        if totp.verify(user, form.code.data):
            throttle.succeeded(user.email, ip, second_factor=True)
            log_in(user)
            audit.record(user, None, "login.succeeded", user.email, second_factor=True)
            db.session.commit()
            return _after_login()
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
