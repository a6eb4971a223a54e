"""Login throttling per account and per IP, in Flask-Limiter's storage (Redis when set).

Only failures count, so a user who types the right password is never slowed by their own
successful logins. Limits expire on their own: a soft lock, not an account lockout.
"""

from __future__ import annotations

import math
import time

from flask import current_app
from limits import parse

from ..extensions import limiter
from .accounts import normalise_email


def _limits():
    cfg = current_app.config
    return parse(cfg["LOGIN_ACCOUNT_LIMIT"]), parse(cfg["LOGIN_IP_LIMIT"])


def retry_after(email: str, ip: str | None) -> int | None:
    """Seconds until another login attempt for this account and from this IP may be made;
    None when it may be made now."""
    account, per_ip = _limits()
    strategy, waits = limiter.limiter, []
    for limit, keys in ((account, ("login-account", normalise_email(email))),
                        (per_ip, ("login-ip", ip or "-"))):  # fmt: skip
        if not strategy.test(limit, *keys):
            reset_at = strategy.get_window_stats(limit, *keys).reset_time
            waits.append(max(1, math.ceil(reset_at - time.time())))
    return max(waits) if waits else None


def record_failure(email: str, ip: str | None) -> None:
    """Count one failed attempt against the account and the IP."""
    account, per_ip = _limits()
    # The account's canonical address: " Ann@x " and "ann@x" are one account, one counter.
    limiter.limiter.hit(account, "login-account", normalise_email(email))
    limiter.limiter.hit(per_ip, "login-ip", ip or "-")


def clear_account(email: str) -> None:
    """Forget the account's failures after a successful login."""
    account, _ = _limits()
    limiter.limiter.clear(account, "login-account", normalise_email(email))
