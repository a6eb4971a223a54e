"""Login throttling per account and per IP, in Flask-Limiter's storage (Redis when set).

Only failures count, so a user who types the right password is never slowed by their own
successful logins. Limits expire on their own: a soft lock, not an account lockout.
"""

from __future__ import annotations

from flask import current_app
from limits import parse

from ..extensions import limiter


def _limits():
    cfg = current_app.config
    return parse(cfg["LOGIN_ACCOUNT_LIMIT"]), parse(cfg["LOGIN_IP_LIMIT"])


def is_blocked(email: str, ip: str | None) -> bool:
    """Tell whether another login attempt for this account or from this IP must wait."""
    account, per_ip = _limits()
    strategy = limiter.limiter
    return not strategy.test(account, "login-account", email.lower()) or not strategy.test(
        per_ip, "login-ip", ip or "-"
    )


def record_failure(email: str, ip: str | None) -> None:
    """Count one failed attempt against the account and the IP."""
    account, per_ip = _limits()
    limiter.limiter.hit(account, "login-account", email.lower())
    limiter.limiter.hit(per_ip, "login-ip", ip or "-")


def clear_account(email: str) -> None:
    """Forget the account's failures after a successful login."""
    account, _ = _limits()
    limiter.limiter.clear(account, "login-account", email.lower())
