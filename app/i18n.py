"""Template gettext that looks the request's translations up once, not once per string.

flask-babel's template callables find the translations anew for every string (locale, domain
and cache look-ups through `g`): about 10 µs each, and a list page shows some hundred strings
(issue 8). The translations of a request cannot change while it renders, except through
flask_babel.refresh(), which the portal never calls mid-request.
"""

from __future__ import annotations

from flask import Flask, g
from flask_babel import get_translations

_KEY = "_portal_translations"


def _translations():
    found = g.get(_KEY)
    if found is None:
        found = get_translations()
        setattr(g, _KEY, found)
    return found


def install_template_gettext(app: Flask) -> None:
    """Replace flask-babel's template callables (call after babel.init_app)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
