"""Flask-WTF forms, one module per area; every field is listed explicitly."""

from flask_wtf import FlaskForm


class EmptyForm(FlaskForm):
    """A button-only form: the CSRF token is its one field."""
