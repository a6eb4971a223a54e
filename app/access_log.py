"""Secrets out of access logs: invitation links are bearer credentials for days.

The portal leaves an invitation's URL at once (the link is redeemed into the session, see
blueprints/workspaces/members.py), but the first hit still names the secret in its request
line, and an older link may sit in a ?next= or a Referer. gunicorn's access log (through
RedactingLogger, named in gunicorn.conf.py) and the development server's log (through
RedactingFilter) write every such secret as "[redacted]".

Imported by the gunicorn master before the app: only the standard library and gunicorn.
"""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

# "/invitations/<secret>", raw or percent-encoded (a ?next= holds it as %2Finvitations%2F);
# "pending" is the secret-free page the link leads to, and /w/<id>/invitations/<number>
# names an invitation by its id (not a secret).
_SLASH = r"(?:/|%2F|%252F)"
_INVITATION = re.compile(
    rf"({_SLASH}invitations{_SLASH})(?!(?:pending|\d+)(?:[/?&#\s\"]|$))[^/?&#\s\"]+",
    re.IGNORECASE,
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with every invitation secret replaced."""
    return _INVITATION.sub(lambda m: m.group(1) + REDACTED, text)


class RedactingLogger(Logger):
    """gunicorn's logger, with every access-log atom redacted (request line, path, query,
    Referer, any header)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}


class RedactingFilter(logging.Filter):
    """For the development server's request lines (the `werkzeug` logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redact(str(record.msg))
        return True
