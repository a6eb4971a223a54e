"""Where a workspace's token may be sent: gateway URLs are parsed, never prefix-matched.

A gateway URL is chosen by whoever owns a workspace, and the client sends the workspace's token
to it. Unchecked, "Test connection" is a port scanner of the portal's own network, and a
string-prefix allow-list lets `http://allowed:7402@elsewhere/` through. So a URL is parsed
with urllib and refused when:
- its scheme is not https (http only with `allow_http`), or it carries userinfo, a query or a
  fragment, or anything but a plain host and port in its authority;
- its host is an IP address spelled any way but the canonical one (`2130706433`,
  `0x7f000001`, `0177.0.0.1`, `127.1`): those are refused outright rather than guessed at;
- an allow-list is set and no entry admits it (same scheme, the exact host or a domain
  suffix, the same port, the path under the entry's path);
- its host is, or resolves to, a loopback, private, link-local, shared, reserved or
  multicast address (`localhost` included), unless `allow_private`.
The last check is also made against the address actually connected to (peer_guard.py), so a
name that resolves elsewhere a second time (DNS rebinding) gains nothing.

Flask-free: the portal builds one UrlPolicy from its settings (services/gateway_urls.py) and
turns each refusal's `reason` into its own translated words.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from .errors import InvalidRequestError

# Refusal reasons (UrlRefusedError.reason).
NOT_A_URL = "not_a_url"  # not an absolute URL with a plain host and port
SCHEME = "scheme"  # not http(s)
PLAIN_HTTP = "plain_http"  # http while only https is allowed
USERINFO = "userinfo"  # user:password@ before the host
QUERY = "query"  # a query string or fragment
IP_SPELLING = "ip_spelling"  # an IP address written in decimal, hex, octal or short form
NOT_LISTED = "not_listed"  # an allow-list is set and does not admit the URL
PRIVATE = "private"  # loopback, private, link-local, reserved... address
UNRESOLVED = "unresolved"  # the host name does not resolve

DEFAULT_PORTS = {"http": 80, "https": 443}
# What may stand between "//" and the path: a DNS name or a bracketed IPv6 address, a port.
_AUTHORITY = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::[0-9]{1,5})?")
# A label inet_aton() reads as a number (decimal, octal with a leading 0, hex with 0x).
_NUMERIC_LABEL = re.compile(r"0[xX][0-9A-Fa-f]*|[0-9]+")
_LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


class UrlRefusedError(InvalidRequestError):
    """A gateway URL (or the address it led to) that the policy refuses; nothing was sent."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"gateway URL refused: {message}", definitely_not_received=True)
        self.reason = reason


@dataclass(frozen=True)
class GatewayUrl:
    """A parsed, accepted gateway URL. `url` is the canonical spelling the client uses."""

    scheme: str
    host: str  # lower case, no trailing dot, IPv6 without brackets
    port: int
    path: str  # without a trailing slash
    explicit_port: bool

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.explicit_port else ""
        return f"{self.scheme}://{host}{port}{self.path}"


@dataclass(frozen=True)
class AllowedPrefix:
    """One allow-list entry: `https://gw.example.com:8443/api`, or `https://.example.com`
    for example.com and every name under it. No port means the scheme's default."""

    scheme: str
    host: str
    port: int
    path: str
    suffix: bool

    @classmethod
    def parse(cls, entry: str) -> AllowedPrefix:
        text = entry.strip()
        suffix = "://." in text
        try:
            parsed = _split(text.replace("://.", "://", 1))
        except UrlRefusedError as exc:
            raise ValueError(f"PORTAL_GOTONE_ALLOWED_URLS entry {entry!r}: {exc}") from None
        return cls(parsed.scheme, parsed.host, parsed.port, parsed.path, suffix)

    def admits(self, url: GatewayUrl) -> bool:
        if url.scheme != self.scheme or url.port != self.port:
            return False
        if url.host != self.host and not (self.suffix and url.host.endswith("." + self.host)):
            return False
        # Whole path segments: /api admits /api and /api/v3, not /apix.
        return not self.path or url.path == self.path or url.path.startswith(self.path + "/")


