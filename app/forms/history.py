"""The history filters (a GET form) and the labels of outbox states and message types."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SearchField
from wtforms.validators import Length, Optional, ValidationError

from ..models.outbox import MESSAGE_STATES, MMS, PLAIN, VOICE
from ..services.history import DELIVERED, Filters
from . import SelectField

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


# Lazy strings, built once: each is translated when shown, in the request's locale. The
# history and dashboard rows look a label up per row; rebuilding these dicts there was a few
# hundred lazy strings per page.
STATE_LABELS: Mapping[str, str] = {
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "accepted": _l("Accepted"),
    "failed": _l("Failed"),
    "unknown": _l("Unknown: may have been sent"),
    "cancelled": _l("Cancelled"),
    "missed": _l("Missed"),
    DELIVERED: _l("Delivered (gateway)"),
}
# A send request's states (scheduled, queued, done, cancelled, missed).
REQUEST_STATE_LABELS: Mapping[str, str] = {
    "scheduled": _l("Scheduled"),
    "queued": _l("Sending"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
    "missed": _l("Missed: not sent at its time"),
}
TYPE_LABELS: Mapping[str, str] = {PLAIN: _l("Plain"), VOICE: _l("Voice"), MMS: _l("MMS")}


class HistoryFilterForm(FlaskForm):
    """Read from the query string; no CSRF (a GET that changes nothing)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Number or text"), validators=[Optional(), Length(max=200)])
    member = SelectField(_l("Sent by"), validators=[Optional()], validate_choice=True)
    status = SelectField(_l("Status"), validators=[Optional()])
    type = SelectField(_l("Type"), validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def __init__(self, formdata, senders: list[tuple[int, str]]):
        super().__init__(formdata=formdata, meta={"csrf": False})
        self.member.choices = [("", _l("Anyone"))] + [(str(i), email) for i, email in senders]
        self.status.choices = [("", _l("Any status"))] + [
            (s, STATE_LABELS[s]) for s in (*MESSAGE_STATES, DELIVERED)
        ]
        self.type.choices = [("", _l("Any type"))] + list(TYPE_LABELS.items())

    def validate_q(self, field):
        if "\x00" in (field.data or ""):  # PostgreSQL cannot compare text with a NUL (a 500)
            raise ValidationError(_l("Remove the NUL character."))

    def validate_date_from(self, field):
        # Days far out overflow the conversion to UTC (a 500), and no message is that old.
        if field.data and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError(_l("Enter a date between 2000 and 2999."))

    validate_date_to = validate_date_from

    def filters(self) -> Filters:
        """The valid filters; a field that failed validation counts as empty."""

        def ok(field):
            data = field.data
            blank = data is None or (isinstance(data, str) and not data.strip())
            return None if field.errors or blank else data  # Optional() lets blanks through

        member = ok(self.member)
        return Filters(
            q=(ok(self.q) or "").strip(),
            member_id=int(member) if member else None,
            status=ok(self.status) or "",
            type=ok(self.type) or "",
            date_from=ok(self.date_from),
            date_to=ok(self.date_to),
        )
