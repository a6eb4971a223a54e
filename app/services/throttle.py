"""Login throttling, in Flask-Limiter's storage (Redis when set), counted atomically.

Three fixed-window counters: the account from one source (what a guesser at one address
hits), the source across accounts, and a much higher ceiling for the account from every
source. A stranger who knows an address therefore locks only themselves out; the owner,
signing in from elsewhere, is refused only when the account is attacked from very many
addresses at once.

Each attempt is counted *before* its password is checked (an atomic increment that tells
whether the attempt fits), so concurrent attempts cannot all slip under the limit; a
success gives its slots back, so a user who types the right password is never slowed by
their own logins. Limits expire on their own: a soft lock, not an account lockout.

When the storage (Redis) is unreachable, the counters fall back to this process's memory,
as on a single-host install without Redis: logins keep working, throttled per process.
"""

from __future__ import annotations

import logging
import math
import time

from flask import current_app
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from ..extensions import limiter
from .accounts import normalise_email

log = logging.getLogger(__name__)


def _counters(email: str, ip: str | None, second_factor: bool):
    """The (limit, key) pairs of one attempt, the narrowest first."""
    cfg, email, ip = current_app.config, normalise_email(email), ip or "-"
    per_ip = (parse(cfg["LOGIN_IP_LIMIT"]), ("login-ip", ip))
    if second_factor:
        # Only someone who knows the password gets here, so the codes are counted for the
        # account from every source: a stranger cannot use this counter to lock anyone out.
        return [(parse(cfg["LOGIN_ACCOUNT_LIMIT"]), ("login-2fa", email)), per_ip]
    return [
        (parse(cfg["LOGIN_ACCOUNT_LIMIT"]), ("login-source", email, ip)),
        per_ip,
        (parse(cfg["LOGIN_ACCOUNT_CEILING"]), ("login-account", email)),
    ]


def _fallback() -> FixedWindowRateLimiter:
    ext = current_app.extensions
    if "portal_throttle_fallback" not in ext:
        ext["portal_throttle_fallback"] = FixedWindowRateLimiter(MemoryStorage())
    return ext["portal_throttle_fallback"]


# After a failure the shared storage is left alone this long: one login pays the timeout,
# not every call of every login.
RETRY_STORAGE_AFTER = 30.0


def _run(operation):
    """Run operation(strategy) on the shared storage, or on memory while it is down."""
    storage, ext = limiter.storage, current_app.extensions
    if time.monotonic() < ext.get("portal_throttle_down_until", 0.0):
        return operation(_fallback())
    try:
        return operation(FixedWindowRateLimiter(storage))
    except storage.base_exceptions as error:
        log.warning(
            "login throttle storage unreachable (%s): counting in memory", type(error).__name__
        )
        ext["portal_throttle_down_until"] = time.monotonic() + RETRY_STORAGE_AFTER
        return operation(_fallback())


def _wait(strategy: FixedWindowRateLimiter, limit: RateLimitItem, keys: tuple[str, ...]) -> int:
    reset_at = strategy.get_window_stats(limit, *keys).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def reserve(email: str, ip: str | None, *, second_factor: bool = False) -> int | None:
    """Count one attempt; return the seconds to wait when it is refused, None when it may be
    checked. A refused attempt stops at the first full counter, so hammering from one source
    never adds to the account's ceiling that the owner depends on."""

    def run(strategy: FixedWindowRateLimiter) -> int | None:
        taken = []
        for limit, keys in _counters(email, ip, second_factor):
            if not strategy.test(limit, *keys) or not strategy.hit(limit, *keys):
                for done_limit, done_keys in taken:  # a refused attempt is not an attempt
                    strategy.hit(done_limit, *done_keys, cost=-1)
                return _wait(strategy, limit, keys)
            taken.append((limit, keys))
        return None

    return _run(run)


def release(email: str, ip: str | None) -> None:
    """Give one reserved attempt back without forgetting earlier failures (a right password
    before the second factor: the codes guessed after it still count)."""

    def run(strategy: FixedWindowRateLimiter) -> None:
        for limit, keys in _counters(email, ip, False):
            strategy.hit(limit, *keys, cost=-1)

    _run(run)


def succeeded(email: str, ip: str | None, *, second_factor: bool = False) -> None:
    """A reserved attempt proved the password (or the code): forget the account's failures
    from this source (or its codes) and give the attempt back to the other counters."""

    def run(strategy: FixedWindowRateLimiter) -> None:
        (source, source_keys), *others = _counters(email, ip, second_factor)
        strategy.clear(source, *source_keys)
        for limit, keys in others:
            strategy.hit(limit, *keys, cost=-1)

    _run(run)
