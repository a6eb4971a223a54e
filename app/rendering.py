"""The one place that decides between a page and a fragment, and answers after a change."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import (
    Response,
    g,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from jinja2_fragments.flask import render_block
from werkzeug.wrappers import Response as BaseResponse

from .extensions import htmx


def is_fragment_request() -> bool:
    """Tell whether to answer with a fragment: htmx, not boosted, not a history restore."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def is_poll_request() -> bool:
    """A request made by an htmx timer (hx-trigger="every ..."), which marks its URL with
    ?poll=1: it is not user activity, so it must not keep an idle session alive."""
    return bool(htmx) and request.args.get("poll") == "1"


def render_page(template: str, block: str | None = None, status: int = 200, **ctx: Any) -> Response:
    """Render `block` of `template` for fragment requests, the whole page otherwise.

    A fragment also carries pending flash messages as an out-of-band swap of #flash.
    """
    if block is not None and is_fragment_request():
        body = render_block(template, block, **ctx)
        messages = get_flashed_messages(with_categories=True)
        if messages:
            body += render_template("partials/_flash.html", messages=messages, oob=True)
    else:
        body = render_template(template, **ctx)
    response = make_response(body, status)
    if block is not None:
        # A browser cache must never serve a fragment where a page was asked for.
        response.vary.add("HX-Request")
    return response


def redirect_to(url: str) -> BaseResponse:
    """Answer a successful change: 303 for plain posts, a full navigation for htmx requests.

    Not HX-Location: the request it makes is an htmx request that is neither boosted nor a
    history restore, so a page whose view names a block would answer with the bare block.
    """
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def without_content() -> Response:
    """An htmx answer for something that no longer exists: nothing, plus the flash out of band."""
    messages = get_flashed_messages(with_categories=True)
    response = make_response(render_template("partials/_flash.html", messages=messages, oob=True))
    response.vary.add("HX-Request")
    return response


def with_oob(response: Response, template: str, block: str, **ctx: Any) -> Response:
    """Append `block` of `template`, marked hx-swap-oob, to a fragment answer."""
    if is_fragment_request():
        extra = render_block(template, block, **{**ctx, "oob": True})
        response.set_data(response.get_data(as_text=True) + extra)
    return response


# Placeholders url_for writes as they are: letters and digits for string ids, a number that
# an int converter accepts for integer ids.
_ROW_TEXT, _ROW_NUMBER = "rowurlvalue0placeholder", 918273645546372819


def row_url(endpoint: str, name: str, value: Any, **fixed: Any) -> str:
    """url_for(endpoint, name=value, **fixed) for the rows of a table.

    Each row of a list links to the same few endpoints with only its own id changing, and
    url_for costs about 15 µs: three links on 25 rows were a third of a list page's time.
    The URL is built once per request with a placeholder, then each row's id, fully
    percent-encoded (ids come from the gateway), takes the placeholder's place.
    """
    number = isinstance(value, int)
    key = (endpoint, name, number, tuple(sorted(fixed.items())))
    patterns = g.setdefault("_row_urls", {})
    if key not in patterns:
        placeholder = _ROW_NUMBER if number else _ROW_TEXT
        row: dict[str, Any] = {name: placeholder}  # url_for's own keywords are typed
        built = url_for(endpoint, **row, **fixed)
        # Anything unusual (the placeholder twice, or not at all): plain url_for for this key.
        patterns[key] = built if built.count(str(placeholder)) == 1 else None
    pattern = patterns[key]
    if pattern is None:
        return url_for(endpoint, **{name: value}, **fixed)
    return pattern.replace(str(_ROW_NUMBER if number else _ROW_TEXT), quote(str(value), safe=""))
