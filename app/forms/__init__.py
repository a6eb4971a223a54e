"""Flask-WTF forms, one module per area; every field is listed explicitly."""

from flask_wtf import FlaskForm
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
