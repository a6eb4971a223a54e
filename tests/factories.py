"""Plain factory functions with keyword overrides (no factory_boy at this size)."""

from __future__ import annotations

import itertools

from app.extensions import db
from app.models import Membership, User, Workspace
from app.permissions import Role
from app.services import accounts, gotone, sessions, workspaces

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


def make_user(email: str | None = None, password: str = PASSWORD, **fields) -> User:
    user = accounts.create_user(email or f"user{next(_seq)}@example.com", password)
    for name, value in fields.items():
        setattr(user, name, value)
    db.session.commit()
    return user


def make_workspace(
    owner: User | None = None,
    name: str | None = None,
    *,
    base_url: str | None = None,
    token: str | None = None,
) -> Workspace:
    owner = owner or make_user()
    workspace = workspaces.create(name or f"Workspace {next(_seq)}", owner, gotone_url=base_url)
    if token:
        gotone.set_token(workspace, owner, token)
    return workspace


def add_member(workspace: Workspace, user: User | None = None, role: str = Role.MEMBER) -> User:
    user = user or make_user()
    db.session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=role))
    db.session.commit()
    return user


def login(client, user: User) -> str:
    """Sign `client` in as `user` through a real server-side session; return its token."""
    token = sessions.create(user, "127.0.0.1", "pytest")
    with client.session_transaction() as sess:
        sess["_user_id"] = f"{user.id}:{token}"
        sess["_fresh"] = True
    return token
