"""GoToneClient: one method per GoTone (Ultimate SMS) API operation, over one `_request()`.

Rules the whole client follows (reference §1.5, §1.6, §3, §16):
- success is `body.status == "success"`, never the HTTP code alone;
- JSON bodies, `Accept: application/json`, no trailing slashes, no redirects followed;
- every call has a connect timeout and a total deadline that also bounds reading the body;
- reads are retried once, only when the failure shows the gateway did nothing; writes only
  when the request provably never left; sends never (the portal's outbox decides);
- neither the token nor full phone numbers reach an exception text or a log line.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import requests

from . import transport
from .errors import (
    ApiError,
    AuthError,
    GoToneError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    SendRejectedError,
    UnavailableError,
    ValidationError,
)
from .phones import mask_numbers, normalise_phone, normalise_recipients, split_evenly
from .types import Balance, Contact, Group, Message, Page, Profile, SendResult

log = logging.getLogger("app.gotone")

T = TypeVar("T")
Family = Literal["v3", "http"]
Kind = Literal["read", "write", "send"]
READ: Kind = "read"
WRITE: Kind = "write"
SEND: Kind = "send"

MAX_RECIPIENTS = 100  # the gateway's bulk limit per call (reference §9.1.4)
MAX_BODY_BYTES = 10 * 1024 * 1024
RATE_LIMIT_WINDOW = 60.0  # seconds; Laravel's fixed window (reference §4)
SMS_TYPES = ("plain", "unicode", "voice", "mms", "whatsapp", "viber", "otp")
VOICE_GENDERS = ("male", "female")
# Reference Appendix A: the vendor's list. The server checks presence only, hence the override.
_LANGUAGE_LIST = (
    "cy-gb da-dk de-de el-gr en-au en-gb en-gb-wls en-in en-us es-es es-mx es-us fr-ca fr-fr "
    "id-id is-is it-it ja-jp ko-kr ms-my nb-no nl-nl pl-pl pt-br pt-pt ro-ro ru-ru sv-se ta-in "
    "th-th tr-tr vi-vn zh-cn zh-hk"
)
VOICE_LANGUAGES = frozenset(_LANGUAGE_LIST.split())
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
_HTTP_GROUP_DELETE_BUG = 'Attempt to read property "id" on null'  # reference §7.5, §17.28
_UID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_GATEWAY_TEXT_LIMIT = 500


_TOKEN_PARAM = re.compile(r"(api_token=)[^&\s\"']+")


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


def _redact_urllib3_logs() -> None:
    urllib3_log = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactApiToken) for f in urllib3_log.filters):
        urllib3_log.addFilter(_RedactApiToken())


@dataclass(frozen=True)
class _Answer:
    """A successful envelope: its `data` and `message`."""

    data: Any
    message: str | None


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


def _check_uid(uid: str, what: str) -> str:
    if not isinstance(uid, str) or not _UID.match(uid):
        raise InvalidRequestError(f"{what} must be a GoTone uid (letters and digits)")
    return uid


def _check_page(page: int) -> int:
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise InvalidRequestError("page must be an integer of at least 1")
    return page


def _contact_body(phone: str | int, first_name: str, last_name: str) -> dict[str, str]:
    """Both spellings, always present: L reads lowercase keys (and crashes on a missing name),
    M reads the upper-case tags; each ignores the other's (reference §8.1, §16)."""
    digits = normalise_phone(phone)
    first, last = first_name or "", last_name or ""
    return {"phone": digits, "PHONE": digits, "first_name": first, "FIRST_NAME": first,
            "last_name": last, "LAST_NAME": last}  # fmt: skip


def _check_send(
    count: int, message: str, sms_type: str, schedule: str | None, voice: tuple[Any, Any],
    media_url: str | None, check_voice: bool,
) -> None:  # fmt: skip
    """Refuse, before any request, what the gateway would refuse or silently mishandle."""
    if not isinstance(message, str) or not message.strip():
        raise InvalidRequestError("message is required (every type, mms included)")
    if sms_type not in SMS_TYPES:
        raise InvalidRequestError(f"type must be one of {', '.join(SMS_TYPES)}")
    if schedule is not None and count == 1:
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