class UrlPolicy:
    """The rules a gateway URL and the address it connects to must pass (see module doc)."""

    def __init__(
        self,
        allowed: Iterable[str] = (),
        *,
        allow_http: bool = False,
        allow_private: bool = False,
    ) -> None:
        self.allowed = tuple(AllowedPrefix.parse(entry) for entry in allowed if entry.strip())
        self.allow_http = allow_http
        self.allow_private = allow_private

    def __repr__(self) -> str:
        return (
            f"UrlPolicy({len(self.allowed)} allowed, http={self.allow_http}, "
            f"private={self.allow_private})"
        )

    def check(self, url: str, *, resolve: bool = False) -> GatewayUrl:
        """Return the parsed URL, or raise UrlRefusedError. With `resolve`, the host name is
        also looked up now (a form check); otherwise only at connection time."""
        parsed = _split(url)
        if parsed.scheme == "http" and not self.allow_http:
            raise UrlRefusedError(PLAIN_HTTP, "plain http is not allowed, use https")
        if self.allowed and not any(entry.admits(parsed) for entry in self.allowed):
            raise UrlRefusedError(NOT_LISTED, "not on this server's list of gateways")
        if not self.allow_private:
            literal = _ip_literal(parsed.host)
            if parsed.host in _LOOPBACK_NAMES or parsed.host.endswith(".localhost"):
                raise UrlRefusedError(PRIVATE, "the host is this machine")
            if literal is not None:
                self.check_address(literal)
            elif resolve:
                for address in _resolve(parsed.host, parsed.port):
                    self.check_address(address)
        return parsed

    def address_allowed(self, address: str) -> bool:
        """Whether the portal may connect to this IP address."""
        if self.allow_private:
            return True
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone is not the address
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        return ip.is_global and not ip.is_multicast

    def check_address(self, address: str) -> None:
        if not self.address_allowed(address):
            raise UrlRefusedError(PRIVATE, f"{address} is a loopback, private or reserved address")


def _split(url: str) -> GatewayUrl:
    """Parse without policy: one absolute http(s) URL with a plain host[:port] and a path."""
    text = str(url).strip()
    if not text or any(ch.isspace() or ord(ch) < 0x21 or ch == "\\" for ch in text):
        raise UrlRefusedError(NOT_A_URL, "not a URL")
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UrlRefusedError(SCHEME, "the URL must start with https://")
    if "@" in parts.netloc:
        raise UrlRefusedError(USERINFO, "a user name or password in the URL")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise UrlRefusedError(QUERY, "a query string or fragment")
    if not parts.netloc.isascii() or not _AUTHORITY.fullmatch(parts.netloc):
        raise UrlRefusedError(NOT_A_URL, "the host must be a plain name or address")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        raise UrlRefusedError(NOT_A_URL, "the port must be a number from 1 to 65535")
    host = (parts.hostname or "").rstrip(".")
    if not host or ".." in host:
        raise UrlRefusedError(NOT_A_URL, "the host must be a plain name or address")
    if ":" in host or parts.netloc.startswith("["):
        try:
            host = str(ipaddress.IPv6Address(host))
        except ValueError:
            raise UrlRefusedError(NOT_A_URL, "not an IPv6 address") from None
    elif _ip_literal(host) is None and _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        # No top-level domain is a number: resolvers read such a host as an IP address.
        raise UrlRefusedError(IP_SPELLING, "write an IP address as four decimal numbers")
    path = parts.path.rstrip("/")
    if any(unquote(segment) in (".", "..") for segment in path.split("/")):
        # urllib3 removes dot segments before sending: /api/../admin would leave /api.
        raise UrlRefusedError(NOT_A_URL, "the path must not hold . or .. segments")
    return GatewayUrl(scheme, host, port or DEFAULT_PORTS[scheme], path, port is not None)


def _ip_literal(host: str) -> str | None:
    """The host as a canonical IP address, or None when it is a name (or another spelling)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _resolve(host: str, port: int) -> list[str]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UrlRefusedError(UNRESOLVED, f"the host name {host} was not found") from None
    return [str(info[4][0]) for info in found]
