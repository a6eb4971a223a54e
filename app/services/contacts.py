"""Contacts of a gateway group: list, read, create, update, delete, one call each.

Phone numbers arrive here already normalised (forms/contacts.py runs services.phones), so the
gateway only ever receives digits with the country code. Changes are audited.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _

from ..extensions import db
from ..gotone import Contact, Page
from ..gotone.errors import ValidationError
from ..models import User, Workspace
from . import audit
from .gotone import client_for
from .paging import within

_DUPLICATE = re.compile(r"^You have already subscribed to |has already been taken")
_BAD_PHONE = re.compile(
    r"must be a valid phone number|is a invalid phone number|^Undefined property: stdClass"
)
_BLACKLISTED = re.compile(r"blacklisted")


def list_contacts(workspace: Workspace, group_uid: str, page: int = 1) -> Page[Contact]:
    """Return one page (25) of a group's contacts. Raises NotFoundError, GoToneError."""
    client = client_for(workspace)
    return within(lambda number: client.list_contacts(group_uid, number), page)


def get_contact(workspace: Workspace, group_uid: str, contact_uid: str) -> Contact:
    """Return one contact of a group. Raises NotFoundError, GoToneError."""
    return client_for(workspace).get_contact(group_uid, contact_uid)


def create_contact(
    workspace: Workspace, actor: User, group_uid: str, phone: str, first_name: str, last_name: str
) -> Contact:
    """Add a contact (audited, commits). Raises ValidationError (e.g. duplicate), GoToneError."""
    contact = client_for(workspace).create_contact(group_uid, phone, first_name, last_name)
    audit.record(
        actor, workspace, "contact.created", contact.uid, group=group_uid, phone_end=phone[-4:]
    )
    db.session.commit()
    return contact


def update_contact(
    workspace: Workspace,
    actor: User,
    group_uid: str,
    contact_uid: str,
    phone: str,
    first_name: str,
    last_name: str,
) -> Contact:
    """Replace a contact's phone and names (audited, commits). Raises NotFoundError,
    ValidationError, GoToneError."""
    client = client_for(workspace)
    contact = client.update_contact(group_uid, contact_uid, phone, first_name, last_name)
    audit.record(
        actor, workspace, "contact.updated", contact_uid, group=group_uid, phone_end=phone[-4:]
    )
    db.session.commit()
    return contact


def delete_contact(workspace: Workspace, actor: User, group_uid: str, contact_uid: str) -> None:
    """Delete a contact (audited, commits). Raises NotFoundError, GoToneError."""
    client_for(workspace).delete_contact(group_uid, contact_uid)
    audit.record(actor, workspace, "contact.deleted", contact_uid, group=group_uid)
    db.session.commit()


def phone_message(error: ValidationError) -> str:
    """Say what the gateway refused about a phone number, in the portal's words when known."""
    text = error.gateway_message or ""
    if _DUPLICATE.search(text):
        return _("This number is already in the group.")
    if _BLACKLISTED.search(text):
        return _("This number is on the account's blacklist.")
    if _BAD_PHONE.search(text):
        return _("The gateway does not accept this phone number.")
    return text or str(error)
