"""The one request path every GoToneClient operation goes through: URL, credentials, headers,
one exchange (plus at most one safe retry), rate-limit headers, a log line, the answer judged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from . import transport
from .answers import READ, SEND, Answer, Kind, failure_error, interpret
from .errors import GoToneError, RateLimitedError
from .payloads import Family
from .peer_guard import guard_session

log = logging.getLogger("app.gotone")


class RequestPath:
    """GoToneClient's base: `_request()` and what it needs, set up by GoToneClient.__init__."""

    api_url: str
    family: Family
    timeout: float
    connect_timeout: float
    max_body_bytes: int
    rate_limit_limit: int | None
    rate_limit_remaining: int | None
    _token: str
    _session: requests.Session
    _send_session: requests.Session | None = None
    _peer_check: Callable[[str], bool] | None = None  # set with a UrlPolicy (peer_guard.py)

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        kind: Kind = READ,
        action: str = "call",
    ) -> Answer:
        """Make one API call (plus at most one safe retry) and return the success envelope."""
        url = f"{self.api_url}/{quote(path, safe='/')}"
        body, query = self._with_credentials(method, body, query)
        headers = {
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "GoTonePortal-client/1",
        }
        if self.family == "v3":
            # The http family reads only its api_token parameter (reference §1.4): a Bearer
            # header as well would hand the token over twice, once where nothing reads it.
            headers["Authorization"] = f"Bearer {self._token}"
        started = time.monotonic()
        deadline = started + self.timeout
        raw = self._exchange(method, url, headers, body, query, kind, action, deadline)
        self._note_rate_limit(raw.headers)
        try:
            answer = interpret(raw, kind, action, self._token)
        except GoToneError as exc:
            if isinstance(exc, RateLimitedError) and exc.gateway_message is not None:
                # The gateway's own "Too Many Attempts." envelope (a bare 429 page has no
                # gateway_message): this window is spent.
                self.rate_limit_remaining = 0
            self._log(method, url, raw.status, type(exc).__name__, started)
            raise
        self._log(method, url, raw.status, "success", started)
        return answer

    def _with_credentials(
        self, method: str, body: dict[str, Any] | None, query: dict[str, Any] | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The http family reads `api_token` as a parameter (reference §1.4, §1.6)."""
        if method != "GET" and (body is not None or self.family == "http"):
            body = dict(body or {})
        if self.family != "http":
            return body, query
        if method == "GET":
            return body, {**(query or {}), "api_token": self._token}
        return {**(body or {}), "api_token": self._token}, query

    def _exchange(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: Any,
        query: Any,
        kind: Kind,
        action: str,
        deadline: float,
    ) -> transport.RawResponse:
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                return transport.exchange(
                    self._session_for(kind),
                    method,
                    url,
                    headers=headers,
                    json_body=body,
                    params=query,
                    connect_timeout=self.connect_timeout,
                    deadline=deadline,
                    max_body=self.max_body_bytes,
                )
            except transport.TransportFailure as caught:
                failure = caught
            self._log(method, url, None, failure.stage, started)
            if attempt == 2 or not _may_retry(kind, failure.stage):
                break
        # Raised outside the except block, so nothing chains back to requests' exception.
        raise failure_error(failure, action, timeout=self.timeout, max_body=self.max_body_bytes)

    def _session_for(self, kind: Kind) -> requests.Session:
        """Reads and writes reuse the session's kept-alive connections. A send gets a
        new connection of its own: on a kept-alive one that the gateway (or a NAT on the way)
        dropped while it sat idle, a send that never arrived would end with no answer and have
        to be marked `unknown`, while a new connection that fails to open proves nothing left.
        """
        if kind != SEND:
            return self._session
        if self._send_session is None:
            self._send_session = _one_shot_session()
            if self._peer_check is not None:
                guard_session(self._send_session, self._peer_check)
        return self._send_session

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        limit, remaining = headers.get("X-RateLimit-Limit"), headers.get("X-RateLimit-Remaining")
        if limit is not None and limit.strip().isdigit():
            self.rate_limit_limit = int(limit)
        if remaining is not None and remaining.strip().lstrip("-").isdigit():
            self.rate_limit_remaining = max(int(remaining), 0)

    def _log(self, method: str, url: str, status: int | None, outcome: str, start: float) -> None:
        # Method, path (uids only: the query, which may hold the token, is cut), status and
        # duration. Never the token, the message text or phone numbers.
        elapsed_ms = (time.monotonic() - start) * 1000
        level = logging.INFO if outcome == "success" else logging.WARNING
        log.log(
            level,
            "GoTone %s %s -> %s %s in %.0f ms",
            method,
            urlsplit(url).path,
            status or "-",
            outcome,
            elapsed_ms,
        )


class _NoKeepAlive(requests.adapters.HTTPAdapter):
    """Closes each connection once its answer is read, so none is ever reused."""

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        request.headers["Connection"] = "close"


def _one_shot_session() -> requests.Session:
    session = requests.Session()
    adapter = _NoKeepAlive(pool_maxsize=4)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _may_retry(kind: Kind, stage: str) -> bool:
    """A send is never retried. A write only when it never left. A read also when the
    connection dropped before any answer: a read changes nothing, so nothing can double."""
    if kind == SEND:
        return False
    if stage == transport.NOT_SENT:
        return True
    return kind == READ and stage == transport.NO_RESPONSE
