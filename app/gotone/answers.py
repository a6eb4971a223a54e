"""What the GoTone client makes of an answer: the success envelope, or the error it maps to.

Success is `body.status == "success"`, never the HTTP code alone (reference §3). Error texts
never hold the token (scrubbed) nor full phone numbers (masked).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from . import transport
from .errors import (
    ApiError,
    AuthError,
    GoToneError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    SendRejectedError,
    UnavailableError,
    ValidationError,
)
from .phones import mask_numbers
from .url_policy import PRIVATE, UrlRefusedError

Kind = Literal["read", "write", "send"]
READ: Kind = "read"
WRITE: Kind = "write"
SEND: Kind = "send"

RATE_LIMIT_WINDOW = 60.0  # seconds; Laravel's fixed window (reference §4)
SUCCESS_TEXTS = frozenset(
    {"Message is scheduled successfully.", "Your message was successfully delivered"}
)

_AUTH_TEXTS = frozenset(
    {
        "Unauthenticated.",
        "These credentials do not match our records.",
        "The api token field is required.",
    }
)
_PERMISSION_TEXTS = frozenset(
    {
        "You do not have permission to access API",
        "Sorry, but you do not have permissions to access this page.",
        "This action is unauthorized.",
        "Invalid action. Pleas try again.",
    }
)
_NOT_FOUND_TEXTS = frozenset(
    {"SMS Info not found", "Sorry, but the page you were trying to view does not exist."}
)
_VALIDATION = re.compile(
    "|".join(
        [
            r"^The .+ field is required\.",
            r"already available as your contact group\.$",
            r"^The name has already been taken\.$",
            r"^You have already subscribed to ",
            r"must be a valid phone number\.?$",
            r"^The .+ is required$",
            r"^This phone number is blacklisted\.$",
            r"^Please insert valid sms type",
            r"^Language and gender parameters are required$",
            r"^media_url parameter is required$",
            r"^Valid media url is required\.$",
            r"^Could not parse ",
            r"^Invalid timezone provided\.$",
            r"^Invalid datetime format",
            r"^Start datetime must be before end datetime\.$",
            # L's create/update contact: an impossible number surfaces as this PHP error (§8.1).
            r"^Undefined property: stdClass::\$contact$",
        ]
    )
)
# A contact's invalid phone is a validation error; on a send it is a pipeline rejection.
_INVALID_PHONE = re.compile(r" is a invalid phone number$")
_ROUTE_ERROR = re.compile(r"^The route .* could not be found\.$|^The \w+ method is not supported")
# Where one per-number error of a bulk send ends and the next begins (§9.1.4, §9.1.6).
_ERROR_START = re.compile(
    r" (?=\+?\d* is a invalid phone number|Permission to send an SMS has not been enabled"
    r"|The string supplied |Could not interpret numbers)"
)
_GATEWAY_TEXT_LIMIT = 500


@dataclass(frozen=True)
class Answer:
    """A successful envelope: its `data` and `message`."""

    data: Any
    message: str | None


def interpret(raw: transport.RawResponse, kind: Kind, action: str, token: str) -> Answer:
    """Judge the answer by the envelope's status (reference §3.1). Raises GoToneError."""
    if 300 <= raw.status < 400:
        # Never followed: a redirected POST turns into a GET, and §1.2 says none is expected.
        raise ProtocolError(
            f"GoTone {action}: redirected (HTTP {raw.status}); check base_url",
            http_status=raw.status,
        )
    envelope = _envelope(raw.body)
    if envelope is None:
        raise _non_envelope_error(raw, action)
    status, message = envelope["status"], envelope.get("message")
    message = message if isinstance(message, str) else None
    if status == "success" and 200 <= raw.status < 300:
        if "data" not in envelope:
            raise ProtocolError(
                f"GoTone {action}: a success answer without data", http_status=raw.status
            )
        return Answer(envelope["data"], message)
    raise _api_error(raw.status, message or "", kind, action, token)


def failure_error(
    failure: transport.TransportFailure, action: str, *, timeout: float, max_body: int
) -> GoToneError:
    """Map an exchange that got no complete answer to the hierarchy, by how far it got."""
    stage = failure.stage
    prefix = f"GoTone {action}:"
    if stage == transport.NOT_SENT:
        text = f"{prefix} could not connect to the gateway ({failure.detail})"
        cls = RequestTimeoutError if "Timeout" in failure.detail else UnavailableError
        return cls(text, definitely_not_received=True)
    if stage == transport.REFUSED_PEER:
        return UrlRefusedError(
            PRIVATE,
            f"the gateway's host led to {failure.detail}, a loopback, private or reserved address",
        )
    if stage == transport.TOO_LARGE:
        return ProtocolError(f"{prefix} the answer exceeded {max_body} bytes")
    if stage in (transport.READ_TIMEOUT, transport.DEADLINE):
        text = f"{prefix} no complete answer within {timeout:g} s"
        return RequestTimeoutError(text, may_have_been_processed=True)
    what = "the connection dropped before any answer"
    if stage == transport.BROKEN_BODY:
        what = "the connection dropped in the middle of the answer"
    return UnavailableError(f"{prefix} {what} ({failure.detail})", may_have_been_processed=True)


