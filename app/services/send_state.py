"""What a replayed send is told: the request's true state from its messages' counts.

A form submitted again (a double click, a reload, a member who saw an error) never sends
twice; the answer says what the first submit did so far: scheduled, queued, going out, sent,
partly sent, or nothing sent (with counts), never "already sent" when nothing went out.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from ..models.outbox import (
    ACCEPTED,
    CANCELLED,
    FAILED,
    MISSED,
    QUEUED,
    SCHEDULED,
    SENDING,
    UNKNOWN,
    SendRequest,
)
from . import outbox


def replay_message(request: SendRequest) -> str:
    """The flash for a submit of a form whose send is already stored."""
    counts = outbox.counts(request)
    total = sum(counts.values())
    sent, pending = counts.get(ACCEPTED, 0), counts.get(QUEUED, 0) + counts.get(SENDING, 0)
    unknown = counts.get(UNKNOWN, 0)
    not_sent = counts.get(FAILED, 0) + counts.get(CANCELLED, 0) + counts.get(MISSED, 0)
    if request.state == SCHEDULED:
        return _("This message is already scheduled; it was not scheduled again.")
    if pending and not (sent or unknown or not_sent):
        return ngettext(
            "This message is already queued (%(num)s recipient) and will go out once; "
            "it was not queued again.",
            "This message is already queued (%(num)s recipients) and will go out once; "
            "it was not queued again.",
            total,
        )
    if pending:
        return _(
            "This message is already going out: %(sent)s of %(total)s sent so far, "
            "%(pending)s waiting. Nothing was queued again.",
            sent=sent,
            total=total,
            pending=pending,
        )
    if sent == total:
        return _("This message was already sent; nothing was sent again.")
    if sent or unknown:
        return ngettext(
            "This message was already sent to %(sent)s of %(total)s recipient "
            "(%(unknown)s unknown, %(failed)s not sent). Nothing was sent again.",
            "This message was already sent to %(sent)s of %(total)s recipients "
            "(%(unknown)s unknown, %(failed)s not sent). Nothing was sent again.",
            total,
            sent=sent,
            total=total,
            unknown=unknown,
            failed=not_sent,
        )
    return ngettext(
        "This message was already submitted, and its %(num)s message did not go out. "
        "Open it to see why; nothing was sent now.",
        "This message was already submitted, and none of its %(num)s messages went out. "
        "Open it to see why; nothing was sent now.",
        total,
    )


def queue_down_message(request: SendRequest) -> str:
    """The flash when a bulk send is stored but the job queue could not be told."""
    return ngettext(
        "Your send is stored (%(num)s recipient) and will go out as soon as the job "
        "queue is available again. Do not send it again.",
        "Your send is stored (%(num)s recipients) and will go out as soon as the job "
        "queue is available again. Do not send it again.",
        request.recipients,
    )
