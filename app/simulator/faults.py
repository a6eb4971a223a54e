"""Injected failures: what a broken network, proxy or gateway does to a client (control API).

Modes that replace the answer (status, hang, reset_before, the bad-body modes) skip the
controller, so no state changes and nothing is throttled. reset_after, hang_after, drip and
truncated run the controller first: the request really happened, only the answer is lost.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from flask import Response

from .responses import dumps, error, html_page
from .state import SimulatorState

BEFORE = {
    "latency",
    "status",
    "reset_before",
    "hang",
    "malformed_json",
    "html_200",
    "empty",
    "huge",
    "wrong_shape",
    "too_many_attempts",
}
AFTER = {"reset_after", "hang_after", "drip", "truncated"}
MODES = BEFORE | AFTER
DEFAULT_DELAY_MS = {"hang": 30_000, "hang_after": 30_000, "drip": 500, "latency": 1_000}
ABORT_FLAG = "gotone.simulator.abort"


def new_fault(spec: dict[str, Any]) -> dict[str, Any]:
    """Validate a control-API fault spec and fill defaults."""
    mode = spec.get("mode")
    if mode not in MODES:
        raise ValueError(f"unknown fault mode {mode!r}; expected one of {sorted(MODES)}")
    path = spec.get("path")
    if path is not None:
        re.compile(path)
    times = spec.get("times", 1)
    delay = spec.get("delay_ms")
    return {
        "mode": mode,
        "path": path,
        "method": (spec.get("method") or "").upper() or None,
        "times": None if times is None else int(times),
        "status": int(spec.get("status") or 500),
        "delay_ms": int(delay if delay is not None else DEFAULT_DELAY_MS.get(mode, 0)),
        "body": spec.get("body"),
    }


def take(state: SimulatorState, path: str, method: str) -> dict[str, Any] | None:
    """First matching fault, its remaining count decremented (and dropped when used up)."""
    with state.lock:
        for fault in state.faults:
            if fault["method"] and fault["method"] != method.upper():
                continue
            if fault["path"] and not re.search(fault["path"], path):
                continue
            if fault["times"] is not None:
                fault["times"] -= 1
                if fault["times"] <= 0:
                    state.faults.remove(fault)
            return dict(fault)
    return None


def pause(state: SimulatorState, milliseconds: float) -> bool:
    """Sleep in small steps; returns False if the server began stopping meanwhile."""
    deadline = time.monotonic() + milliseconds / 1000
    while (left := deadline - time.monotonic()) > 0:
        if state.stopping.wait(min(left, 0.05)):
            return False
    return True


def abort(environ: dict[str, Any]) -> Response:
    """Ask the WSGI wrapper to drop the connection instead of answering."""
    environ[ABORT_FLAG] = True
    return Response(b"", status=200)


def before(
    fault: dict[str, Any], state: SimulatorState, environ: dict[str, Any]
) -> Response | None:
    """Answer for a before-processing fault, or None to go on processing."""
    mode = fault["mode"]
    if mode == "latency":
        pause(state, fault["delay_ms"])
        return None
    if mode == "reset_before":
        return abort(environ)
    if mode == "hang":
        # Like a proxy whose upstream never answered: the client has usually timed out by now.
        pause(state, fault["delay_ms"])
        return html_page(504)
    if mode == "status":
        return _status_response(fault)
    if mode == "too_many_attempts":
        return error("Too Many Attempts.")
    return _bad_body(fault)


def _status_response(fault: dict[str, Any]) -> Response:
    if fault["body"] is not None:
        return Response(str(fault["body"]), status=fault["status"], mimetype="text/html")
    return html_page(fault["status"])


def _bad_body(fault: dict[str, Any]) -> Response:
    mode, body = fault["mode"], fault["body"]
    if mode == "html_200":
        page = html_page(200, "GoTone SMS")
        return Response(body, mimetype="text/html") if body is not None else page
    if mode == "malformed_json":
        text = body if body is not None else '{"status":"success","message":null,"data":{"uid":'
        return Response(text, status=200, mimetype="application/json")
    if mode == "empty":
        return Response(b"", status=200, mimetype="application/json")
    if mode == "huge":
        blob = ["x" * 1000] * 5000  # about 5 MB of valid JSON
        return Response(
            dumps({"status": "success", "message": None, "data": blob}), mimetype="application/json"
        )
    shape = body if body is not None else ["unexpected", {"shape": True}]
    return Response(json.dumps(shape), status=200, mimetype="application/json")


def after(
    fault: dict[str, Any], state: SimulatorState, environ: dict[str, Any], response: Response
) -> Response:
    """Spoil the real answer of a request that was processed."""
    mode = fault["mode"]
    if mode == "reset_after":
        return abort(environ)
    if mode == "hang_after":
        pause(state, fault["delay_ms"])
        return response
    body = response.get_data()
    if mode == "truncated":
        # A well-formed HTTP message whose JSON stops halfway.
        cut = Response(body[: len(body) // 2], status=response.status_code)
        cut.headers["Content-Type"] = response.headers.get("Content-Type", "application/json")
        return cut
    return _drip(state, response, body, fault["delay_ms"])


def _drip(state: SimulatorState, response: Response, body: bytes, delay_ms: int) -> Response:
    """Headers now, then the body one byte at a time (Content-Length keeps it unchunked)."""

    def trickle():
        for index in range(len(body)):
            if index and not pause(state, delay_ms):
                return
            yield body[index : index + 1]

    dripped = Response(trickle(), status=response.status_code)
    for key, value in response.headers.items():
        if key.lower() != "content-length":
            dripped.headers[key] = value
    dripped.headers["Content-Length"] = str(len(body))
    return dripped