class GoToneClient:
    """A client for one GoTone account (API token) on one gateway.

    `base_url` is the API root (`https://app.gotonesms.net/api/v3`) or the bare host; the family
    prefix is added (`family` defaults to the one named in base_url, else "v3"). `timeout` is
    the total deadline of one call in seconds, body included. After each call that carried them,
    `rate_limit_limit` and `rate_limit_remaining` hold the gateway's X-RateLimit-* values.
    Thread safe as far as the requests session is; pass `session` to share a connection pool.
    """

    MAX_RECIPIENTS = MAX_RECIPIENTS

    def __init__(
        self,
        base_url: str,
        api_token: str,
        *,
        timeout: float = 10.0,
        family: Family | None = None,
        connect_timeout: float | None = None,
        session: requests.Session | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        if not isinstance(api_token, str) or not api_token.strip():
            raise InvalidRequestError("api_token is required")
        if timeout <= 0:
            raise InvalidRequestError("timeout must be positive")
        self.api_url, self.family = _api_root(base_url, family)
        if self.family == "http":
            _redact_urllib3_logs()
        self._token = api_token.strip()
        self.timeout = float(timeout)
        self.connect_timeout = float(connect_timeout or min(3.05, self.timeout / 2))
        self.max_body_bytes = max_body_bytes
        self._own_session = session is None
        self._session = session or requests.Session()
        self.rate_limit_limit: int | None = None
        self.rate_limit_remaining: int | None = None

    def __repr__(self) -> str:
        return f"GoToneClient({self.api_url!r}, token=***{self._token[-4:]})"

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> GoToneClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- contact groups (reference §7) ---------------------------------------------------
    def list_groups(self, page: int = 1) -> Page[Group]:
        """Return one page (25) of the account's contact groups. Raises GoToneError."""
        query = {"page": _check_page(page)}
        answer = self._request("GET", "contacts", query=query, action="list groups")
        return Page.from_api(answer.data, Group.from_api)

    def create_group(self, name: str) -> Group:
        """Create a contact group. Raises ValidationError (e.g. duplicate name), GoToneError."""
        body = {"name": _check_name(name)}
        answer = self._request("POST", "contacts", body=body, kind=WRITE, action="create group")
        return Group.from_api(answer.data)

    def get_group(self, group_uid: str) -> Group:
        """Return one contact group. Raises NotFoundError, GoToneError."""
        path = f"contacts/{_check_uid(group_uid, 'group_uid')}/show"
        return Group.from_api(self._request("POST", path, action="show group").data)

    def rename_group(self, group_uid: str, name: str) -> Group:
        """Rename a contact group. Raises NotFoundError, ValidationError, GoToneError."""
        path = f"contacts/{_check_uid(group_uid, 'group_uid')}"
        body = {"name": _check_name(name)}
        answer = self._request("PATCH", path, body=body, kind=WRITE, action="rename group")
        return Group.from_api(answer.data)

    def delete_group(self, group_uid: str) -> None:
        """Delete a contact group and its contacts. Raises NotFoundError, GoToneError."""
        path = f"contacts/{_check_uid(group_uid, 'group_uid')}"
        try:
            self._request("DELETE", path, kind=WRITE, action="delete group")
        except ApiError as exc:
            # The http family deletes, then fails reading the session user (§7.5): confirm.
            if self.family != "http" or exc.gateway_message != _HTTP_GROUP_DELETE_BUG:
                raise
            if not self._group_gone(group_uid):
                raise

    def _group_gone(self, group_uid: str) -> bool:
        try:
            self.get_group(group_uid)
        except NotFoundError:
            return True
        return False

    # -- contacts (reference §8) ---------------------------------------------------------
    def list_contacts(self, group_uid: str, page: int = 1) -> Page[Contact]:
        """Return one page (25) of a group's contacts. Raises NotFoundError, GoToneError."""
        path = f"contacts/{_check_uid(group_uid, 'group_uid')}/all"
        body = {"page": _check_page(page)}
        answer = self._request("POST", path, body=body, action="list contacts")
        return Page.from_api(answer.data, Contact.from_api)

    def create_contact(
        self, group_uid: str, phone: str | int, first_name: str = "", last_name: str = ""
    ) -> Contact:
        """Add a contact to a group. Raises ValidationError (e.g. duplicate), GoToneError."""
        path = f"contacts/{_check_uid(group_uid, 'group_uid')}/store"
        body = _contact_body(phone, first_name, last_name)
        answer = self._request("POST", path, body=body, kind=WRITE, action="create contact")
        return Contact.from_api(answer.data)

    def get_contact(self, group_uid: str, contact_uid: str) -> Contact:
        """Return one contact of a group. Raises NotFoundError, GoToneError."""
        path = self._contact_path(group_uid, "search", contact_uid)
        answer = self._request("POST", path, action="show contact")
        if answer.data is None:
            # L answers success with null data for a contact of another group (§8.2).
            raise NotFoundError("GoTone show contact: the contact is not in this group")
        return Contact.from_api(answer.data)

    def update_contact(
        self, group_uid: str, contact_uid: str, phone: str | int, first_name: str = "",
        last_name: str = "",
    ) -> Contact:  # fmt: skip
        """Replace a contact's phone and names. Raises NotFoundError, ValidationError."""
        path = self._contact_path(group_uid, "update", contact_uid)
        body = _contact_body(phone, first_name, last_name)
        answer = self._request("PATCH", path, body=body, kind=WRITE, action="update contact")
        return Contact.from_api(answer.data)

    def delete_contact(self, group_uid: str, contact_uid: str) -> None:
        """Delete a contact from a group. Raises NotFoundError, GoToneError."""
        path = self._contact_path(group_uid, "delete", contact_uid)
        self._request("DELETE", path, kind=WRITE, action="delete contact")

    @staticmethod
    def _contact_path(group_uid: str, verb: str, contact_uid: str) -> str:
        group = _check_uid(group_uid, "group_uid")
        return f"contacts/{group}/{verb}/{_check_uid(contact_uid, 'contact_uid')}"

    # -- messages (reference §9) ---------------------------------------------------------
    def send_sms(
        self,
        recipients: str | int | Iterable[str | int],
        message: str,
        *,
        sender_id: str | None = None,
        type: str = "plain",
        schedule_time: datetime | str | None = None,
        dlt_template_id: str | None = None,
        language: str | None = None,
        gender: str | None = None,
        media_url: str | None = None,
        check_voice: bool = True,
    ) -> SendResult:
        """Send or schedule a message to every number. Raises InvalidRequestError, GoToneError."""
        # Never retried: an outbox decides. Non-GSM text makes the gateway switch the type to
        # unicode by itself (§13). check_voice=False lets a language outside Appendix A through.
        numbers = normalise_recipients(recipients)
        schedule = format_schedule_time(schedule_time)
        voice = (language, gender)
        _check_send(len(numbers), message, type, schedule, voice, media_url, check_voice)
        fields = {"message": message, "type": type, "sender_id": sender_id,
                  "schedule_time": schedule, "dlt_template_id": dlt_template_id,
                  "language": language, "gender": gender, "media_url": media_url}  # fmt: skip
        base = {key: value for key, value in fields.items() if value is not None}
        return self._send_chunks(split_evenly(numbers, MAX_RECIPIENTS), base, schedule is not None)

    def _send_chunks(
        self, chunks: list[list[str]], base: dict[str, Any], scheduled: bool
    ) -> SendResult:
        """Send chunk by chunk; on a failure, attach what is known so an outbox can settle it."""
        result: SendResult | None = None
        for index, chunk in enumerate(chunks):
            try:
                part = self._send_one(chunk, base, scheduled)
            except GoToneError as exc:
                exc.partial_result = result
                exc.chunk_recipients = tuple(chunk)
                exc.unsent_recipients = tuple(n for later in chunks[index + 1 :] for n in later)
                raise
            result = part if result is None else result.merge(part)
        if result is None:  # pragma: no cover - normalise_recipients never returns []
            raise InvalidRequestError("at least one recipient is required")
        return result

    def _send_one(self, chunk: list[str], base: dict[str, Any], scheduled: bool) -> SendResult:
        body = {"recipient": ",".join(chunk), **base}
        answer = self._request("POST", "sms/send", body=body, kind=SEND, action="send")
        rows = answer.data if isinstance(answer.data, list) else [answer.data]
        try:
            messages = tuple(Message.from_api(row) for row in rows if row is not None)
        except ProtocolError as exc:
            exc.may_have_been_processed = True
            raise
        text = answer.message or ""
        errors = () if not text or text in SUCCESS_TEXTS else _split_errors(self._scrub(text))
        return SendResult(messages, errors, scheduled, tuple(chunk))

    def get_sms(self, uid: str) -> Message:
        """Return one message report. Raises NotFoundError, GoToneError."""
        path = f"sms/{_check_uid(uid, 'uid')}"
        return Message.from_api(self._request("GET", path, action="show message").data)

    def list_sms(self, page: int = 1, **filters: str) -> Page[Message]:
        """Return one page (25) of message reports, newest first. Raises GoToneError."""
        # filters: M's timezone, start_date/end_date (Y-m-d H:i:s), sms_type, direction (§9.3);
        # L ignores them.
        query: dict[str, Any] = {"page": _check_page(page), **filters}
        answer = self._request("GET", "sms", query=query, action="list messages")
        return Page.from_api(answer.data, Message.from_api)

    # -- account (reference §10) ---------------------------------------------------------
    def get_balance(self) -> Balance:
        """Return the account's remaining balance. Raises GoToneError."""
        return Balance.from_api(self._request("GET", "balance", action="balance").data)

    def get_profile(self) -> Profile:
        """Return the account's profile (without its token). Raises GoToneError."""
        return Profile.from_api(self._request("GET", "me", action="profile").data)

    # -- pagination ----------------------------------------------------------------------
    def iter_all(
        self, list_method: Callable[..., Page[T]], *args: Any, **kwargs: Any
    ) -> Iterator[T]:
        """Yield every item of a list method, one page per request. Raises GoToneError."""
        # e.g. `for contact in client.iter_all(client.list_contacts, group_uid): ...`
        page: int | None = 1
        while page is not None:
            current = list_method(*args, page=page, **kwargs)
            yield from current.items
            page = current.next_page

    # -- the one request function --------------------------------------------------------
    def _request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        kind: Kind = READ,
        action: str = "call",
    ) -> _Answer:
        """Make one API call (plus at most one safe retry) and return the success envelope."""
        url = f"{self.api_url}/{quote(path, safe='/')}"
        body, query = self._with_credentials(method, body, query)
        headers = {"Accept": "application/json", "Content-Type": "application/json",
                   "Authorization": f"Bearer {self._token}",
                   "User-Agent": "GoTonePortal-client/1"}  # fmt: skip
        started = time.monotonic()
        deadline = started + self.timeout
        raw = self._exchange(method, url, headers, body, query, kind, action, deadline)
        self._note_rate_limit(raw.headers)
        try:
            answer = self._interpret(raw, kind, action)
        except GoToneError as exc:
            self._log(method, url, raw.status, type(exc).__name__, started)
            raise
        self._log(method, url, raw.status, "success", started)
        return answer

    def _with_credentials(
        self, method: str, body: dict[str, Any] | None, query: dict[str, Any] | None
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The http family reads `api_token` as a parameter (reference §1.4, §1.6)."""
        if method != "GET" and (body is not None or self.family == "http"):
            body = dict(body or {})
        if self.family != "http":
            return body, query
        if method == "GET":
            return body, {**(query or {}), "api_token": self._token}
        return {**(body or {}), "api_token": self._token}, query

    def _exchange(
        self, method: str, url: str, headers: dict[str, str], body: Any, query: Any,
        kind: Kind, action: str, deadline: float,
    ) -> transport.RawResponse:  # fmt: skip
        started = time.monotonic()
        for attempt in (1, 2):
            try:
                return transport.exchange(
                    self._session, method, url, headers=headers, json_body=body, params=query,
                    connect_timeout=self.connect_timeout, deadline=deadline,
                    max_body=self.max_body_bytes,
                )  # fmt: skip
            except transport.TransportFailure as caught:
                failure = caught
            self._log(method, url, None, failure.stage, started)
            if attempt == 2 or not _may_retry(kind, failure.stage):
                break
        # Raised outside the except block, so nothing chains back to requests' exception.
        raise self._failure_error(failure, kind, action)

    def _failure_error(
        self, failure: transport.TransportFailure, kind: Kind, action: str
    ) -> GoToneError:
        stage = failure.stage
        prefix = f"GoTone {action}:"
        if stage == transport.NOT_SENT:
            text = f"{prefix} could not connect to the gateway ({failure.detail})"
            cls = RequestTimeoutError if "Timeout" in failure.detail else UnavailableError
            return cls(text, definitely_not_received=True)
        if stage == transport.TOO_LARGE:
            return ProtocolError(f"{prefix} the answer exceeded {self.max_body_bytes} bytes")
        if stage in (transport.READ_TIMEOUT, transport.DEADLINE):
            text = f"{prefix} no complete answer within {self.timeout:g} s"
            return RequestTimeoutError(text, may_have_been_processed=True)
        what = "the connection dropped before any answer"
        if stage == transport.BROKEN_BODY:
            what = "the connection dropped in the middle of the answer"
        return UnavailableError(f"{prefix} {what} ({failure.detail})", may_have_been_processed=True)

    def _interpret(self, raw: transport.RawResponse, kind: Kind, action: str) -> _Answer:
        """Judge the answer by the envelope's status (reference §3.1)."""
        if 300 <= raw.status < 400:
            # Never followed: a redirected POST turns into a GET, and §1.2 says none is expected.
            raise ProtocolError(f"GoTone {action}: redirected (HTTP {raw.status}); check base_url",
                                http_status=raw.status)  # fmt: skip
        envelope = _envelope(raw.body)
        if envelope is None:
            raise self._non_envelope_error(raw, action)
        status, message = envelope["status"], envelope.get("message")
        message = message if isinstance(message, str) else None
        if status == "success" and 200 <= raw.status < 300:
            if "data" not in envelope:
                raise ProtocolError(f"GoTone {action}: a success answer without data",
                                    http_status=raw.status)  # fmt: skip
            return _Answer(envelope["data"], message)
        raise self._api_error(raw.status, message or "", kind, action)

    def _non_envelope_error(self, raw: transport.RawResponse, action: str) -> GoToneError:
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

    def _api_error(self, http_status: int, message: str, kind: Kind, action: str) -> GoToneError:
        """Map an error envelope to the hierarchy (reference §3.4)."""
        cls = _error_class(http_status, message, kind)
        gateway = self._scrub(message)[:_GATEWAY_TEXT_LIMIT]
        shown = mask_numbers(gateway) or f"HTTP {http_status} without a message"
        text = f"GoTone {action}: {shown}"
        if cls is RateLimitedError:
            self.rate_limit_remaining = 0
            return RateLimitedError(text, http_status=http_status, gateway_message=gateway,
                                    retry_after=RATE_LIMIT_WINDOW)  # fmt: skip
        unknown = cls is UnavailableError and http_status >= 500
        return cls(text, http_status=http_status, gateway_message=gateway,
                   may_have_been_processed=unknown)  # fmt: skip

    def _scrub(self, text: str) -> str:
        """Remove the token (raw, URL-encoded, or its secret part) from gateway text."""
        secrets = {self._token, quote(self._token, safe="")}
        secret = self._token.partition("|")[2]
        if len(secret) >= 8:
            secrets.add(secret)
        for value in sorted(secrets, key=len, reverse=True):
            text = text.replace(value, "[token]")
        return text

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        limit, remaining = headers.get("X-RateLimit-Limit"), headers.get("X-RateLimit-Remaining")
        if limit is not None and limit.strip().isdigit():
            self.rate_limit_limit = int(limit)
        if remaining is not None and remaining.strip().lstrip("-").isdigit():
            self.rate_limit_remaining = max(int(remaining), 0)

    def _log(self, method: str, url: str, status: int | None, outcome: str, start: float) -> None:
        # Method, path (uids only: the query, which may hold the token, is cut), status and
        # duration. Never the token, the message text or phone numbers.
        elapsed_ms = (time.monotonic() - start) * 1000
        level = logging.INFO if outcome == "success" else logging.WARNING
        log.log(level, "GoTone %s %s -> %s %s in %.0f ms", method, urlsplit(url).path,
                status or "-", outcome, elapsed_ms)  # fmt: skip


def _api_root(base_url: str, family: Family | None) -> tuple[str, Family]:
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


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequestError("a group name is required")
    return name.strip()


def _may_retry(kind: Kind, stage: str) -> bool:
    """A send is never retried. A write only when it never left. A read also when the
    connection dropped before any answer: a read changes nothing, so nothing can double."""
    if kind == SEND:
        return False
    if stage == transport.NOT_SENT:
        return True
    return kind == READ and stage == transport.NO_RESPONSE


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


def _split_errors(text: str) -> tuple[str, ...]:
    """The bulk path joins its per-number errors with single spaces (§9.1.4); split them again
    where a known per-number message starts. Unknown wording stays in one piece."""
    return tuple(part.strip() for part in _ERROR_START.split(text) if part.strip())


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
