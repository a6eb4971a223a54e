"""Sending: compose, review, send, status, scheduled sends, templates; and history (6b).

One blueprint (`messages`, in base.py) split over modules that each register their routes on
it. The periodic work of sending (the outbox sweep, due scheduled sends) is hooked into the
job consumers by create_app (app/wiring.py), not here.
"""

from . import compose, history, schedules, templates  # noqa: F401  (route registration)
from .base import bp

__all__ = ["bp"]
