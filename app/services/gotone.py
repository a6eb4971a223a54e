"""GoTone settings per workspace, the write-only token, and `client_for`: the one seam
through which every later feature reaches the gateway."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from ..exceptions import ServiceUnavailableError
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


GATEWAY_FIELDS = ("base_url", "family")  # where the token is sent, and how


@dataclass(frozen=True)
class SettingsChange:
    """What update_settings did: the settings that changed, and what became of the token."""

    changed: list[str]
    token_cleared: bool = False
    token_stored: bool = False


def moves_gateway(workspace: Workspace, values: dict[str, str]) -> bool:
    """Tell whether `values` point the workspace at another gateway URL or API family."""
    settings = get_settings(workspace)
    return any(getattr(settings, name) != values[name] for name in GATEWAY_FIELDS)


def update_settings(
    workspace: Workspace, actor: User, values: dict[str, str], new_token: str | None = None
) -> SettingsChange:
    """Save the non-secret settings (commits).

    A new base URL or API family clears the stored token unless `new_token` is given, which is
    stored instead: the old token must never be sent to a URL someone else chose (an admin
    could otherwise point the URL at a listener and read it). The caller has asked for the
    member's password first (services.reauth). Raises ServiceUnavailableError before any
    change when `new_token` cannot be encrypted.
    """
    token = (new_token or "").strip()
    sealed = keys.encrypt(token, workspace.id) if new_token else None
    settings = get_settings(workspace)
    if sealed is not None or any(getattr(settings, n) != values[n] for n in GATEWAY_FIELDS):
        # Read again under a row lock (PostgreSQL): a token stored by another request since
        # this one read the row is cleared with the move too, never left for the new URL.
        db.session.refresh(settings, with_for_update=True)
    changed = [name for name in EDITABLE if getattr(settings, name) != values[name]]
    old = {name: getattr(settings, name) for name in GATEWAY_FIELDS}
    for name in changed:
        setattr(settings, name, values[name])
    if changed:
        details: dict = {"fields": changed}
        for name in GATEWAY_FIELDS:
            if name in changed:
                details[f"old_{name}"], details[f"new_{name}"] = old[name], values[name]
        audit.record(actor, workspace, "settings.changed", "gotone", **details)
    cleared = False
    if sealed is not None:
        _store_token(workspace, actor, settings, token, sealed)
    elif settings.token_enc and any(name in changed for name in GATEWAY_FIELDS):
        _forget_token(settings)
        audit.record(actor, workspace, "token.cleared", "gotone", reason="gateway changed")
        cleared = True
    db.session.commit()
    if changed or sealed is not None:
        _drop_cached(workspace.id)  # a new URL or family may answer differently
    return SettingsChange(changed, token_cleared=cleared, token_stored=sealed is not None)


def _drop_cached(workspace_id: int) -> None:
    """Forget what this process keeps for the workspace's gateway: account data, the
    decrypted token and the pooled sessions."""
    account_cache.invalidate(workspace_id)
    connections().forget(workspace_id)


def _store_token(
    workspace: Workspace, actor: User, settings: GoToneSettings, token: str, sealed: str
) -> None:
    action = "token.replaced" if settings.token_enc else "token.set"
    settings.token_enc = sealed
    settings.token_last4 = token[-4:]
    settings.token_set_at = utcnow()
    settings.token_set_by_id = actor.id
    audit.record(actor, workspace, action, "gotone", last4=settings.token_last4)


def _forget_token(settings: GoToneSettings) -> None:
    settings.token_enc = settings.token_last4 = settings.token_set_at = None
    settings.token_set_by_id = None


def has_token(workspace: Workspace) -> bool:
    """Tell whether a token is stored (replacing one asks for the password again)."""
    return bool(get_settings(workspace).token_enc)


def set_token(workspace: Workspace, actor: User, token: str) -> None:
    """Encrypt and store a new API token (commits). Raises ServiceUnavailableError."""
    token = token.strip()
    sealed = keys.encrypt(token, workspace.id)  # before any change: no key, no write
    _store_token(workspace, actor, get_settings(workspace), token, sealed)
    db.session.commit()
    _drop_cached(workspace.id)


def clear_token(workspace: Workspace, actor: User) -> None:
    """Forget the API token (commits)."""
    settings = get_settings(workspace)
    if settings.token_enc is None:
        return
    _forget_token(settings)
    audit.record(actor, workspace, "token.cleared", "gotone")
    db.session.commit()
    _drop_cached(workspace.id)


def client_for(workspace: Workspace) -> GoToneClient:
    """Return a client for this workspace's gateway with its decrypted token.

    Raises ServiceUnavailableError (503) when no token is set or it cannot be decrypted.
    Its calls raise CircuitOpenError at once while the gateway is known to be down.
    """
    keys.keyring()  # a server without keys says so first: no token could be set anyway
    settings = get_settings(workspace)
    if not settings.token_enc:
        raise ServiceUnavailableError(
            _(
                "No GoTone API token is set for this workspace. An admin can set it in the "
                "workspace settings."
            ),
            settings_link=True,
        )
    # The stored URL passes today's policy before the token is even decrypted: it may have
    # been saved before the policy (or the server's allow-list) changed.
    url_policy = gateway_urls.policy()
    try:
        url_policy.check(settings.base_url)
    except gateway_urls.UrlRefusedError as refused:
        raise ServiceUnavailableError(
            _(
                "This workspace's gateway URL cannot be used: %(reason)s An admin can change it "
                "in the workspace settings.",
                reason=gateway_urls.refusal_message(refused),
            ),
            settings_link=True,
        ) from None
    pool = connections()
    sealed = settings.token_enc
    token = pool.token(workspace.id, sealed, lambda: keys.decrypt(sealed, workspace.id))
    # Every call passes the workspace's circuit breaker: a dead gateway fails fast. The
    # policy also checks the address each of its connections reaches.
    return GuardedClient(
        settings.base_url,
        token,
        timeout=current_app.config["GOTONE_TIMEOUT"],
        family=settings.family,
        session=pool.session(workspace.id, settings.base_url),
        breaker=breaker_for(workspace.id, settings.base_url),
        url_policy=url_policy,
    )


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
