"""What a compose form asks for: recipients (typed numbers + whole groups), estimate, warnings.

The server's calculation is the authority: the live panel and the review step both call
`estimate`, which counts with the gateway's own segment rules (app/gotone/segments.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, cast

from flask_babel import gettext as _

from ..exceptions import PhoneError, ServiceUnavailableError
from ..gotone.client import GoToneClient
from ..gotone.errors import GoToneError
from ..gotone.segments import SegmentInfo
from ..gotone.types import Balance
from ..models import Workspace
from ..models.outbox import PLAIN
from . import merge, outbox, scheduling
from .gotone import get_settings
from .phones import from_gateway, parse_phone_list
from .segments import message_segments

SENDER_NUMBER = re.compile(r"^\+?[0-9]{3,15}$")
SENDER_ALPHA = re.compile(r"^[A-Za-z0-9]{1,11}$")


def sender_warning(sender_id: str | None) -> str | None:
    """A warning when the sender ID is neither a phone number nor ≤ 11 letters and digits."""
    if not sender_id:
        return None
    if SENDER_NUMBER.match(sender_id) or SENDER_ALPHA.match(sender_id):
        return None
    return _(
        "The sender ID is neither a phone number nor at most 11 letters and digits; "
        "the gateway or the networks may refuse or replace it."
    )


@dataclass
class Recipients:
    people: list[merge.Recipient] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    duplicates: int = 0
    groups: list[tuple[str, str]] = field(default_factory=list)
    typed: int = 0

    @property
    def phones(self) -> list[str]:
        return [p.phone for p in self.people]


def collect(
    workspace: Workspace,
    client: GoToneClient | None,
    typed: str,
    group_uids: list[str],
    group_names: dict[str, str] | None = None,
) -> Recipients:
    """Typed numbers (normalised, invalid listed, duplicates removed) plus every group contact.

    Groups are read through the gateway page by page. Raises GoToneError.
    """
    country = get_settings(workspace).default_country
    parsed = parse_phone_list(typed or "", country)
    result = Recipients(
        invalid=[f"{raw} ({why})" for raw, why in parsed.invalid], duplicates=parsed.duplicates
    )
    seen: dict[str, int] = {}
    for number in parsed.numbers:
        seen[number] = len(result.people)
        result.people.append(merge.Recipient(number))
    result.typed = len(parsed.numbers)
    for uid in group_uids:
        result.groups.append((uid, (group_names or {}).get(uid, uid)))
        if client is None:
            continue
        for contact in client.iter_all(client.list_contacts, uid):
            try:
                # The gateway's own digits carry their country code: never the default's.
                phone = from_gateway(contact.phone)
            except PhoneError:
                result.invalid.append(contact.phone)
                continue
            person = merge.Recipient(phone, contact.first_name or "", contact.last_name or "")
            if phone in seen:
                result.duplicates += 1
                # A typed number that is also a contact gets the contact's names.
                if not result.people[seen[phone]].first_name and person.first_name:
                    result.people[seen[phone]] = person
                continue
            seen[phone] = len(result.people)
            result.people.append(person)
    return result


def group_sizes(client: GoToneClient, group_uids: list[str]) -> int:
    """How many contacts the groups hold (one call per group; for the live panel)."""
    total = 0
    for uid in group_uids:
        page = client.list_contacts(uid, page=1)
        total += page.total if page.total is not None else len(page.items)
    return total


# Who the live panel counts for when it knows only how many recipients there are: no names
# (their fallbacks are sent) and the longest number E.164 allows, for {phone}. Counting the
# template instead made the braces of {first_name} GSM extension characters (2 septets each,
# and "GSM_7BIT_EX"). Names make a text longer: the review counts each recipient's own.
PANEL_RECIPIENT = merge.Recipient("0" * 15)


def counted_text(text: str) -> str:
    """The text the panel counts: merge fields as PANEL_RECIPIENT gets them."""
    return merge.render(text, PANEL_RECIPIENT) if merge.has_fields(text) else text


@dataclass
class Estimate:
    info: SegmentInfo
    characters: int
    segments: int  # worst case per recipient
    recipients: int
    units: int
    balance_text: str | None = None
    balance: Decimal | None = None
    unlimited: bool = False
    balance_error: str | None = None
    merge_summary: merge.MergeSummary | None = None

    @property
    def covered(self) -> bool:
        if self.unlimited or self.balance is None:
            return True
        return Decimal(self.units) <= self.balance


def estimate(
    text: str,
    sms_type: str,
    recipients: list[merge.Recipient] | int,
    client: GoToneClient | None = None,
    *,
    balance: Callable[[], Balance] | None = None,
) -> Estimate:
    """Characters, encoding, segments (worst case after merging), recipients, units, balance.

    Units = segments × recipients at one unit per segment (the gateway's default price).
    The balance comes from `balance()` when given (the compose page's cached one), else from
    `client.get_balance()` (the review, which decides whether the send may go).
    """
    sms_type = sms_type or PLAIN
    summary = (
        merge.summarise(text, [] if isinstance(recipients, int) else recipients)
        if merge.has_fields(text)
        else None
    )
    if isinstance(recipients, int):
        count = recipients
        info = message_segments(counted_text(text), sms_type)
    else:
        count = len(recipients)
        # The worst text after substitution (the review's recipients are all known).
        worst = summary.worst_text if summary and recipients else counted_text(text)
        info = message_segments(worst, sms_type)
    segments = info.segments
    if summary and not isinstance(recipients, int):
        units = sum(message_segments(merge.render(text, r), sms_type).segments for r in recipients)
    else:
        units = segments * count
    # "Characters" in the gateway's units: septets (an extension character such as € is 2)
    # or UTF-16 code units, of the text that is sent, not of the template.
    result = Estimate(info, info.length, segments, count, units, merge_summary=summary)
    read = balance or (client.get_balance if client is not None else None)
    if read is not None:
        try:
            found = read()
            result.balance_text = found.remaining_balance
            result.balance = found.amount
            result.unlimited = found.unlimited
        except (GoToneError, ServiceUnavailableError) as error:
            result.balance_error = str(error)
    return result


@dataclass
class Prepared:
    """A compose form made ready for review or send: the draft, who gets it, what it costs,
    and what stops it from going (empty when nothing does)."""

    draft: outbox.Draft
    people: Recipients
    estimate: Estimate
    problems: list[str]


def _draft(workspace: Workspace, data: Mapping[str, Any], people: Recipients) -> outbox.Draft:
    kind = data.get("type")
    when = None
    if data.get("send_on") and data.get("send_at"):
        when = scheduling.to_utc(workspace, data["send_on"], data["send_at"])
    # The form's validators make text and type strings before anything is sent; the live
    # panel may pass None, as it always did (a cast, not a conversion: nothing changes).
    return outbox.Draft(
        text=cast(str, data.get("text")),
        recipients=people.people,
        type=cast(str, kind),
        sender_id=data.get("sender_id") or None,
        dlt_template_id=data.get("dlt_template_id") or None,
        language=data.get("language") or None if kind == "voice" else None,
        gender=data.get("gender") or None if kind == "voice" else None,
        media_url=data.get("media_url") or None if kind == "mms" else None,
        scheduled_for=when,
        timezone=str(scheduling.zone_of(workspace)),
        source={"numbers": people.typed, "groups": people.groups},
    )


def _problems(draft: outbox.Draft, estimate: Estimate) -> list[str]:
    problems = []
    if not draft.recipients:
        problems.append(_("Add at least one valid recipient."))
    if draft.scheduled_for is not None and draft.scheduled_for <= outbox.utcnow():
        problems.append(_("The scheduled time has already passed."))
    if estimate.balance_error is None and not estimate.covered:
        problems.append(
            _(
                "The balance (%(balance)s) cannot cover about %(units)s units.",
                balance=estimate.balance_text,
                units=estimate.units,
            )
        )
    return problems


def prepare(
    workspace: Workspace,
    data: Mapping[str, Any],
    client: GoToneClient,
    group_names: dict[str, str] | None = None,
) -> Prepared:
    """A validated compose form's data (`form.data`): recipients expanded (every contact of
    every chosen group), the draft, the estimate against the gateway's balance asked afresh,
    and the problems. Raises GoToneError."""
    people = collect(
        workspace, client, data.get("numbers") or "", list(data.get("groups") or []), group_names
    )
    draft = _draft(workspace, data, people)
    result = estimate(draft.text, draft.type, draft.recipients, client)
    return Prepared(draft, people, result, _problems(draft, result))
