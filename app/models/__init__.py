"""Every model, imported once so Alembic and create_all see them all."""

from .audit import AuditEvent
from .gotone import GoToneSettings
from .jobs import Job, JobItem, WorkspacePace
from .outbox import MessageTemplate, OutboxMessage, SendRequest
from .user import User, UserSession
from .workspace import Invitation, Membership, Workspace

__all__ = [
    "AuditEvent",
    "GoToneSettings",
    "Invitation",
    "Job",
    "JobItem",
    "Membership",
    "MessageTemplate",
    "OutboxMessage",
    "SendRequest",
    "User",
    "UserSession",
    "Workspace",
    "WorkspacePace",
]