def scrub(text: str, token: str) -> str:
    """Remove the token, or its secret part, from gateway text in any spelling of its
    characters: raw, percent-encoded in either case (`%2D` for `-`, which quote() never
    writes) or twice, JSON `\\u002d` and `\\/`, HTML `&#45;` / `&#x2d;`."""
    secret = token.partition("|")[2]
    secrets = [token] + ([secret] if len(secret) >= 8 else [])
    for value in secrets:  # the whole token first: its secret part is inside it
        text = _spelled_anyhow(value).sub("[token]", text)
    return text


def _spelled_anyhow(value: str) -> re.Pattern[str]:
    return re.compile("".join(_char_spellings(char) for char in value), re.IGNORECASE)


def _char_spellings(char: str) -> str:
    encoded = "".join(f"%{byte:02x}" for byte in char.encode())
    forms = [
        re.escape(char),
        re.escape(encoded),
        re.escape(encoded.replace("%", "%25")),
        rf"\\u{ord(char):04x}",
        rf"&#0*{ord(char)};",
        rf"&#x0*{ord(char):x};",
    ]
    if char == "/":
        forms.append(r"\\/")
    return "(?:" + "|".join(forms) + ")"


def split_errors(text: str) -> tuple[str, ...]:
    """The bulk path joins its per-number errors with single spaces (§9.1.4); split them again
    where a known per-number message starts. Unknown wording stays in one piece."""
    return tuple(part.strip() for part in _ERROR_START.split(text) if part.strip())


def _non_envelope_error(raw: transport.RawResponse, action: str) -> GoToneError:
    """§3.1: 401/403/5xx are failures of their kind even when the body does not parse."""
    text = f"GoTone {action}: the gateway sent {_describe_body(raw.body)} (HTTP {raw.status})"
    if raw.status >= 500:
        return UnavailableError(text, http_status=raw.status, may_have_been_processed=True)
    if raw.status == 401:
        return AuthError(text, http_status=raw.status)
    if raw.status == 403:
        return PermissionDeniedError(text, http_status=raw.status)
    if raw.status == 429:
        return RateLimitedError(text, http_status=raw.status, retry_after=_retry_after(raw))
    return ProtocolError(text, http_status=raw.status)


def _api_error(http_status: int, message: str, kind: Kind, action: str, token: str) -> GoToneError:
    """Map an error envelope to the hierarchy (reference §3.4)."""
    cls = _error_class(http_status, message, kind)
    gateway = scrub(message, token)[:_GATEWAY_TEXT_LIMIT]
    shown = mask_numbers(gateway) or f"HTTP {http_status} without a message"
    text = f"GoTone {action}: {shown}"
    if cls is RateLimitedError:
        return RateLimitedError(
            text, http_status=http_status, gateway_message=gateway, retry_after=RATE_LIMIT_WINDOW
        )
    unknown = cls is UnavailableError and http_status >= 500
    return cls(
        text, http_status=http_status, gateway_message=gateway, may_have_been_processed=unknown
    )


def _envelope(body: bytes) -> dict[str, Any] | None:
    """The API envelope, or None if the body is not a JSON object with a string status."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("status"), str):
        return parsed
    return None


def _describe_body(body: bytes) -> str:
    start = body.lstrip()[:1]
    if not start:
        return "an empty answer"
    if start == b"<":
        return "an HTML page"
    if start in (b"{", b"["):
        try:
            json.loads(body)
        except (ValueError, RecursionError):
            return "invalid JSON"
        return "JSON that is not the API envelope"
    return "a non-JSON answer"


def _retry_after(raw: transport.RawResponse) -> float:
    value = raw.headers.get("Retry-After", "")
    seconds = float(value) if value.strip().isdigit() else RATE_LIMIT_WINDOW
    return min(max(seconds, 1.0), RATE_LIMIT_WINDOW)


def _error_class(http_status: int, message: str, kind: Kind) -> type[GoToneError]:
    """Which error an error envelope is (reference §3.2-§3.4), most specific first."""
    if http_status >= 500 or message == "Service Unavailable":
        return UnavailableError
    if message == "Too Many Attempts.":
        return RateLimitedError
    if message in _AUTH_TEXTS:
        return AuthError
    if message in _PERMISSION_TEXTS or (http_status == 403 and kind != SEND):
        return PermissionDeniedError
    if _ROUTE_ERROR.match(message):
        return ProtocolError  # the gateway does not have this endpoint: wrong base URL?
    if message.startswith("No query results for model") or message in _NOT_FOUND_TEXTS:
        return NotFoundError
    if http_status == 404 and kind != SEND:
        return NotFoundError
    if http_status == 422 or _VALIDATION.search(message):
        return ValidationError
    if kind != SEND and _INVALID_PHONE.search(message):
        return ValidationError
    return SendRejectedError if kind == SEND else ApiError
