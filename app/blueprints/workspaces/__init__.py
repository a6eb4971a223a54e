"""Workspaces area: the workspace pages, members and invitations, gateway settings, health, audit.

One blueprint (`workspaces`) split over modules that each register their routes on it.
"""

from . import audit, health, members, settings, views  # noqa: F401  (route registration)
from .base import bp

__all__ = ["bp"]
