"""Log records carry the request id; secrets that libraries might print are redacted; each
line is written once, in one format.

Flask gives `app.logger` (the "app" logger, parent of every `app.*` module logger) a handler of
its own when nothing above it has one yet; whoever configures the root logger later (Alembic's
fileConfig during an in-process `upgrade()`, a job consumer) then added a second one, so every
line came out twice in two formats. The portal instead keeps exactly one handler, on the root
logger, and only when the process has none of its own (gunicorn's error log, `basicConfig` in a
consumer, pytest's capture keep theirs).
"""

from __future__ import annotations

import logging
import re
import sys

from flask import Flask, g, has_request_context
from flask.logging import default_handler

FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

# urllib3 logs full URLs at DEBUG: the http family puts api_token in the query string.
_SECRETS = [
    (re.compile(r"(api_token=)[^&\s\"']+", re.I), r"\1[redacted]"),
    (re.compile(r"(Bearer\s+)[^\s\"']+", re.I), r"\1[redacted]"),
    (re.compile(r"(\"api_token\"\s*:\s*\")[^\"]*", re.I), r"\1[redacted]"),
]
_base_factory = logging.getLogRecordFactory()


def redact(text: str) -> str:
    """Remove token-shaped secrets (and line breaks, against log injection) from a message."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text.replace("\r", " ").replace("\n", " ")


def _record_factory(*args, **kwargs) -> logging.LogRecord:
    # A factory rather than a handler filter: every handler (pytest's caplog, gunicorn's,
    # a syslog one added later) then only ever sees the redacted text.
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string must not break logging
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    record.request_id = g.get("request_id", "-") if has_request_context() else "-"
    return record


class _PortalHandler(logging.StreamHandler):
    """The one handler the portal installs (told apart from others by its class)."""


def portal_handler() -> logging.Handler:
    handler = _PortalHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT, defaults={"request_id": "-"}))
    return handler


def configure_logging(app: Flask) -> None:
    """Install the redacting record factory and the single handler (once per process)."""
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    app.logger.removeHandler(default_handler)
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(portal_handler())
    app.logger.setLevel(app.config["LOG_LEVEL"])
