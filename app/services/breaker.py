"""Stop waiting on a gateway that stopped answering: a circuit breaker per workspace gateway,
and within one web request, no second wait after the first unanswered call.

Why: a hanging gateway holds every call for the whole GOTONE_TIMEOUT. Without a breaker each
page of a workspace whose gateway hangs pins a server thread that long, and enough of them
take login and settings down too (research §3.5).

The breaker of a workspace (keyed by workspace and base URL, so a corrected URL starts afresh):
- closed: calls go through; GOTONE_BREAKER_FAILURES consecutive *unanswered* calls open it.
  Unanswered means refused, reset or timed out (an UnavailableError without an HTTP status, or
  a RequestTimeoutError). Any HTTP answer, even a 4xx, 5xx or garbled one, came back quickly
  and proves the gateway reachable: it resets the count.
- open: every call fails at once with CircuitOpenError (nothing is sent; a RateLimitedError,
  so jobs and the outbox back off by `retry_after` instead of spending attempts);
- half-open after GOTONE_BREAKER_COOLDOWN seconds: one call goes through as a probe (others
  still fail at once); an answer closes the breaker, another unanswered call re-opens it.

State lives in the app object, so per process: with N processes a dead gateway costs up to
N × GOTONE_BREAKER_FAILURES timeouts before every process has opened (acceptable; a shared
store would only save those few).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from ..gotone import GoToneClient
from ..gotone.answers import Answer
from ..gotone.errors import (
    CircuitOpenError,
    GoToneError,
    RequestTimeoutError,
    UnavailableError,
)
from . import scope

HALF_OPEN_RETRY = 1  # seconds a caller is told to wait while another call probes

# The breakers' clock, looked up at each call: the tests replace it to pass a cool-down
# without sleeping on the real clock (tests/reliability/test_circuit_breaker.py).
monotonic = time.monotonic


def unanswered(error: GoToneError) -> bool:
    """True for a failure that got no HTTP answer at all: the kind that costs a timeout."""
    if isinstance(error, CircuitOpenError):
        return False
    return isinstance(error, RequestTimeoutError) or (
        isinstance(error, UnavailableError) and error.http_status is None
    )


class Breaker:
    """One gateway's breaker (thread safe)."""

    def __init__(self, failures: int, cooldown: float) -> None:
        self.failures = max(1, failures)
        self.cooldown = cooldown
        self._lock = threading.Lock()
        self._consecutive = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def before_call(self) -> None:
        """Let a call through, or raise CircuitOpenError."""
        with self._lock:
            if self._opened_at is None:
                return
            left = self._opened_at + self.cooldown - monotonic()
            if left <= 0 and not self._probing:
                self._probing = True  # half-open: this call is the one probe
                return
            wait = max(left, HALF_OPEN_RETRY)
        raise CircuitOpenError(
            _(
                "GoTone is not answering, so the portal stopped calling it for a while. "
                "Nothing was sent."
            ),
            retry_after=wait,
        )

    def after_call(self, failed: bool) -> None:
        """Record the outcome of a call that before_call let through."""
        with self._lock:
            probe, self._probing = self._probing, False
            if not failed:
                self._consecutive, self._opened_at = 0, None
                return
            self._consecutive += 1
            if probe or self._consecutive >= self.failures:
                self._opened_at = monotonic()


def breaker_for(workspace_id: int, base_url: str) -> Breaker:
    """This process's breaker of a workspace's gateway (created closed on first use)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    registry = app.extensions.setdefault("gotone_breakers", ({}, threading.Lock()))
    breakers, lock = registry
    with lock:
        found = breakers.get((workspace_id, base_url))
        if found is None:
            found = breakers[(workspace_id, base_url)] = Breaker(
                app.config["GOTONE_BREAKER_FAILURES"], app.config["GOTONE_BREAKER_COOLDOWN"]
            )
        return found


class GuardedClient(GoToneClient):
    """A GoToneClient whose every call passes the workspace's breaker.

    In a web request it also remembers a call that timed out, in the request's scope
    (services/scope.py, opened by the web layer): a page making several calls (the dashboard,
    compose, a group page) then fails its later calls at once instead of waiting on the same
    dead gateway again, so it answers within one deadline. (A refused or reset call fails
    fast by itself: the next call may still be tried.)
    """

    def __init__(self, *args: Any, breaker: Breaker, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.breaker = breaker

    def _request(self, method: str, path: str, **kwargs: Any) -> Answer:
        action = kwargs.get("action", "call")
        earlier = _timed_out_in_this_request(self.breaker)
        if earlier is not None:
            raise RequestTimeoutError(
                _(
                    "GoTone %(action)s: not asked, an earlier call of this page timed out "
                    "(%(error)s)",
                    action=action,
                    error=str(earlier),
                ),
                definitely_not_received=True,
            )
        self.breaker.before_call()
        failed = False
        try:
            return super()._request(method, path, **kwargs)
        except GoToneError as error:
            failed = unanswered(error)
            request = scope.current()
            if isinstance(error, RequestTimeoutError) and request is not None:
                request.timed_out[id(self.breaker)] = error
            raise
        finally:
            self.breaker.after_call(failed)


def _timed_out_in_this_request(breaker: Breaker) -> Exception | None:
    request = scope.current()
    if request is None:
        return None  # background work: each item is its own attempt; the breaker decides
    return request.timed_out.get(id(breaker))
