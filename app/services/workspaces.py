"""Workspaces and their members: create, rename, roles, leave, transfer, delete."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Row
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.orm import contains_eager

from ..exceptions import RuleError
from ..extensions import db
from ..models import GoToneSettings, Membership, User, Workspace
from ..permissions import Role, can, rank
from . import account_cache, audit, job_files


def memberships_of(user: User) -> list[Membership]:
    """Return the user's memberships, workspaces by name."""
    return list(
        db.session.scalars(
            db.select(Membership)
            .join(Workspace)
            .options(contains_eager(Membership.workspace))  # the switcher shows the names
            .where(Membership.user_id == user.id)
            .order_by(Workspace.name, Workspace.id)
        )
    )


def switcher_entries(user: User) -> list[Row]:
    """(workspace_id, name) of the user's workspaces by name, for the switcher on every page:
    plain rows, not ORM objects (half the time of memberships_of, on every page)."""
    return list(
        db.session.execute(
            db.select(Membership.workspace_id, Workspace.name)
            .join(Workspace)
            .where(Membership.user_id == user.id)
            .order_by(Workspace.name, Workspace.id)
        )
    )


def create(name: str, owner: User, gotone_url: str | None = None) -> Workspace:
    """Create a workspace owned by `owner`, with default gateway settings (commits)."""
    workspace = Workspace(name=name.strip())
    db.session.add(workspace)
    db.session.flush()
    db.session.add(Membership(workspace_id=workspace.id, user_id=owner.id, role=Role.OWNER))
    db.session.add(
        GoToneSettings(
            workspace_id=workspace.id,
            base_url=gotone_url or current_app.config["GOTONE_DEFAULT_URL"],
        )
    )
    audit.record(owner, workspace, "workspace.created", workspace.name)
    db.session.commit()
    return workspace


def rename(workspace: Workspace, actor: User, name: str) -> None:
    """Rename the workspace (commits)."""
    old, workspace.name = workspace.name, name.strip()
    audit.record(actor, workspace, "workspace.renamed", workspace.name, old=old)
    db.session.commit()


def delete(workspace: Workspace, actor: User) -> None:
    """Delete the workspace with everything of it, except its audit rows (commits).

    The database removes (ON DELETE CASCADE) its members, invitations, gateway settings and
    pace, jobs with their items, sends with their messages, and templates; its job files
    (uploads, exports) are removed from disk after the commit. Kept on purpose: its audit
    rows, with the workspace id, as the record of who did what (and who deleted it); no
    other workspace can see them, because ids are never handed out again (AUTOINCREMENT on
    SQLite since revision 0005, sequences on PostgreSQL).
    """
    workspace_id = workspace.id
    legacy = job_files.legacy_job_ids(workspace_id)
    audit.record(actor, workspace, "workspace.deleted", workspace.name)
    db.session.delete(workspace)
    db.session.commit()
    job_files.remove_workspace_files(workspace_id, legacy)
    account_cache.invalidate(workspace_id)


def members(workspace: Workspace) -> list[Membership]:
    """Return the workspace's memberships, highest role first."""
    rows = db.session.scalars(
        db.select(Membership)
        .join(User)
        .options(contains_eager(Membership.user))
        .where(Membership.workspace_id == workspace.id)
        .order_by(User.email)
    )
    return sorted(rows, key=lambda m: -rank(m.role))


def get_member(workspace: Workspace, user_id: int) -> Membership | None:
    """Return the membership of `user_id` in this workspace, or None (a 404 for views)."""
    return db.session.scalar(
        db.select(Membership).where(
            Membership.workspace_id == workspace.id, Membership.user_id == user_id
        )
    )


def _owner_count(workspace: Workspace) -> int:
    return (
        db.session.scalar(
            db.select(db.func.count()).where(
                Membership.workspace_id == workspace.id, Membership.role == Role.OWNER
            )
        )
        or 0
    )


def _lock_members(workspace: Workspace, *rows: Membership) -> None:
    """Serialise the membership changes of one workspace, then re-read `rows` (the caller's
    and the target's memberships) as they are now.

    Two owners demoting each other at once each saw two owners and left none. Now the
    second waits for the first to commit and then decides on what the first did: on
    PostgreSQL by SELECT ... FOR UPDATE of the workspace row; on SQLite by writing first (a
    no-op UPDATE takes the database's write lock before anything is read). Raises RuleError
    when a row is gone meanwhile.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(
            db.select(Workspace.id).where(Workspace.id == workspace.id).with_for_update()
        )
    else:
        db.session.execute(
            db.update(Workspace).where(Workspace.id == workspace.id).values(id=Workspace.id)
        )
    for row in rows:
        try:
            db.session.refresh(row)
        except InvalidRequestError:
            db.session.rollback()
            raise RuleError(_("This member has left the workspace meanwhile.")) from None


def _check_manageable(actor: Membership, target: Membership) -> None:
    if not can(actor.role, "members.manage"):
        raise RuleError(_("Your role in this workspace does not allow this."))
    # Admins manage the roles below theirs; owners (who may transfer ownership) manage all.
    if can(actor.role, "ownership.transfer"):
        return
    if rank(target.role) >= rank(actor.role):
        raise RuleError(_("Only an owner can change an admin or an owner."))


def _refuse(message: str):
    db.session.rollback()  # ends the locking transaction
    raise RuleError(message)


def change_role(workspace: Workspace, actor: Membership, target: Membership, role: str) -> None:
    """Give `target` a new role (commits). Raises RuleError."""
    _lock_members(workspace, actor, target)
    try:
        _check_manageable(actor, target)
    except RuleError as error:
        _refuse(str(error))
    if not can(actor.role, "ownership.transfer") and rank(role) >= rank(actor.role):
        _refuse(_("Only an owner can make someone an admin or an owner."))
    if target.role == Role.OWNER and role != Role.OWNER and _owner_count(workspace) == 1:
        _refuse(_("The last owner cannot be demoted. Transfer ownership first."))
    old, target.role = target.role, role
    audit.record(actor.user, workspace, "member.role_changed", target.user.email, old=old, new=role)
    db.session.commit()


def remove_member(workspace: Workspace, actor: Membership, target: Membership) -> None:
    """Remove `target` from the workspace (commits). Raises RuleError."""
    _lock_members(workspace, actor, target)
    try:
        _check_manageable(actor, target)
    except RuleError as error:
        _refuse(str(error))
    if target.role == Role.OWNER and _owner_count(workspace) == 1:
        _refuse(_("The last owner cannot be removed."))
    audit.record(actor.user, workspace, "member.removed", target.user.email, role=target.role)
    db.session.delete(target)
    db.session.commit()


def leave(workspace: Workspace, membership: Membership) -> None:
    """Leave the workspace (commits). Raises RuleError for the last owner."""
    _lock_members(workspace, membership)
    if membership.role == Role.OWNER and _owner_count(workspace) == 1:
        _refuse(_("The last owner cannot leave. Transfer ownership or delete it."))
    audit.record(membership.user, workspace, "member.left", membership.user.email)
    db.session.delete(membership)
    db.session.commit()


def transfer_ownership(workspace: Workspace, actor: Membership, target: Membership) -> None:
    """Make `target` an owner and the acting owner an admin (commits)."""
    if target.id == actor.id:
        raise RuleError(_("You already own this workspace."))
    _lock_members(workspace, actor, target)
    if actor.role != Role.OWNER:
        _refuse(_("Only an owner can transfer ownership."))
    target.role, actor.role = Role.OWNER, Role.ADMIN
    audit.record(actor.user, workspace, "workspace.ownership_transferred", target.user.email)
    db.session.commit()
