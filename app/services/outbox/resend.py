"""Resend after a member's confirmation: an `unknown` message is never sent again
automatically; `resend` creates a new request with one message linked by `resend_of_id`."""

from __future__ import annotations

from flask_babel import gettext as _

from ...exceptions import OutboxError
from ...models import User, Workspace
from ...models.outbox import UNKNOWN, OutboxMessage
from .. import merge
from ..gotone import client_for
from .drafts import IN_FLIGHT_WAIT, Draft, Submitted, submit
from .sending import start


def resend(workspace: Workspace, actor: User, message: OutboxMessage) -> Submitted:
    """Send an `unknown` message again as a new request linked to it (idempotent per row)."""
    if message.state != UNKNOWN:
        raise OutboxError(_("Only a message whose outcome is unknown can be resent."))
    # The client first: without a token nothing is written, so the resend key stays unused.
    client = client_for(workspace)
    original = message.request
    draft = Draft(
        text=message.text,
        type=original.type,
        recipients=[merge.Recipient(message.phone)],
        sender_id=original.sender_id,
        dlt_template_id=original.dlt_template_id,
        language=original.language,
        gender=original.gender,
        media_url=original.media_url,
        source={"resend_of": message.id},
    )
    submitted = submit(
        workspace, actor, f"resend-{message.id}", draft, resend_of=message, wait=IN_FLIGHT_WAIT
    )
    if not submitted.replayed:
        start(submitted.request, client)
    return submitted
