"""GoTone settings per workspace, the write-only token, and `client_for`: the one seam
through which every later feature reaches the gateway."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from ..errors import ServiceUnavailableError
from ..extensions import db
from ..gotone import GoToneClient
from ..models import GoToneSettings, User, Workspace
from ..models.types import utcnow
from . import account_cache, audit, gateway_urls, keys
from .breaker import GuardedClient, breaker_for
from .connections import connections

EDITABLE = ("base_url", "family", "timezone", "default_country", "balance_warning_below")


def get_settings(workspace: Workspace) -> GoToneSettings:
    """Return the workspace's gateway settings, creating the defaults on first use."""
    settings = db.session.get(GoToneSettings, workspace.id)
    if settings is None:
        settings = GoToneSettings(
            workspace_id=workspace.id, base_url=current_app.config["GOTONE_DEFAULT_URL"]
        )
        db.session.add(settings)
        db.session.flush()
    # The session's identity map holds objects only while something refers to them: held by
    # the workspace, later calls in this request (zone, client, cache key) find the row there
    # instead of selecting it again.
    workspace._held_gotone_settings = settings
    return settings


def update_settings(workspace: Workspace, actor: User, values: dict[str, str]) -> list[str]:
    """Save the non-secret settings; return the names that changed (commits).

    Never touches the token: editing the URL cannot overwrite or reveal it.
    """
    settings = get_settings(workspace)
    changed = [name for name in EDITABLE if getattr(settings, name) != values[name]]
    for name in changed:
        setattr(settings, name, values[name])
    if changed:
        audit.record(actor, workspace, "settings.changed", "gotone", fields=changed)
        account_cache.invalidate(workspace.id)  # a new URL or family may answer differently
    db.session.commit()
    return changed


def set_token(workspace: Workspace, actor: User, token: str) -> None:
    """Encrypt and store a new API token (commits). Raises ServiceUnavailableError."""
    token = token.strip()
    sealed = keys.encrypt(token, workspace.id)  # before any change: no key, no write
    settings = get_settings(workspace)
    action = "token.replaced" if settings.token_enc else "token.set"
    settings.token_enc = sealed
    settings.token_last4 = token[-4:]
    settings.token_set_at = utcnow()
    settings.token_set_by_id = actor.id
    audit.record(actor, workspace, action, "gotone", last4=settings.token_last4)
    db.session.commit()
    account_cache.invalidate(workspace.id)


def clear_token(workspace: Workspace, actor: User) -> None:
    """Forget the API token (commits)."""
    settings = get_settings(workspace)
    if settings.token_enc is None:
        return
    settings.token_enc = settings.token_last4 = settings.token_set_at = None
    settings.token_set_by_id = None
    audit.record(actor, workspace, "token.cleared", "gotone")
    db.session.commit()
    account_cache.invalidate(workspace.id)


def client_for(workspace: Workspace) -> GoToneClient:
    """Return a client for this workspace's gateway with its decrypted token.

    Raises ServiceUnavailableError (503) when no token is set or it cannot be decrypted.
    Its calls raise CircuitOpenError at once while the gateway is known to be down.
    """
    keys.keyring()  # a server without keys says so first: no token could be set anyway
    settings = get_settings(workspace)
    if not settings.token_enc:
        raise ServiceUnavailableError(
            _("No GoTone API token is set for this workspace. An admin can set it in the "
              "workspace settings."), settings_link=True,
        )  # fmt: skip
    # The stored URL passes today's policy before the token is even decrypted: it may have
    # been saved before the policy (or the server's allow-list) changed.
    url_policy = gateway_urls.policy()
    try:
        url_policy.check(settings.base_url)
    except gateway_urls.UrlRefusedError as refused:
        raise ServiceUnavailableError(
            _("This workspace's gateway URL cannot be used: %(reason)s An admin can change it "
              "in the workspace settings.", reason=gateway_urls.refusal_message(refused)),
            settings_link=True,
        ) from None  # fmt: skip
    pool = connections()
    sealed = settings.token_enc
    token = pool.token(workspace.id, sealed, lambda: keys.decrypt(sealed, workspace.id))
    # Every call passes the workspace's circuit breaker: a dead gateway fails fast. The
    # policy also checks the address each of its connections reaches.
    return GuardedClient(settings.base_url, token, timeout=current_app.config["GOTONE_TIMEOUT"],
                         family=settings.family,
                         session=pool.session(workspace.id, settings.base_url),
                         breaker=breaker_for(workspace.id, settings.base_url),
                         url_policy=url_policy)  # fmt: skip


@dataclass(frozen=True)
class ConnectionReport:
    account_name: str
    email: str
    timezone: str
    balance: str
    expires: str


def test_connection(workspace: Workspace) -> ConnectionReport:
    """Call profile and balance. Raises GoToneError or ServiceUnavailableError."""
    client = client_for(workspace)
    profile = client.get_profile()
    balance = client.get_balance()
    name = " ".join(p for p in (profile.first_name, profile.last_name) if p)
    return ConnectionReport(
        account_name=name,
        email=profile.email or "",
        timezone=profile.timezone or "",
        balance=str(balance.remaining_balance),
        expires=str(balance.expired_on or ""),
    )
