"""What the web layer tells the services about the request being served.

Services never read Flask's `request` or `g`: a service called by a job, the CLI or a test
works the same as one called by a view. What the services need of a web request is in a
RequestScope, which the web layer opens when a request starts and closes when it ends
(app/wiring.py init_request_scope):

- the client's address and the request id, for the audit rows (services/audit.py);
- the gateway calls of this request that timed out, so that a page making several calls
  waits on a dead gateway once, not once per call (services/breaker.py).

Outside a web request (jobs, CLI) there is no scope: audit rows carry no address and every
call is its own attempt. A context variable, like Flask's own request context: each thread
(and each test client request, which runs in an empty context) sees only its own scope.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RequestScope:
    ip: str | None = None
    request_id: str | None = None
    # id(breaker) -> the call's RequestTimeoutError (services/breaker.py)
    timed_out: dict[int, Exception] = field(default_factory=dict)


_current: ContextVar[RequestScope | None] = ContextVar("portal_request_scope", default=None)


def current() -> RequestScope | None:
    """The scope of the web request being served, or None outside one."""
    return _current.get()


def open_scope(scope: RequestScope) -> None:
    _current.set(scope)


def close_scope() -> None:
    _current.set(None)
