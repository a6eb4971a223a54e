"""Health checks: the database, Redis, the encryption keys against the stored tokens, and a
workspace's gateway; and the portal's own words for a failed gateway check.

Three readers with different rights:
- the public /healthz: the process and the database, plus one word ("degraded") when Redis
  is down or the stored tokens do not decrypt. It never calls a gateway: the URLs are chosen
  by tenants, and an anonymous caller must not make the portal fetch them.
- the workspace admin page: this workspace's token and gateway, the server's Redis and keys.
- `flask health`: everything, with counts over all workspaces.
None of them ever shows a token or the body of whatever answered at a gateway URL.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import text

from ..crypto import CryptoError
from ..exceptions import ServiceUnavailableError
from ..extensions import db
from ..gotone.errors import (
    AuthError,
    CircuitOpenError,
    GoToneError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitedError,
    RequestTimeoutError,
    UnavailableError,
)
from ..models import GoToneSettings, Workspace
from . import gotone, keys

REDIS_TIMEOUT = 1.0  # seconds to connect and to answer PING
PUBLIC_SAMPLE = 20  # stored tokens /healthz tries (the newest): cheap, AES-GCM is microseconds
_CACHE_SECONDS = 10.0  # /healthz is anonymous: Redis and the keys are checked at most this often
_EXTENSION = "portal_health_cache"


def database() -> bool:
    """Tell whether the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure is the answer here
        db.session.rollback()
        return False


def redis_reachable() -> bool | None:
    """Tell whether Redis answers PING; None when PORTAL_REDIS_URL is not set."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    import redis  # only needed (and installed for Huey) when Redis is configured

    client = redis.Redis.from_url(
        url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


@dataclass(frozen=True)
class TokenCheck:
    """How many stored tokens were tried, and how many of them decrypt. Never a token."""

    checked: int
    decrypted: int

    @property
    def failed(self) -> int:
        return self.checked - self.decrypted

    @property
    def ok(self) -> bool:
        return self.failed == 0


def stored_tokens(workspace_id: int | None = None, limit: int | None = None) -> TokenCheck:
    """Decrypt the stored tokens (one workspace's, or all, newest first, at most `limit`).

    A well-formed but wrong PORTAL_ENCRYPTION_KEYS (another key id, or the right id with
    other bytes) passes every start-up check: only decrypting what is stored shows it.
    """
    query = db.select(GoToneSettings.workspace_id, GoToneSettings.token_enc).where(
        GoToneSettings.token_enc.is_not(None)
    )
    if workspace_id is not None:
        query = query.where(GoToneSettings.workspace_id == workspace_id)
    query = query.order_by(GoToneSettings.workspace_id.desc()).limit(limit)
    rows = db.session.execute(query).all()
    ring = current_app.extensions.get("portal_keyring")
    decrypted = 0
    for scope, stored in rows:
        try:
            if ring is not None:
                ring.decrypt(stored, scope)
                decrypted += 1
        except CryptoError:
            pass
    return TokenCheck(len(rows), decrypted)


def _cached(name: str, load):
    """The app's last answer of `load` if younger than _CACHE_SECONDS (a dict per app: a race
    only costs one more check)."""
    cache = current_app.extensions.setdefault(_EXTENSION, {})
    now = time.monotonic()
    found = cache.get(name)
    if found is not None and now - found[0] < _CACHE_SECONDS:
        return found[1]
    value = load()
    cache[name] = (now, value)
    return value


def public_status() -> tuple[str, int]:
    """The public /healthz answer: ("ok" | "degraded" | "down", HTTP status).

    "degraded" says only that something needs the administrator (keys, Redis), not what:
    the reason is on the admin page and in `flask health`.
    """
    if not database():
        return "down", 503
    keys_ok = _cached(
        "keys", lambda: keys.keyring_problem() is None and stored_tokens(limit=PUBLIC_SAMPLE).ok
    )
    redis_ok = _cached("redis", redis_reachable) is not False
    return ("ok" if keys_ok and redis_ok else "degraded"), 200


@dataclass(frozen=True)
class GatewayCheck:
    """A workspace's gateway check: ok, or the portal's own words for what failed."""

    ok: bool | None  # None: not checked (no token, or the token cannot be decrypted)
    message: str


def gateway(workspace: Workspace) -> GatewayCheck:
    """Call the workspace's gateway as "Test connection" does (its token, its client's size
    cap and deadline). Never raises for a gateway failure."""
    if not gotone.get_settings(workspace).token_enc:
        return GatewayCheck(None, _("Not checked: no API token is set."))
    try:
        gotone.test_connection(workspace)
    except ServiceUnavailableError as exc:
        return GatewayCheck(None, exc.message)
    except GoToneError as exc:
        return GatewayCheck(False, failure_message(exc))
    return GatewayCheck(True, _("The gateway accepted the token and answered."))


def failure_message(exc: GoToneError) -> str:
    """The portal's own words for a failed gateway call, by the kind of failure.

    Never the gateway's text: at a URL an admin chose, whatever answers could be any
    server (the admin's own listener, an internal service), and echoing its body would make
    "Test connection" a way to read it.
    """
    status = f" (HTTP {exc.http_status})" if exc.http_status else ""
    if isinstance(exc, AuthError) or exc.http_status == 401:  # whatever the body said
        return _(
            "GoTone refused the API token%(status)s. Check the token and set it again.",
            status=status,
        )
    if isinstance(exc, PermissionDeniedError):
        return _("GoTone does not allow this token to read the account%(status)s.", status=status)
    if isinstance(exc, CircuitOpenError):
        return _(
            "GoTone is not answering: the portal holds calls back for a short while. "
            "Try again in a minute."
        )
    if isinstance(exc, RateLimitedError):
        return _("GoTone is not taking more calls right now (rate limit). Try again in a minute.")
    if isinstance(exc, RequestTimeoutError):
        return _("The gateway could not be reached in time: it did not answer within the deadline.")
    if isinstance(exc, UnavailableError):
        return _("The gateway could not be reached, or it failed%(status)s.", status=status)
    if isinstance(exc, NotFoundError):
        return _(
            "GoTone is not at this URL%(status)s. Check the base URL and the API family.",
            status=status,
        )
    if isinstance(exc, ProtocolError):
        return _(
            "Something answered at this URL, but the gateway sent no GoTone API answer"
            "%(status)s. Check the base URL and the API family.",
            status=status,
        )
    return _("GoTone refused the request%(status)s.", status=status)
