"""Invitation links: single use, expiring, carrying a role; only a hash is stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from ..exceptions import RuleError
from ..extensions import db
from ..models import Invitation, Membership, User, Workspace
from ..models.types import utcnow
from ..permissions import Role, can, rank
from . import audit
from .dml import execute_dml


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(workspace: Workspace, actor: Membership, role: str) -> tuple[Invitation, str]:
    """Create an invitation; return it with the link secret, shown once (commits)."""
    if role == Role.OWNER or (
        not can(actor.role, "ownership.transfer") and rank(role) >= rank(actor.role)
    ):
        raise RuleError(_("You cannot invite someone with this role."))
    secret = secrets.token_urlsafe(24)
    invitation = Invitation(
        workspace_id=workspace.id,
        role=role,
        token_hash=_digest(secret),
        created_by_id=actor.user_id,
        expires_at=utcnow() + timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        actor.user, workspace, "invitation.created", f"invitation {invitation.id}", role=role
    )
    db.session.commit()
    return invitation, secret


def open_invitations(workspace: Workspace) -> list[Invitation]:
    """Return the workspace's unused, unrevoked, unexpired invitations."""
    rows = db.session.scalars(
        db.select(Invitation)
        .options(joinedload(Invitation.created_by))  # shown in each row
        .where(Invitation.workspace_id == workspace.id)
        .order_by(Invitation.created_at.desc())
    )
    now = utcnow()
    return [inv for inv in rows if inv.is_open(now)]


def get(workspace: Workspace, invitation_id: int) -> Invitation | None:
    """Return the workspace's invitation by id, or None."""
    return db.session.scalar(
        db.select(Invitation).where(
            Invitation.id == invitation_id, Invitation.workspace_id == workspace.id
        )
    )


def revoke(workspace: Workspace, actor: User, invitation: Invitation) -> None:
    """Revoke an invitation (commits)."""
    if invitation.revoked_at is None and invitation.used_at is None:
        invitation.revoked_at = utcnow()
        audit.record(actor, workspace, "invitation.revoked", f"invitation {invitation.id}")
        db.session.commit()


def find_open(secret: str) -> Invitation | None:
    """Return the open invitation for a link secret, or None (unknown, used, expired)."""
    invitation = db.session.scalar(
        db.select(Invitation).where(Invitation.token_hash == _digest(secret))
    )
    if invitation is None or not invitation.is_open(utcnow()):
        return None
    return invitation


def accept(secret: str, user: User) -> Workspace:
    """Join the invitation's workspace with its role (commits). Raises RuleError."""
    invitation = find_open(secret)
    if invitation is None:
        raise RuleError(_("This invitation link is not valid any more."))
    workspace = db.session.get_one(Workspace, invitation.workspace_id)
    already = db.session.scalar(
        db.select(Membership).where(
            Membership.workspace_id == workspace.id, Membership.user_id == user.id
        )
    )
    if already is not None:
        raise RuleError(_("You are already a member of this workspace."))
    # Compare-and-set on used_at: two people racing on one link cannot both join.
    claimed = execute_dml(
        db.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
        .values(used_at=utcnow(), used_by_id=user.id)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise RuleError(_("This invitation link is not valid any more."))
    db.session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=invitation.role))
    audit.record(
        user, workspace, "member.joined", user.email, role=invitation.role, invitation=invitation.id
    )
    db.session.commit()
    return workspace
