"""Every model, imported once so Alembic and create_all see them all."""

from .audit import AuditEvent
from .gotone import GoToneSettings
from .user import User, UserSession
from .workspace import Invitation, Membership, Workspace

__all__ = [
    "AuditEvent",
    "GoToneSettings",
    "Invitation",
    "Membership",
    "User",
    "UserSession",
    "Workspace",
]
