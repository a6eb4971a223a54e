"""The workspace dashboard: balance with its warning, plan expiry, profile, latest messages.

Balance and profile come through services.account_cache, so page views within its time to
live cost no gateway call. A gateway or configuration problem becomes the card's `error`
text (shown as an alert in that card), never an exception: the landing page always renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from flask_babel import gettext as _

from ..exceptions import ServiceUnavailableError
from ..gotone.errors import AuthError, GoToneError, PermissionDeniedError
from ..gotone.types import Balance, Profile
from ..models import Workspace
from . import account_cache, gotone

T = TypeVar("T")
LATEST = 5


@dataclass(frozen=True)
class AccountCard:
    """The balance card: the gateway's own text, a parsed amount when it has one."""

    balance: Balance | None
    threshold: Decimal | None
    error: str | None = None
    settings_link: bool = False

    @property
    def low(self) -> bool:
        """True when the balance is a number below the workspace's warning threshold."""
        if self.balance is None or self.threshold is None or self.balance.unlimited:
            return False
        return self.balance.amount is not None and self.balance.amount < self.threshold


@dataclass(frozen=True)
class ProfileCard:
    profile: Profile | None
    error: str | None = None
    settings_link: bool = False

    @property
    def name(self) -> str:
        if self.profile is None:
            return ""
        return " ".join(p for p in (self.profile.first_name, self.profile.last_name) if p)


def error_text(error: Exception) -> str:
    """The text an alert shows for a gateway or configuration failure."""
    if isinstance(error, PermissionDeniedError):
        return _("GoTone does not allow this workspace's API token to do this.")
    if isinstance(error, AuthError):
        return _("GoTone refused this workspace's API token.")
    if isinstance(error, ServiceUnavailableError):
        return error.message
    return str(error)  # the client's messages are written to be safe to show


def _cached(workspace: Workspace, kind: str, call: Callable[[Any], T]) -> T:
    settings = gotone.get_settings(workspace)
    return account_cache.cache().get_or_load(
        workspace.id,
        kind,
        account_cache.fingerprint(settings),
        lambda: call(gotone.client_for(workspace)),
    )


def account_card(workspace: Workspace) -> AccountCard:
    """Return the balance card (at most one get_balance per cache lifetime)."""
    threshold = gotone.get_settings(workspace).balance_warning_below
    try:
        balance = cached_balance(workspace)
    except (GoToneError, ServiceUnavailableError) as exc:
        return AccountCard(
            None, threshold, error_text(exc), isinstance(exc, ServiceUnavailableError)
        )
    return AccountCard(balance, threshold)


def cached_balance(workspace: Workspace) -> Balance:
    """The balance as the dashboard shows it (cached). Raises GoToneError or
    ServiceUnavailableError."""
    return _cached(workspace, "balance", lambda client: client.get_balance())


def profile_card(workspace: Workspace) -> ProfileCard:
    """Return the profile card (at most one get_profile per cache lifetime)."""
    try:
        profile = _cached(workspace, "profile", lambda client: client.get_profile())
    except (GoToneError, ServiceUnavailableError) as exc:
        return ProfileCard(None, error_text(exc), isinstance(exc, ServiceUnavailableError))
    return ProfileCard(profile)


def refresh(workspace: Workspace) -> None:
    """Forget the cached account data so the next card reads the gateway again."""
    account_cache.invalidate(workspace.id)
