"""The portal's own errors, in one place: services raise them, views and app/errors.py catch
them. Every message is written to be safe to show to the member who asked.

No Flask and no database here, so any layer can import this module. The gateway client keeps
its own hierarchy (app/gotone/errors.py, GoToneError), and app/crypto.py its CryptoError:
both are libraries the portal uses, not the portal's rules.

Errors that were a ValueError before they moved here still are (PortalError first in the
bases): WTForms treats a ValueError raised by a field check as that field's error, and
callers may catch ValueError.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models.outbox import SendRequest


class PortalError(Exception):
    """Something the portal refuses or cannot do now; the message is safe to show."""


# -- rules of a workspace or an account --------------------------------------------------------
class RuleError(PortalError, ValueError):
    """A request that breaks a workspace rule (e.g. the last owner leaving); safe to show."""


class EmailTakenError(RuleError):
    """Another account uses this e-mail address."""


class ReauthError(RuleError):
    """The password was missing or wrong: nothing was changed (safe to show).

    `signed_out` is True when this was the last wrong password the session was allowed.
    """

    def __init__(self, message: str, *, signed_out: bool = False):
        super().__init__(message)
        self.signed_out = signed_out


# -- input that cannot be used -----------------------------------------------------------------
class PhoneError(PortalError, ValueError):
    """A number that cannot be sent to; the message says why and is safe to show."""


class FileProblem(PortalError, ValueError):
    """A file that cannot be imported; the message says why and is safe to show."""


class TemplateError(PortalError, ValueError):
    """A message template that cannot be saved (message safe to show)."""


# -- jobs, sends and schedules ------------------------------------------------------------------
class JobStateError(PortalError, ValueError):
    """The job is not in a state that allows this (the message is safe to show)."""


class ScheduleError(PortalError, ValueError):
    """The schedule cannot be changed (message safe to show)."""


class OutboxError(PortalError):
    """A send that cannot be accepted as asked (the message is safe to show)."""


class KeyReusedError(OutboxError):
    """Same idempotency key, different payload (HTTP 422)."""


class InFlightError(OutboxError):
    """Same key and payload, and the first submit is still sending (HTTP 409)."""

    def __init__(self, message: str, request: SendRequest) -> None:
        super().__init__(message)
        self.request = request


# -- the portal cannot do it right now ---------------------------------------------------------
class ServiceUnavailableError(PortalError):
    """The portal cannot do this right now for a reason it can explain (503)."""

    status = 503

    def __init__(self, message: str, *, settings_link: bool = False):
        super().__init__(message)
        self.message = message
        self.settings_link = settings_link
