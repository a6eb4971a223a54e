"""The group name form (create and rename)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length, ValidationError

NAME_MAX = 100


class GroupForm(FlaskForm):
    name = StringField(_l("Group name"), validators=[InputRequired(), Length(max=NAME_MAX)])

    def validate_name(self, field):
        if not field.data.strip():
            raise ValidationError(_l("Enter a name."))
        field.data = field.data.strip()
