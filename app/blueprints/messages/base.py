"""The messages blueprint: every route of its view modules lives under
/w/<workspace_id>/messages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("messages", __name__, url_prefix="/w/<int:workspace_id>/messages")
