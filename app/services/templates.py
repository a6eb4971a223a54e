"""Saved message templates of a workspace."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..exceptions import TemplateError
from ..extensions import db
from ..models import MessageTemplate, User, Workspace
from . import audit


def list_templates(workspace: Workspace) -> list[MessageTemplate]:
    return list(
        db.session.scalars(
            select(MessageTemplate)
            .where(MessageTemplate.workspace_id == workspace.id)
            .order_by(MessageTemplate.name)
        )
    )


def get_template(workspace: Workspace, template_id: int) -> MessageTemplate | None:
    return db.session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.id == template_id, MessageTemplate.workspace_id == workspace.id
        )
    )


def save(
    workspace: Workspace, actor: User, name: str, text: str, template: MessageTemplate | None = None
) -> MessageTemplate:
    """Create (template None) or update a template (commits)."""
    if template is None:
        template = MessageTemplate(workspace_id=workspace.id, created_by_id=actor.id)
        db.session.add(template)
    template.name, template.text = name, text
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise TemplateError(_("A template with this name already exists.")) from None
    audit.record(actor, workspace, "template.saved", str(template.id), name=name)
    db.session.commit()
    return template


def delete(workspace: Workspace, actor: User, template: MessageTemplate) -> None:
    audit.record(actor, workspace, "template.deleted", str(template.id), name=template.name)
    db.session.delete(template)
    db.session.commit()
