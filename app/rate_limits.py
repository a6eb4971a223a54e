"""Per-member limits on the expensive actions: sends, exports and status refreshes.

Each limit counts one member in one workspace (a busy colleague does not slow anyone else,
and a member of two workspaces has two budgets), in Flask-Limiter's storage (Redis when
set, memory per process while it is down). A refused request does nothing and says so,
with Retry-After; errors.py answers a plain form post with a page that can send the same
form again (nothing typed is lost), and htmx swaps the message into #flash, leaving the
form as it was.
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .extensions import limiter


def member_key() -> str:
    """The member and the workspace of the URL (anonymous callers: their address; they are
    sent to the login page by the view's own check anyway)."""
    workspace = (request.view_args or {}).get("workspace_id", "-")
    if current_user.is_authenticated:
        return f"member:{current_user.id}:{workspace}"
    return f"anonymous:{get_remote_address()}"


def _limit(setting: str, message, methods=None):
    return limiter.limit(
        lambda: current_app.config[setting],
        key_func=member_key,
        methods=methods,
        error_message=message,
    )


def _sends() -> str:
    return _(
        "You are sending faster than this workspace allows for one member. Nothing was "
        "sent by this request."
    )


def _exports() -> str:
    return _(
        "You are exporting faster than this workspace allows for one member. Nothing "
        "was exported by this request."
    )


def _refreshes() -> str:
    return _(
        "You are refreshing faster than this workspace allows for one member. Nothing "
        "was refreshed by this request."
    )


# Decorators, one line above a view's route decorator's view function.
send_limit = _limit("SEND_LIMIT", _sends, ["POST"])
export_limit = _limit("EXPORT_LIMIT", _exports)
refresh_limit = _limit("REFRESH_LIMIT", _refreshes, ["POST"])
