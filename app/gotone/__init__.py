"""The GoTone (Ultimate SMS) API client: requests only, no Flask, no database."""

from .client import (
    MAX_RECIPIENTS,
    SMS_TYPES,
    VOICE_LANGUAGES,
    GoToneClient,
    format_schedule_time,
    to_account_time,
)
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
from .segments import SegmentInfo, count_segments
from .types import Balance, Contact, Group, Message, Page, Profile, SendResult

__all__ = [
    "MAX_RECIPIENTS",
    "SMS_TYPES",
    "VOICE_LANGUAGES",
    "ApiError",
    "AuthError",
    "Balance",
    "Contact",
    "GoToneClient",
    "GoToneError",
    "Group",
    "InvalidRequestError",
    "Message",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "Profile",
    "ProtocolError",
    "RateLimitedError",
    "RequestTimeoutError",
    "SegmentInfo",
    "SendRejectedError",
    "SendResult",
    "UnavailableError",
    "ValidationError",
    "count_segments",
    "format_schedule_time",
    "to_account_time",
]
