"""What the GoTone client sends: the API root, checked arguments, request bodies, log redaction.

Everything here runs before any request: a refusal is an InvalidRequestError, never a call.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from .errors import InvalidRequestError
from .phones import normalise_phone

Family = Literal["v3", "http"]

MAX_RECIPIENTS = 100  # the gateway's bulk limit per call (reference §9.1.4)
SMS_TYPES = ("plain", "unicode", "voice", "mms", "whatsapp", "viber", "otp")
VOICE_GENDERS = ("male", "female")
# Reference Appendix A: the vendor's list. The server checks presence only, hence the override.
_LANGUAGE_LIST = (
    "cy-gb da-dk de-de el-gr en-au en-gb en-gb-wls en-in en-us es-es es-mx es-us fr-ca fr-fr "
    "id-id is-is it-it ja-jp ko-kr ms-my nb-no nl-nl pl-pl pt-br pt-pt ro-ro ru-ru sv-se ta-in "
    "th-th tr-tr vi-vn zh-cn zh-hk"
)
VOICE_LANGUAGES = frozenset(_LANGUAGE_LIST.split())
_UID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_TOKEN_PARAM = re.compile(r"(api_token=)[^&\s\"']+")


def check_settings(api_token: str, timeout: float) -> tuple[str, float]:
    """The client's token (stripped) and total deadline, refused if missing or not positive."""
    if not isinstance(api_token, str) or not api_token.strip():
        raise InvalidRequestError("api_token is required")
    if timeout <= 0:
        raise InvalidRequestError("timeout must be positive")
    return api_token.strip(), float(timeout)


def api_root(base_url: str, family: Family | None) -> tuple[str, Family]:
    """Accept the API root or the bare host (with or without trailing slash)."""
    parts = urlsplit(str(base_url).strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidRequestError("base_url must be an http(s) URL such as https://host/api/v3")
    if parts.query or parts.fragment:
        raise InvalidRequestError("base_url must not have a query string or fragment")
    path = parts.path.rstrip("/")
    named = re.search(r"/api/(v3|http)$", path)
    prefix = path[: named.start()] if named else path
    chosen = family or (named.group(1) if named else "v3")
    if chosen not in ("v3", "http"):
        raise InvalidRequestError("family must be 'v3' or 'http'")
    if named and named.group(1) != chosen:
        raise InvalidRequestError(f"base_url names the {named.group(1)} family, not {chosen}")
    return f"{parts.scheme}://{parts.netloc}{prefix}/api/{chosen}", chosen  # type: ignore[return-value]


class _RedactApiToken(logging.Filter):
    """urllib3 logs each request URL at DEBUG; an http-family GET carries the token there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _TOKEN_PARAM.sub(r"\1[redacted]", record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_PARAM.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def redact_urllib3_logs() -> None:
    urllib3_log = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactApiToken) for f in urllib3_log.filters):
        urllib3_log.addFilter(_RedactApiToken())


def to_account_time(moment: datetime, timezone: str) -> datetime:
    """Return an aware datetime as naive wall time in the account's timezone (Profile.timezone)."""
    if moment.tzinfo is None:
        raise InvalidRequestError("to_account_time needs an aware datetime")
    return moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def format_schedule_time(value: datetime | str | None) -> str | None:
    """Return schedule_time as the gateway reads it (`Y-m-d H:i`). Raises InvalidRequestError.

    A naive datetime is taken as wall time in the account's timezone. An aware one is refused:
    the gateway ignores offsets, so convert it first with `to_account_time`.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        return value.strip()
    if not isinstance(value, datetime):
        raise InvalidRequestError("schedule_time must be a datetime or a string")
    if value.tzinfo is not None:
        raise InvalidRequestError(
            "schedule_time must be naive wall time in the account's timezone; "
            "convert it with to_account_time(moment, profile.timezone)"
        )
    return value.strftime("%Y-%m-%d %H:%M")


def check_uid(uid: str, what: str) -> str:
    if not isinstance(uid, str) or not _UID.match(uid):
        raise InvalidRequestError(f"{what} must be a GoTone uid (letters and digits)")
    return uid


def check_page(page: int) -> int:
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidRequestError("page must be an integer of at least 1")
    return page


def check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequestError("a group name is required")
    return name.strip()


def contact_body(phone: str | int, first_name: str, last_name: str) -> dict[str, str]:
    """Both spellings, always present: L reads lowercase keys (and crashes on a missing name),
    M reads the upper-case tags; each ignores the other's (reference §8.1, §16)."""
    digits = normalise_phone(phone)
    first, last = first_name or "", last_name or ""
    return {
        "phone": digits,
        "PHONE": digits,
        "first_name": first,
        "FIRST_NAME": first,
        "last_name": last,
        "LAST_NAME": last,
    }


def check_send(
    recipients: list[str],
    message: str,
    sms_type: str,
    schedule: str | None,
    voice: tuple[Any, Any],
    media_url: str | None,
    check_voice: bool,
) -> None:
    """Refuse, before any request, what the gateway would refuse or silently mishandle.

    Non-GSM text is not refused: the gateway switches the type to unicode by itself (§13).
    check_voice=False lets a language outside Appendix A through.
    """
    if not isinstance(message, str) or not message.strip():
        raise InvalidRequestError("message is required (every type, mms included)")
    if sms_type not in SMS_TYPES:
        raise InvalidRequestError(f"type must be one of {', '.join(SMS_TYPES)}")
    if schedule is not None and len(recipients) == 1:
        # The gateway ignores schedule_time for a single recipient and sends at once (§9.1.5).
        raise InvalidRequestError("a scheduled send needs at least two distinct recipients")
    language, gender = voice
    if sms_type == "voice" and not (language and gender):
        raise InvalidRequestError("a voice message needs language and gender")
    if sms_type == "voice" and check_voice and language not in VOICE_LANGUAGES:
        raise InvalidRequestError("unknown voice language (pass check_voice=False to send it)")
    if sms_type == "voice" and check_voice and gender not in VOICE_GENDERS:
        raise InvalidRequestError("voice gender must be male or female")
    if sms_type == "mms" and not re.match(r"^https?://\S+$", media_url or ""):
        raise InvalidRequestError("an mms message needs media_url, an http(s) URL")


def present(**fields: Any) -> dict[str, Any]:
    """The fields that are not None: an option left unset is left out of the body."""
    return {key: value for key, value in fields.items() if value is not None}
