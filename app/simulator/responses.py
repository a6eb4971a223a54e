"""The gateway's envelope, its JSON encoding and its error pages (reference §2, §3)."""

from __future__ import annotations

import json
from typing import Any

from flask import Request, Response

JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-cache, private"}


class ApiError(Exception):
    """An error raised inside a controller: always rendered as JSON (json.response ran)."""

    def __init__(self, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class FrameworkError(Exception):
    """An error raised before json.response ran: HTML unless the client asked for JSON."""

    def __init__(self, message: str, html_status: int) -> None:
        super().__init__(message)
        self.message = message
        self.html_status = html_status


def dumps(payload: Any) -> str:
    """Laravel JsonResponse default flags: `\\/` for slashes and `\\uXXXX` for non-ASCII.

    A "/" can only occur inside JSON strings, so replacing it in the output is exact.
    """
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status=status, headers=JSON_HEADERS)


def success(data: Any = None, message: str | None = None) -> Response:
    return json_response({"status": "success", "message": message, "data": data})


def error(message: str, status: int = 200) -> Response:
    return json_response({"status": "error", "message": message}, status)


HTML_TITLES = {
    401: "Unauthorized",
    404: "Not Found",
    500: "Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def html_page(status: int, title: str | None = None) -> Response:
    """A short page like Laravel's production error views (no exception details)."""
    title = title or HTML_TITLES.get(status, "Error")
    body = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n"
        f'<div class="code">{status}</div>\n<div class="message">{title}</div>\n'
        "</body>\n</html>\n"
    )
    return Response(body, status=status, headers={"Content-Type": "text/html; charset=UTF-8"})


def _acceptable_types(accept: str) -> list[str]:
    """Accept header media types sorted by quality, stable for equal quality (Symfony)."""
    entries = []
    for index, part in enumerate(accept.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        quality = 1.0
        for param in pieces[1:]:
            if param.lower().startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        entries.append((-quality, index, pieces[0].lower()))
    return [media for _, _, media in sorted(entries)]


def wants_json(request: Request) -> bool:
    """Laravel's expectsJson(): the first acceptable type is JSON, or an XHR accepting */*."""
    types = _acceptable_types(request.headers.get("Accept", ""))
    if types and ("/json" in types[0] or "+json" in types[0]):
        return True
    is_ajax = request.headers.get("X-Requested-With") == "XMLHttpRequest"
    return is_ajax and (not types or types[0] == "*/*")


def render_framework_error(err: FrameworkError, request: Request) -> Response:
    if wants_json(request):
        return error(err.message)
    return html_page(err.html_status)
