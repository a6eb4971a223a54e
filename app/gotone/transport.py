"""One HTTP exchange with a hard deadline and a body-size cap, and failures sorted by stage.

requests' timeouts bound each socket operation, not the whole call: a server that sends one
byte just before every read timeout could hold a call forever. So the body is streamed and a
watchdog shuts the socket down when the call's deadline passes, which wakes a blocked read.

Failures are reported by *stage*, because what a caller may do next depends on how far the
request got: never sent (safe to repeat), sent without any answer (outcome unknown), or cut off
inside the answer.
"""

from __future__ import annotations

import heapq
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from .peer_guard import PeerRefused

# Stages of a failed exchange.
NOT_SENT = "not_sent"  # no connection was made: the gateway cannot have seen the request
NO_RESPONSE = "no_response"  # connection dropped after sending, before any response byte
READ_TIMEOUT = "read_timeout"  # sent, no response within the deadline
BROKEN_BODY = "broken_body"  # the status line arrived, then the body was cut off
DEADLINE = "deadline"  # the body was still arriving when the deadline passed
TOO_LARGE = "too_large"  # the body exceeded the size cap
REFUSED_PEER = "refused_peer"  # connected to an address the URL policy refuses; nothing sent

CHUNK = 64 * 1024


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class TransportFailure(Exception):
    """An exchange that produced no complete response; `stage` says how far it got."""

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(f"{stage}: {detail}")
        self.stage = stage
        self.detail = detail


def exchange(
    session: requests.Session,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    json_body: Any,
    params: Mapping[str, Any] | None,
    connect_timeout: float,
    deadline: float,
    max_body: int,
) -> RawResponse:
    """Perform one request and read its whole body by `deadline` (a time.monotonic() value)."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TransportFailure(READ_TIMEOUT, "no time left before the deadline")
    failure: TransportFailure | None = None
    try:
        response = session.request(
            method,
            url,
            headers=dict(headers),
            json=json_body,
            params=params,
            stream=True,
            allow_redirects=False,
            timeout=(min(connect_timeout, remaining), remaining),
        )
    except requests.RequestException as exc:
        refused = _refused_peer(exc)
        if refused is not None:
            failure = TransportFailure(REFUSED_PEER, refused.address)
        else:
            failure = TransportFailure(_stage_of(exc), _describe(exc))
    if failure is not None:
        # Raised outside the except block: no __context__ holding requests' exception, whose
        # text has the URL (and on the http family the token in its query string).
        raise failure
    with response:
        body = _read_body(response, deadline, max_body)
    return RawResponse(response.status_code, response.headers, body)


def _stage_of(exc: requests.RequestException) -> str:
    """Sort a requests exception raised before any response byte arrived."""
    if isinstance(exc, requests.ConnectTimeout):
        return NOT_SENT
    if isinstance(exc, requests.Timeout):
        return READ_TIMEOUT
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    # NewConnectionError covers refused connections and (NameResolutionError) DNS failures.
    if isinstance(reason, NewConnectionError | ConnectTimeoutError):
        return NOT_SENT
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return NOT_SENT
    return NO_RESPONSE


def _refused_peer(exc: BaseException) -> PeerRefused | None:
    """The peer guard's refusal inside requests' wrapping (ConnectionError > MaxRetryError)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None or isinstance(seen, PeerRefused):
            return seen
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = inner or getattr(seen, "reason", None)
    return None


def _describe(exc: BaseException) -> str:
    """The innermost cause's class name: never the URL, whose query may hold the token."""
    seen = exc
    while True:
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        inner = inner or getattr(seen, "reason", None)
        if not isinstance(inner, BaseException) or inner is seen:
            return type(seen).__name__
        seen = inner


