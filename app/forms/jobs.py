"""Import upload, column mapping, export and pace forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from . import SafeNumberRange, SelectField

NO_COLUMN = -1
MAX_PASTE = 100_000  # characters; bigger lists belong in a file


class ImportForm(FlaskForm):
    file = FileField(_l("CSV or Excel (.xlsx) file"))
    text = TextAreaField(
        _l(
            "Or paste contacts: one per line, phone first, then names (separated by commas or tabs)"
        ),
        validators=[Length(max=MAX_PASTE)],
    )

    def validate_text(self, field):
        has_file = bool(self.file.data and getattr(self.file.data, "filename", ""))
        if not has_file and not (field.data or "").strip():
            raise ValidationError(_l("Choose a file or paste some contacts."))


class ColumnsForm(FlaskForm):
    phone = SelectField(_l("Phone number"), coerce=int, validate_choice=True)
    first_name = SelectField(_l("First name"), coerce=int, validate_choice=True)
    last_name = SelectField(_l("Last name"), coerce=int, validate_choice=True)
    has_header = BooleanField(_l("The first row holds column names"))

    def set_columns(self, labels: list[str]) -> None:
        columns = list(enumerate(labels))
        self.phone.choices = columns
        none = [(NO_COLUMN, _l("(none)"))]
        self.first_name.choices = none + columns
        self.last_name.choices = none + columns

    def mapping(self) -> dict[str, int | None]:
        def pick(value: int) -> int | None:
            return None if value == NO_COLUMN else value

        return {
            "phone": self.phone.data,
            "first_name": pick(self.first_name.data),
            "last_name": pick(self.last_name.data),
        }


class ExportForm(FlaskForm):
    group = StringField(_l("Group"), validators=[InputRequired(), Length(max=64)])


class PaceForm(FlaskForm):
    calls = IntegerField(
        _l("Gateway calls per minute for bulk work (empty: server default)"),
        validators=[Optional(), SafeNumberRange(min=1, max=6000)],
    )
