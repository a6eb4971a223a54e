"""Sending: compose, review, send, status, scheduled sends, templates; and history (6b).

Every route lives under /w/<workspace_id>/messages; the view modules register on `bp`.
Registering the blueprint also hooks the outbox sweep (abandoned sends, services/outbox_sweep)
and the scheduled-send dispatcher into every job consumer's periodic round (app/jobs.py
sweep_once).
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("messages", __name__, url_prefix="/w/<int:workspace_id>/messages")


def _install(state) -> None:
    from ...services.outbox import sweep as outbox_sweep
    from ...services.scheduling import dispatch_due

    hooks = state.app.extensions.setdefault("jobs.periodic", [])
    hooks.extend((outbox_sweep.periodic, dispatch_due))


bp.record_once(_install)

from . import compose, history, schedules, templates  # noqa: E402, F401
