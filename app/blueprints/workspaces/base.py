"""The workspaces blueprint and the answer every change view gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, g, url_for

from ...rendering import is_fragment_request, redirect_to, render_page

bp = Blueprint("workspaces", __name__)


def after_change(endpoint: str, template: str, block: str, ctx: Callable[[], dict[str, Any]]):
    """htmx: the refreshed block (flash rides out of band); plain post: 303 to the page."""
    if is_fragment_request():
        return render_page(template, block, **ctx())
    return redirect_to(url_for(endpoint, workspace_id=g.workspace.id))
