"""Log records carry the request id; secrets that libraries might print are redacted."""

from __future__ import annotations

import logging
import re

from flask import Flask, g, has_request_context

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


def configure_logging(app: Flask) -> None:
    """Install the redacting record factory (once per process)."""
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    app.logger.setLevel(app.config["LOG_LEVEL"])
