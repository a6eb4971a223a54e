"""Translations looked up once per request, not once per string.

flask-babel finds the translations anew for every string, Python or template: domain, locale
and cache look-ups through `g`, about 10 µs each, and a list page translates a few hundred
strings (labels of each row's state and type, table chrome, forms). Within a request they
cannot change: flask-babel itself keeps the request's locale once chosen, and the portal never
calls flask_babel.refresh() or force_locale().
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context
from flask_babel import Domain, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

_KEY = "_portal_translations"
_STRINGS_KEY = "_portal_template_strings"


class RequestCachedDomain(Domain):
    """flask-babel's domain, keeping the request's translations on `g`."""

    def get_translations(self):
        if not has_request_context():
            return super().get_translations()  # CLI and jobs: per call, as flask-babel does
        held = g.get(_KEY)
        if held is None or held[0] is not self:
            held = (self, super().get_translations())
            setattr(g, _KEY, held)
        return held[1]


def _translations():
    held = g.get(_KEY)
    return held[1] if held is not None else get_translations()


def install_request_translations(app: Flask) -> None:
    """Cache the translations per request for Python and template strings alike (call after
    babel.init_app). Templates skip flask-babel's look-up chain altogether."""
    with app.app_context():  # flask-babel builds its domain lazily, for the current app
        domain = app.extensions["babel"].instance.domain_instance
    if not isinstance(domain, RequestCachedDomain):
        domain.__class__ = RequestCachedDomain  # the one instance flask-babel hands out
    # Added to the environment by the jinja2.ext.i18n extension Flask-Babel enables.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # `_()` in templates: Jinja's newstyle alias resolves `gettext` and calls through the
    # context twice for every string (a page has a hundred); this gives the same result
    # directly, and keeps each string without variables for the rest of the request.
    app.jinja_env.globals["_"] = _template_gettext


@pass_context
def _template_gettext(context: Context, string: str, **variables: Any) -> str:
    """What Jinja's newstyle `_()` returns: the translation, Markup when autoescaping, always
    %-formatted (so "%%" is "%"), with the variables escaped."""
    # The catalogue's text is ours and trusted, as in Jinja's own gettext: Markup, and
    # Markup's % escapes the variables.
    autoescape = context.eval_ctx.autoescape
    if variables or not has_request_context():
        text = _translations().ugettext(string)
        return (Markup(text) if autoescape else text) % variables  # noqa: S704
    held = g.setdefault(_STRINGS_KEY, {})
    key = (string, autoescape)
    found = held.get(key)
    if found is None:
        text = _translations().ugettext(string)
        found = held[key] = (Markup(text) if autoescape else text) % {}  # noqa: S704
    return found
