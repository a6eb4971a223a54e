"""Compose (plain, voice, MMS; typed numbers and groups; schedule), templates, schedule edits."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    SelectChoice,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import URL, InputRequired, Length, Optional, ValidationError

from ..gotone.payloads import VOICE_GENDERS, VOICE_LANGUAGES
from . import SelectField, SelectMultipleField

TEXT_MAX = 1600


class ComposeForm(FlaskForm):
    send_key = HiddenField()
    type = SelectField(
        _l("Type"),
        choices=[
            SelectChoice("plain", _l("Text (SMS)")),
            SelectChoice("voice", _l("Voice call")),
            SelectChoice("mms", _l("MMS")),
        ],
        default="plain",
    )
    numbers = TextAreaField(
        _l("Numbers"),
        validators=[Optional(), Length(max=100_000)],
        description=_l("Typed or pasted, one per line or separated by commas; any common format."),
    )
    groups = SelectMultipleField(_l("Groups"), choices=[], validate_choice=False)
    text = TextAreaField(_l("Message"), validators=[InputRequired(), Length(max=TEXT_MAX)])
    sender_id = StringField(_l("Sender ID"), validators=[Optional(), Length(max=32)])
    dlt_template_id = StringField(_l("DLT template ID"), validators=[Optional(), Length(max=64)])
    language = SelectField(
        _l("Voice language"),
        choices=[SelectChoice("", "—")] + [SelectChoice(c, c) for c in sorted(VOICE_LANGUAGES)],
        default="",
    )
    gender = SelectField(
        _l("Voice"),
        choices=[SelectChoice("", "—")] + [SelectChoice(v, v) for v in VOICE_GENDERS],
        default="",
    )
    media_url = StringField(
        _l("Media URL"), validators=[Optional(), URL(require_tld=False), Length(max=2048)]
    )
    send_on = DateField(_l("Send on (workspace time)"), validators=[Optional()])
    send_at = TimeField(_l("At"), validators=[Optional()])

    # The fields of the other types are hidden and ignored (compose._draft): what a stale or
    # forged post leaves in them must not refuse the form with an error nobody can see.
    TYPE_FIELDS = {"language": "voice", "gender": "voice", "media_url": "mms"}

    def validate(self, extra_validators=None):
        super().validate(extra_validators)
        for name, kind in self.TYPE_FIELDS.items():
            if self.type.data != kind:
                self[name].errors = []
        return not self.errors

    def validate_text(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("Enter a message."))

    def validate_language(self, field):
        if self.type.data == "voice" and not field.data:
            raise ValidationError(_l("Choose the voice language."))

    def validate_gender(self, field):
        if self.type.data == "voice" and not field.data:
            raise ValidationError(_l("Choose the voice."))

    def validate_media_url(self, field):
        if self.type.data == "mms" and not field.data:
            raise ValidationError(_l("Enter the media URL of the MMS."))

    def validate_send_at(self, field):
        if bool(self.send_on.data) != bool(field.data):
            raise ValidationError(_l("Give both a date and a time, or neither."))


def _not_blank(form, field):
    # InputRequired lets spaces through: a template or scheduled send of blanks sends nothing.
    if not (field.data or "").strip():
        raise ValidationError(_l("Enter a message."))


class TemplateForm(FlaskForm):
    name = StringField(_l("Template name"), validators=[InputRequired(), Length(max=100)])
    text = TextAreaField(
        _l("Message"), validators=[InputRequired(), Length(max=TEXT_MAX), _not_blank]
    )

    def validate_name(self, field):
        if not field.data.strip():
            raise ValidationError(_l("Enter a name."))
        field.data = field.data.strip()


class ScheduleForm(FlaskForm):
    text = TextAreaField(
        _l("Message"), validators=[InputRequired(), Length(max=TEXT_MAX), _not_blank]
    )
    send_on = DateField(_l("Send on (workspace time)"), validators=[InputRequired()])
    send_at = TimeField(_l("At"), validators=[InputRequired()])
