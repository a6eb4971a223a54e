"""The one place that decides between a page and a fragment, and answers after a change."""

from __future__ import annotations

from typing import Any

from flask import Response, get_flashed_messages, make_response, redirect, render_template
from jinja2_fragments.flask import render_block

from .extensions import htmx


def is_fragment_request() -> bool:
    """Tell whether to answer with a fragment: htmx, not boosted, not a history restore."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


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
    """Answer a successful change: 303 for plain posts, HX-Location for htmx requests."""
    if htmx:
        response = make_response("", 200)
        response.headers["HX-Location"] = url
        return response
    return redirect(url, code=303)
