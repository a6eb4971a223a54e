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

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import requests

from .answers import SEND, SUCCESS_TEXTS, WRITE, scrub, split_errors
from .errors import ApiError, GoToneError, InvalidRequestError, NotFoundError, ProtocolError
from .payloads import (
    MAX_RECIPIENTS,
    SMS_TYPES,
    VOICE_LANGUAGES,
    Family,
    api_root,
    check_name,
    check_page,
    check_send,
    check_settings,
    check_uid,
    contact_body,
    format_schedule_time,
    present,
    redact_urllib3_logs,
    to_account_time,
)
from .peer_guard import guard_session
from .phones import normalise_recipients, split_evenly
from .request_path import RequestPath
from .types import Balance, Contact, Group, Message, Page, Profile, SendResult
from .url_policy import UrlPolicy

# Public names defined in payloads.py, still importable from here where they used to live.
__all__ = [
    "MAX_RECIPIENTS",
    "SMS_TYPES",
    "VOICE_LANGUAGES",
    "GoToneClient",
    "format_schedule_time",
    "to_account_time",
]

T = TypeVar("T")

# Far above any real answer (a page of 25 reports is tens of KB), far below what would hurt a
# worker: a gateway (or whatever a URL points at) serving hundreds of MB is cut off here.
MAX_BODY_BYTES = 4 * 1024 * 1024
_HTTP_GROUP_DELETE_BUG = 'Attempt to read property "id" on null'  # reference §7.5, §17.28


