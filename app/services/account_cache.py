"""A short-lived, per-process cache of each workspace's balance and profile.

Page views read the gateway's account data through here, so a dashboard refresh does not
cost two gateway calls each time. Entries are keyed by workspace id and a fingerprint of the
stored (encrypted) token, base URL and API family: a new token misses the cache by itself,
and `invalidate` drops a workspace's entries explicitly (token change, after a send).
Errors are never cached. Each app instance (and each gunicorn worker) has its own cache; the
outbox calls `invalidate` when the gateway accepted a send (outbox/delivery.py `_settle`), in
the process that sent it. (An ORM attribute listener cannot do this: the outbox moves its
rows with Core UPDATEs, which no listener sees.) A job consumer's sends reach another
process's cache within its time to live.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import current_app

from ..models import GoToneSettings

T = TypeVar("T")
DEFAULT_TTL = 60.0
_EXTENSION = "gotone_account_cache"


class AccountCache:
    """A dict of (workspace id, kind, fingerprint) -> (expires at, value), behind a lock."""

    def __init__(self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[tuple[int, str, str], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_or_load(
        self, workspace_id: int, kind: str, fingerprint: str, load: Callable[[], T]
    ) -> T:
        """Return the cached value, or call `load` (outside the lock) and keep its result."""
        key = (workspace_id, kind, fingerprint)
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                return entry[1]
        value = load()  # an exception propagates and nothing is stored
        with self._lock:
            self._entries[key] = (self.clock() + self.ttl, value)
        return value

    def invalidate(self, workspace_id: int) -> None:
        """Forget every entry of one workspace."""
        with self._lock:
            for key in [k for k in self._entries if k[0] == workspace_id]:
                del self._entries[key]


def cache() -> AccountCache:
    """Return the current app's cache (created on first use with ACCOUNT_CACHE_TTL seconds)."""
    extensions = current_app.extensions
    if _EXTENSION not in extensions:
        ttl = float(current_app.config.get("ACCOUNT_CACHE_TTL", DEFAULT_TTL))
        extensions[_EXTENSION] = AccountCache(ttl)
    return extensions[_EXTENSION]


def fingerprint(settings: GoToneSettings) -> str:
    """A short digest of what decides the gateway's answer: token (sealed), URL, family."""
    material = "\0".join((settings.token_enc or "", settings.base_url, settings.family))
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def invalidate(workspace_id: int) -> None:
    """Drop a workspace's cached balance and profile (call after a token change or a send)."""
    cache().invalidate(workspace_id)
