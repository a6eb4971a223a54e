"""Flask-WTF forms, one module per area; every field is listed explicitly."""

import wtforms
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms.validators import NumberRange, ValidationError


class EmptyForm(FlaskForm):
    """A button-only form: the CSRF token is its one field."""


class SafeNumberRange(NumberRange):
    """NumberRange that refuses what it cannot compare instead of raising (a 500).

    WTForms calls math.isnan(data): a 400-digit integer overflows a float, and Decimal('sNaN')
    cannot become one.
    """

    def __call__(self, form, field):
        try:
            super().__call__(form, field)
        except (ArithmeticError, ValueError) as error:
            if isinstance(error, ValidationError):
                raise
            message = self.message or field.gettext("Number must be between %(min)s and %(max)s.")
            raise ValidationError(message % {"min": self.min, "max": self.max}) from None


class _Select(wtforms.widgets.Select):
    """WTForms' select, with a plain option renderer (the same HTML).

    WTForms builds each option through html_params, about 0.1 ms an option: the history
    filters (20 options) cost a sixth of the page's own time, the compose page's voice
    languages more. Options with extra attributes still go the general way.
    """

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        label = choice.label or value
        # Markup's % escapes the value and the label.
        if choice.selected:
            return Markup('<option selected value="%s">%s</option>') % (value, label)
        return Markup('<option value="%s">%s</option>') % (value, label)


class SelectField(wtforms.SelectField):
    widget = _Select()


class SelectMultipleField(wtforms.SelectMultipleField):
    widget = _Select(multiple=True)
