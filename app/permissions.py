"""The permission table: roles, what each may do, and which permission every route needs.

Docs and tests read these tables; `security.workspace_required` enforces them. A route that is
missing from ROUTE_ACCESS fails tests/web/test_access.py.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    MEMBER = "member"
    ADMIN = "admin"
    OWNER = "owner"


# Each role can do everything the roles before it can.
ROLE_ORDER = (Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER)

# permission -> the lowest role that holds it
PERMISSIONS: dict[str, Role] = {
    "workspace.view": Role.VIEWER,  # read everything in the workspace
    "contacts.edit": Role.MEMBER,  # create, edit and delete contacts and groups
    "messages.send": Role.MEMBER,  # send single and bulk SMS
    "members.manage": Role.ADMIN,  # invite, remove, change roles below owner
    "token.manage": Role.ADMIN,  # set, replace, clear and test the GoTone token
    "settings.manage": Role.ADMIN,  # gateway settings, rename the workspace
    "audit.view": Role.ADMIN,  # read the audit log
    "health.view": Role.ADMIN,  # the workspace's health page: its token, gateway, Redis
    # the gateway's own message list: legacy gateways include other customers' messages
    "gateway_history.view": Role.ADMIN,
    "workspace.delete": Role.OWNER,
    "ownership.transfer": Role.OWNER,  # also: make or unmake owners
}

# Route access levels that are not workspace permissions.
PUBLIC = "public"  # anyone, logged in or not
LOGIN = "login"  # any logged-in user

# endpoint -> PUBLIC, LOGIN or a key of PERMISSIONS (checked against the URL's workspace)
ROUTE_ACCESS: dict[str, str] = {
    "static": PUBLIC,
    "health.healthz": PUBLIC,
    "auth.signup": PUBLIC,
    "auth.login": PUBLIC,
    "auth.two_factor": PUBLIC,
    "auth.logout": LOGIN,
    "account.index": LOGIN,
    "account.change_password": LOGIN,
    "account.change_language": LOGIN,
    "account.setup_two_factor": LOGIN,
    "account.disable_two_factor": LOGIN,
    "workspaces.home": LOGIN,
    "workspaces.index": LOGIN,
    "workspaces.create": LOGIN,
    "workspaces.invitation": PUBLIC,
    "workspaces.pending_invitation": PUBLIC,
    "workspaces.accept_invitation": LOGIN,
    "workspaces.show": "workspace.view",
    "workspaces.leave": "workspace.view",
    "workspaces.members": "workspace.view",
    "workspaces.rename": "settings.manage",
    "workspaces.change_role": "members.manage",
    "workspaces.remove_member": "members.manage",
    "workspaces.create_invitation": "members.manage",
    "workspaces.revoke_invitation": "members.manage",
    "workspaces.transfer_ownership": "ownership.transfer",
    "workspaces.delete": "workspace.delete",
    "workspaces.settings": "settings.manage",
    "workspaces.update_settings": "settings.manage",
    "workspaces.set_token": "token.manage",
    "workspaces.clear_token": "token.manage",
    "workspaces.test_connection": "token.manage",
    "workspaces.health_page": "health.view",
    "workspaces.audit_log": "audit.view",
    "dashboard.account": "workspace.view",
    "dashboard.profile": "workspace.view",
    "dashboard.messages": "workspace.view",
    "dashboard.refresh": "workspace.view",
    "messages.history": "workspace.view",
    "messages.history_export": "workspace.view",
    "messages.refresh_statuses": "workspace.view",
    "messages.message": "workspace.view",
    "messages.refresh_message": "workspace.view",
    "messages.gateway_history": "gateway_history.view",
    "jobs.index": "workspace.view",
    "jobs.show": "workspace.view",
    "jobs.rejects": "workspace.view",
    "jobs.download": "workspace.view",
    "jobs.new_import": "contacts.edit",
    "jobs.new_export": "contacts.edit",
    "jobs.start": "contacts.edit",
    "jobs.cancel": "contacts.edit",
    "jobs.columns": "contacts.edit",
    "jobs.update_pace": "settings.manage",
    "messages.compose": "messages.send",
    "messages.panel": "messages.send",
    "messages.type_fields": "messages.send",
    "messages.review": "messages.send",
    "messages.send": "messages.send",
    "messages.status": "workspace.view",
    "messages.confirm_resend": "messages.send",
    "messages.resend": "messages.send",
    "messages.templates": "workspace.view",
    "messages.create_template": "messages.send",
    "messages.edit_template": "messages.send",
    "messages.delete_template": "messages.send",
    "messages.schedules": "workspace.view",
    "messages.edit_schedule": "messages.send",
    "messages.cancel_schedule": "messages.send",
    "messages.send_missed": "messages.send",
    "groups.index": "workspace.view",
    "groups.show": "workspace.view",
    "groups.row": "workspace.view",
    "groups.create": "contacts.edit",
    "groups.edit": "contacts.edit",
    "groups.update": "contacts.edit",
    "groups.confirm_delete": "contacts.edit",
    "groups.delete": "contacts.edit",
    "contacts.show": "workspace.view",
    "contacts.row": "workspace.view",
    "contacts.create": "contacts.edit",
    "contacts.edit": "contacts.edit",
    "contacts.update": "contacts.edit",
    "contacts.delete": "contacts.edit",
}


def rank(role: str) -> int:
    """Return the position of a role in ROLE_ORDER (higher = more rights)."""
    return ROLE_ORDER.index(Role(role))


def can(role: str | None, permission: str) -> bool:
    """Tell whether a member with `role` holds `permission`."""
    if role is None:
        return False
    return rank(role) >= rank(PERMISSIONS[permission])


def roles_with(permission: str) -> list[Role]:
    """Return the roles that hold `permission`, lowest first."""
    return [role for role in ROLE_ORDER if can(role, permission)]