class GoToneClient(RequestPath):
    """A client for one GoTone account (API token) on one gateway.

    `base_url` is the API root (`https://app.gotonesms.net/api/v3`) or the bare host; the family
    prefix is added (`family` defaults to the one named in base_url, else "v3"). `timeout` is
    the total deadline of one call in seconds, body included. After each call that carried them,
    `rate_limit_limit` and `rate_limit_remaining` hold the gateway's X-RateLimit-* values.
    Thread safe as far as the requests session is; pass `session` to share a connection pool.
    With `url_policy` the base URL must pass it (UrlRefusedError otherwise, before any call),
    and every connection is checked against it once connected (see url_policy.py).
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
        url_policy: UrlPolicy | None = None,
    ) -> None:
        self._token, self.timeout = check_settings(api_token, timeout)
        if url_policy is not None:
            base_url = url_policy.check(base_url).url  # the canonical spelling, as parsed
        self.api_url, self.family = api_root(base_url, family)
        if self.family == "http":
            redact_urllib3_logs()
        self.connect_timeout = float(connect_timeout or min(3.05, self.timeout / 2))
        self.max_body_bytes = max_body_bytes
        self._own_session = session is None
        self._session = session or requests.Session()
        if url_policy is not None and not url_policy.allow_private:
            self._peer_check = url_policy.address_allowed
            guard_session(self._session, self._peer_check)
        self.rate_limit_limit: int | None = None
        self.rate_limit_remaining: int | None = None

    def __repr__(self) -> str:
        return f"GoToneClient({self.api_url!r}, token=***{self._token[-4:]})"

    def close(self) -> None:
        """Close the session if this client created it."""
        if self._own_session:
            self._session.close()
        if self._send_session is not None:
            self._send_session.close()

    def __enter__(self) -> GoToneClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- contact groups (reference §7) ---------------------------------------------------
    def list_groups(self, page: int = 1) -> Page[Group]:
        """Return one page (25) of the account's contact groups. Raises GoToneError."""
        query = {"page": check_page(page)}
        answer = self._request("GET", "contacts", query=query, action="list groups")
        return Page.from_api(answer.data, Group.from_api)

    def create_group(self, name: str) -> Group:
        """Create a contact group. Raises ValidationError (e.g. duplicate name), GoToneError."""
        body = {"name": check_name(name)}
        answer = self._request("POST", "contacts", body=body, kind=WRITE, action="create group")
        return Group.from_api(answer.data)

    def get_group(self, group_uid: str) -> Group:
        """Return one contact group. Raises NotFoundError, GoToneError."""
        path = f"contacts/{check_uid(group_uid, 'group_uid')}/show"
        return Group.from_api(self._request("POST", path, action="show group").data)

    def rename_group(self, group_uid: str, name: str) -> Group:
        """Rename a contact group. Raises NotFoundError, ValidationError, GoToneError."""
        path = f"contacts/{check_uid(group_uid, 'group_uid')}"
        body = {"name": check_name(name)}
        answer = self._request("PATCH", path, body=body, kind=WRITE, action="rename group")
        return Group.from_api(answer.data)

    def delete_group(self, group_uid: str) -> None:
        """Delete a contact group and its contacts. Raises NotFoundError, GoToneError."""
        path = f"contacts/{check_uid(group_uid, 'group_uid')}"
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
        path = f"contacts/{check_uid(group_uid, 'group_uid')}/all"
        body = {"page": check_page(page)}
        answer = self._request("POST", path, body=body, action="list contacts")
        return Page.from_api(answer.data, Contact.from_api)

    def create_contact(
        self, group_uid: str, phone: str | int, first_name: str = "", last_name: str = ""
    ) -> Contact:
        """Add a contact to a group. Raises ValidationError (e.g. duplicate), GoToneError."""
        path = f"contacts/{check_uid(group_uid, 'group_uid')}/store"
        body = contact_body(phone, first_name, last_name)
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
        self,
        group_uid: str,
        contact_uid: str,
        phone: str | int,
        first_name: str = "",
        last_name: str = "",
    ) -> Contact:
        """Replace a contact's phone and names. Raises NotFoundError, ValidationError."""
        path = self._contact_path(group_uid, "update", contact_uid)
        body = contact_body(phone, first_name, last_name)
        answer = self._request("PATCH", path, body=body, kind=WRITE, action="update contact")
        return Contact.from_api(answer.data)

    def delete_contact(self, group_uid: str, contact_uid: str) -> None:
        """Delete a contact from a group. Raises NotFoundError, GoToneError."""
        path = self._contact_path(group_uid, "delete", contact_uid)
        self._request("DELETE", path, kind=WRITE, action="delete contact")

    @staticmethod
    def _contact_path(group_uid: str, verb: str, contact_uid: str) -> str:
        group = check_uid(group_uid, "group_uid")
        return f"contacts/{group}/{verb}/{check_uid(contact_uid, 'contact_uid')}"

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
        numbers = normalise_recipients(recipients)
        schedule = format_schedule_time(schedule_time)
        check_send(numbers, message, type, schedule, (language, gender), media_url, check_voice)
        base = present(
            message=message,
            type=type,
            sender_id=sender_id,
            schedule_time=schedule,
            dlt_template_id=dlt_template_id,
            language=language,
            gender=gender,
            media_url=media_url,
        )
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
        # Never retried (kind=SEND): an outbox decides.
        body = {"recipient": ",".join(chunk), **base}
        answer = self._request("POST", "sms/send", body=body, kind=SEND, action="send")
        rows = answer.data if isinstance(answer.data, list) else [answer.data]
        try:
            messages = tuple(Message.from_api(row) for row in rows if row is not None)
        except ProtocolError as exc:
            exc.may_have_been_processed = True
            raise
        text = answer.message or ""
        errors = () if not text or text in SUCCESS_TEXTS else split_errors(scrub(text, self._token))
        return SendResult(messages, errors, scheduled, tuple(chunk))

    def get_sms(self, uid: str) -> Message:
        """Return one message report. Raises NotFoundError, GoToneError."""
        path = f"sms/{check_uid(uid, 'uid')}"
        return Message.from_api(self._request("GET", path, action="show message").data)

    def list_sms(self, page: int = 1, **filters: str) -> Page[Message]:
        """Return one page (25) of message reports, newest first. Raises GoToneError."""
        # filters: M's timezone, start_date/end_date (Y-m-d H:i:s), sms_type, direction (§9.3);
        # L ignores them.
        query: dict[str, Any] = {"page": check_page(page), **filters}
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