def _read_body(response: requests.Response, deadline: float, max_body: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_body:
        raise TransportFailure(TOO_LARGE, f"Content-Length {declared} > {max_body}")
    expired = threading.Event()
    watchdog = _start_watchdog(response, deadline, expired)
    try:
        body, failure = _drain(response, deadline, max_body)
    finally:
        if watchdog is not None:
            watchdog.cancel()
    # A shut-down socket can also look like a normal end of a body without Content-Length.
    if expired.is_set() and (failure is None or failure.stage == BROKEN_BODY):
        failure = TransportFailure(DEADLINE, "body still arriving at the deadline")
    if failure is not None:
        raise failure  # outside any except block: no __context__ (see exchange)
    return body


def _drain(
    response: requests.Response, deadline: float, max_body: int
) -> tuple[bytes, TransportFailure | None]:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
            if size > max_body:
                return b"", TransportFailure(TOO_LARGE, f"body over {max_body} bytes")
            if time.monotonic() > deadline:
                return b"", TransportFailure(DEADLINE, "body still arriving at the deadline")
            chunks.append(chunk)
    except (requests.RequestException, OSError) as exc:
        return b"", TransportFailure(BROKEN_BODY, _describe(exc))
    return b"".join(chunks), None


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket the body arrives on. With `Connection: close` http.client drops the
    connection's reference early, so fall back to the response's own file object."""
    raw = response.raw
    sock = getattr(getattr(raw, "connection", None), "sock", None)
    if sock is None:
        reader = getattr(getattr(raw, "_fp", None), "fp", None)  # http.client's BufferedReader
        sock = getattr(getattr(reader, "raw", None), "_sock", None)  # socket.SocketIO
    return sock if isinstance(sock, socket.socket) else None


class _Alarm:
    """One armed deadline of the watchdog; cancel() disarms it."""

    __slots__ = ("deadline", "fire", "cancelled")

    def __init__(self, deadline: float, fire) -> None:
        self.deadline, self.fire, self.cancelled = deadline, fire, False

    def __lt__(self, other: _Alarm) -> bool:
        return self.deadline < other.deadline

    def cancel(self) -> None:
        self.cancelled = True


class _Watchdog:
    """One thread per process fires every call's deadline.

    A threading.Timer per call started a thread for each gateway call, about a fifth of a
    call's CPU in the bulk jobs (bench/bulk.py). Alarms wait in a heap; the thread sleeps until
    the earliest one, and a cancelled alarm is simply skipped when its time comes.
    """

    def __init__(self) -> None:
        self._alarms: list[_Alarm] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, fire) -> _Alarm:
        alarm = _Alarm(deadline, fire)
        with self._wake:
            heapq.heappush(self._alarms, alarm)
            if self._thread is None or not self._thread.is_alive():  # first use, or after fork
                self._thread = threading.Thread(
                    target=self._run, name="gotone-watchdog", daemon=True
                )
                self._thread.start()
            elif self._alarms[0] is alarm:
                self._wake.notify()  # earlier than what the thread sleeps towards
        return alarm

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._alarms and self._alarms[0].cancelled:
                    heapq.heappop(self._alarms)
                if not self._alarms:
                    self._wake.wait()
                    continue
                left = self._alarms[0].deadline - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                due = heapq.heappop(self._alarms)
            if not due.cancelled:
                try:
                    due.fire()
                except Exception:  # noqa: BLE001, S112 - the thread must outlive one bad alarm
                    continue


_WATCHDOG = _Watchdog()


def _start_watchdog(
    response: requests.Response, deadline: float, expired: threading.Event
) -> _Alarm | None:
    """Shut the socket down at the deadline; a blocked recv() then returns at once."""
    sock = _socket_of(response)
    if sock is None:
        return None  # nothing left to read from the network

    def fire() -> None:
        # Once the body is complete urllib3 hands the connection back to the pool (and clears
        # response.raw.connection); it may then serve another call, so leave it alone.
        if getattr(response.raw, "connection", None) is None:
            return
        expired.set()
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return

    return _WATCHDOG.arm(deadline, fire)
