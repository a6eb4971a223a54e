"""Contact groups on the workspace's gateway: list, read, create, rename, delete.

The portal keeps no copy: every call goes through `client_for(workspace)`, so a workspace only
ever sees what its own token's account holds. Changes are audited with the member who made them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _

from ..extensions import db
from ..gotone import Group, Page
from ..gotone.errors import ValidationError
from ..models import User, Workspace
from . import audit
from .gotone import client_for
from .paging import within

_DUPLICATE = re.compile(r"already available as your contact group|has already been taken")


def list_groups(workspace: Workspace, page: int = 1) -> Page[Group]:
    """Return one page (the gateway's 25) of the workspace's groups. Raises GoToneError."""
    return within(client_for(workspace).list_groups, page)


def get_group(workspace: Workspace, group_uid: str) -> Group:
    """Return one group. Raises NotFoundError, GoToneError."""
    return client_for(workspace).get_group(group_uid)


@dataclass(frozen=True)
class DeletionPreview:
    group: Group
    contacts: int


def deletion_preview(workspace: Workspace, group_uid: str) -> DeletionPreview:
    """Return the group and how many contacts its deletion takes along (two calls)."""
    client = client_for(workspace)
    group = client.get_group(group_uid)
    return DeletionPreview(group, client.list_contacts(group_uid, 1).total)


def create_group(workspace: Workspace, actor: User, name: str) -> Group:
    """Create a group (audited, commits). Raises ValidationError (duplicate name), GoToneError."""
    group = client_for(workspace).create_group(name)
    audit.record(actor, workspace, "group.created", group.uid, name=group.name)
    db.session.commit()
    return group


def rename_group(workspace: Workspace, actor: User, group_uid: str, name: str) -> Group:
    """Rename a group (audited, commits). Raises NotFoundError, ValidationError, GoToneError."""
    group = client_for(workspace).rename_group(group_uid, name)
    audit.record(actor, workspace, "group.renamed", group_uid, name=group.name)
    db.session.commit()
    return group


def delete_group(workspace: Workspace, actor: User, group_uid: str) -> None:
    """Delete a group and its contacts (audited, commits). Raises NotFoundError, GoToneError."""
    client_for(workspace).delete_group(group_uid)
    audit.record(actor, workspace, "group.deleted", group_uid)
    db.session.commit()


def name_message(error: ValidationError) -> str:
    """Say what the gateway refused about a group name, in the portal's words when known."""
    text = error.gateway_message or ""
    if _DUPLICATE.search(text):
        return _("A group with this name already exists.")
    return text or str(error)
