"""The portal's gateway URL policy (app/gotone/url_policy.py) built from its settings, and the
words a member reads when a URL is refused.

One policy per app and settings: PORTAL_GOTONE_ALLOWED_URLS, PORTAL_GOTONE_ALLOW_HTTP and
PORTAL_GOTONE_ALLOW_PRIVATE. The settings form checks a new URL with it (resolving the host
name there and then), `client_for` checks the stored URL before every use and hands the policy
to the client, which checks each connection's address as well.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _

from ..gotone import url_policy as rules
from ..gotone.url_policy import GatewayUrl, UrlPolicy, UrlRefusedError

_EXTENSION = "gotone_url_policy"

__all__ = ["GatewayUrl", "UrlRefusedError", "check", "policy", "refusal_message"]


def policy() -> UrlPolicy:
    """The current app's policy (rebuilt when a test changes the settings)."""
    config = current_app.config
    key = (
        tuple(config["GOTONE_ALLOWED_URLS"]),
        bool(config["GOTONE_ALLOW_HTTP"]),
        bool(config["GOTONE_ALLOW_PRIVATE"]),
    )
    cached = current_app.extensions.get(_EXTENSION)
    if cached is None or cached[0] != key:
        built = UrlPolicy(key[0], allow_http=key[1], allow_private=key[2])
        cached = current_app.extensions[_EXTENSION] = (key, built)
    return cached[1]


def check(url: str, *, resolve: bool = False) -> GatewayUrl:
    """The parsed URL, or UrlRefusedError (see refusal_message)."""
    return policy().check(url, resolve=resolve)


def refusal_message(error: UrlRefusedError) -> str:
    """Why the portal will not send the workspace's token to this URL, in the member's words."""
    messages = {
        rules.NOT_A_URL: _(
            "Enter the gateway's address as https://host/api/v3, with a plain host name and port."
        ),
        rules.SCHEME: _("Enter an address that starts with https://."),
        rules.PLAIN_HTTP: _("This server only connects to gateways over https://."),
        rules.USERINFO: _(
            "Remove the user name or password (the part before “@”) from the "
            "address: the API token is the only credential."
        ),
        rules.QUERY: _(
            "Remove the query string or fragment (from “?” or “#” on) from the address."
        ),
        rules.IP_SPELLING: _(
            "Write an IP address as four decimal numbers, such as "
            "203.0.113.7, or use the gateway's host name."
        ),
        rules.NOT_LISTED: _(
            "This gateway address is not allowed on this server. Ask its "
            "administrator which gateways can be used."
        ),
        rules.PRIVATE: _(
            "This address points into a private or local network (such as "
            "localhost, 10.x or 192.168.x), which this server does not connect "
            "to."
        ),
        rules.UNRESOLVED: _("The gateway's host name could not be found. Check its spelling."),
    }
    return messages.get(error.reason, messages[rules.NOT_A_URL])
