"""Per-process reuse for gateway calls: one pooled HTTP session per workspace gateway, and the
decrypted token kept for a short while.

Why: a new session per page meant a new TCP (and, against the real gateway, TLS) connection
for every page, and every page decrypted the token again. Both are the portal's own time on
top of the gateway's (issue 8). Sessions are per workspace and base URL, so nothing a gateway
sets (cookies are refused anyway) can cross workspaces. Sends do not ride on these kept-alive
connections: see RequestPath._session_for.

The token cache is keyed by workspace and the stored ciphertext, so a replaced, cleared or
re-encrypted (rotated) token misses it at once; entries live GOTONE_TOKEN_CACHE_SECONDS.
`forget` drops a workspace's entries and sessions when its gateway or token changes.
"""

from __future__ import annotations

import http.cookiejar
import os
import threading
import time
from collections.abc import Callable

import requests
from flask import current_app

_EXTENSION = "gotone_connections"
POOL_SIZE = 16  # connections kept per workspace gateway: above gunicorn's and Huey's threads


class Connections:
    """The sessions and cached tokens of one app instance (thread safe)."""

    def __init__(self, token_ttl: float) -> None:
        self.token_ttl = token_ttl
        self._lock = threading.Lock()
        self._sessions: dict[tuple[int, str], requests.Session] = {}
        self._tokens: dict[tuple[int, str], tuple[str, float]] = {}

    def session(self, workspace_id: int, base_url: str) -> requests.Session:
        key = (workspace_id, base_url)
        with self._lock:
            found = self._sessions.get(key)
            if found is None:
                found = self._sessions[key] = _pooled_session(base_url)
            return found

    def token(self, workspace_id: int, sealed: str, decrypt: Callable[[], str]) -> str:
        key = (workspace_id, sealed)
        now = time.monotonic()
        with self._lock:
            cached = self._tokens.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        token = decrypt()  # raises on a bad key or ciphertext: nothing is cached then
        with self._lock:
            # Drop this workspace's older entries: a replaced token must not linger in memory.
            for old in [k for k in self._tokens if k[0] == workspace_id]:
                del self._tokens[old]
            self._tokens[key] = (token, now + self.token_ttl)
        return token

    def forget(self, workspace_id: int) -> None:
        """Drop the workspace's cached token and its pooled sessions (a new gateway URL or
        family, a new or cleared token): nothing kept for the old gateway is used again."""
        with self._lock:
            for key in [k for k in self._tokens if k[0] == workspace_id]:
                del self._tokens[key]
            sessions = [self._sessions.pop(k) for k in list(self._sessions) if k[0] == workspace_id]
        for session in sessions:
            session.close()

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
            self._tokens.clear()
        for session in sessions:
            session.close()


def _pooled_session(base_url: str) -> requests.Session:
    session = requests.Session()
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    # The environment (proxy variables, CA bundle) is read once here instead of on every call:
    # with trust_env requests also looked for a ~/.netrc on each call, whose credentials would
    # replace the token's Authorization header.
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.verify = (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    )
    session.trust_env = False
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def connections() -> Connections:
    """This app instance's (this process's) sessions and token cache."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get(_EXTENSION)
    if found is None:
        found = app.extensions.setdefault(
            _EXTENSION, Connections(float(app.config["GOTONE_TOKEN_CACHE_SECONDS"]))
        )
    return found
