"""The GoTone client's exception hierarchy (reference §3.4).

Every exception's text is safe to show to a user: it never holds the API token, and phone
numbers in it are masked. The gateway's own wording is kept (token scrubbed, numbers intact)
in `gateway_message` for callers that need the detail, e.g. to explain a rejected number.

What a send error means for an outbox:
- `definitely_not_received` True: the request never reached the gateway (connection refused,
  DNS failure, connect timeout). Safe to send again.
- `may_have_been_processed` True (alias `outcome_unknown`): the request may have reached the
  gateway and been acted on, but no usable answer came back (read timeout, reset after
  sending, 5xx, malformed body). Do not resend without a human decision.
- both False: the gateway answered with a definite refusal. Nothing was sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .types import SendResult


class GoToneError(Exception):
    """Base class of every error the GoTone client raises."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        gateway_message: str | None = None,
        may_have_been_processed: bool = False,
        definitely_not_received: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.gateway_message = gateway_message
        self.may_have_been_processed = may_have_been_processed
        self.definitely_not_received = definitely_not_received
        # Set on a send split into several calls that failed after the first call:
        # the result of the calls that completed, the recipients of the failing call,
        # and the recipients of the calls never made.
        self.partial_result: SendResult | None = None
        self.chunk_recipients: tuple[str, ...] = ()
        self.unsent_recipients: tuple[str, ...] = ()

    @property
    def outcome_unknown(self) -> bool:
        """Same as `may_have_been_processed`."""
        return self.may_have_been_processed

    def __str__(self) -> str:
        return self.message


class AuthError(GoToneError):
    """The gateway refused the API token (`Unauthenticated.`, unknown credentials)."""


class PermissionDeniedError(GoToneError):
    """The token or the account lacks a permission or ability for this operation."""


class NotFoundError(GoToneError):
    """The group, contact or message does not exist (or is not visible to this account)."""


class ValidationError(GoToneError):
    """The gateway rejected the input; `gateway_message` has its wording."""


class InvalidRequestError(ValidationError, ValueError):
    """The client refused the input before any HTTP request was made."""


class SendRejectedError(GoToneError):
    """The gateway refused to send; `reason` is its wording (balance, coverage, gateway...)."""

    @property
    def reason(self) -> str:
        return self.gateway_message or ""


class RateLimitedError(GoToneError):
    """`Too Many Attempts.`: wait `retry_after` seconds (at most 60) before calling again."""

    def __init__(self, message: str, *, retry_after: float = 60.0, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class CircuitOpenError(RateLimitedError):
    """The portal itself holds calls back: this gateway stopped answering (a circuit breaker
    is open), so no request was made. Like a rate limit, wait `retry_after` seconds; callers
    that back off on RateLimitedError (jobs, the outbox) need nothing else. Nothing was sent.
    """

    def __init__(self, message: str, *, retry_after: float = 30.0) -> None:
        super().__init__(message, retry_after=retry_after, definitely_not_received=True)


class ApiError(GoToneError):
    """Any other error answer from the gateway (e.g. a server-side PHP error text)."""


class UnavailableError(GoToneError):
    """The gateway could not be reached or failed (connection error, HTTP 5xx)."""


class RequestTimeoutError(UnavailableError):
    """The call did not complete within its connect timeout or total deadline."""


class ProtocolError(GoToneError):
    """The answer was not the API's JSON envelope (HTML, invalid JSON, wrong shape, too big).

    An answer came back, so the request reached something that may have acted on it:
    `may_have_been_processed` defaults to True.
    """

    def __init__(self, message: str, *, may_have_been_processed: bool = True, **kwargs: object):
        super().__init__(message, may_have_been_processed=may_have_been_processed, **kwargs)  # type: ignore[arg-type]
