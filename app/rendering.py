"""The one place that decides between a page and a fragment, and answers after a change."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
)
from jinja2_fragments.flask import render_block

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


def redirect_to(url: str) -> Response:
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
