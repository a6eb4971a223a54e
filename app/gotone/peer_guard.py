"""The address check made on the connection itself, before a byte of the request is sent.

Checking a gateway's host name when its URL is saved is not enough: the name may resolve to a
public address then and to 127.0.0.1 or 10.0.0.5 when the portal connects (DNS rebinding), or
change later. So the sessions a client uses open their connections through pool classes whose
`_new_conn` looks at the socket's peer address and closes it when the policy refuses that
address, before TLS and before the request. A connection through a proxy is not checked here:
the peer is then the operator's proxy, and the gateway's name is resolved by the proxy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

AddressCheck = Callable[[str], bool]
_lock = threading.Lock()


class PeerRefused(NewConnectionError):
    """The connection reached an address the policy refuses; it was closed unused.

    A NewConnectionError, so urllib3 and requests treat it as a connection that never opened.
    """

    def __init__(self, conn: HTTPConnection, address: str) -> None:
        super().__init__(conn, f"connected to a refused address {address}")
        self.address = address


def _checked(conn: HTTPConnection, sock, allowed: AddressCheck):
    address = str(sock.getpeername()[0])
    if not allowed(address):
        sock.close()
        raise PeerRefused(conn, address)
    return sock


def _pool_classes(allowed: AddressCheck) -> dict[str, type[HTTPConnectionPool]]:
    class GuardedHTTPConnection(HTTPConnection):
        def _new_conn(self):
            return _checked(self, super()._new_conn(), allowed)

    class GuardedHTTPSConnection(HTTPSConnection):
        def _new_conn(self):
            return _checked(self, super()._new_conn(), allowed)

    class GuardedHTTPPool(HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class GuardedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    return {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}


def guard_session(session: requests.Session, allowed: AddressCheck) -> None:
    """Make every direct connection of `session`'s adapters pass `allowed(peer address)`.

    Idempotent per check; the adapters (and their pool sizes) stay the ones already mounted.
    """
    with _lock:
        if getattr(session, "_gotone_peer_check", None) == allowed:  # bound methods: ==
            return
        for adapter in session.adapters.values():
            manager = getattr(adapter, "poolmanager", None)
            if manager is None:
                continue
            manager.clear()  # connections opened before the guard are not kept
            manager.pool_classes_by_scheme = _pool_classes(allowed)
        session._gotone_peer_check = allowed  # type: ignore[attr-defined]
