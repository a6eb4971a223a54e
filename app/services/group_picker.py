"""The groups a picker offers (compose, import and export): the first MAX_LISTED of the
workspace, or the gateway's error so that the page still shows without them."""

from __future__ import annotations

import contextlib

from ..exceptions import ServiceUnavailableError
from ..gotone import Group
from ..gotone.client import GoToneClient
from ..gotone.errors import GoToneError

MAX_LISTED = 200


def listed(client: GoToneClient | None) -> tuple[list[Group], str | None]:
    """Every group up to MAX_LISTED (one gateway call per 25), or none and the error."""
    if client is None:
        return [], None
    groups: list[Group] = []
    try:
        for group in client.iter_all(client.list_groups):
            groups.append(group)
            if len(groups) >= MAX_LISTED:
                break
    except (GoToneError, ServiceUnavailableError) as error:
        return [], str(error)
    return groups, None


def chosen(client: GoToneClient | None, uids: list[str]) -> list[Group]:
    """The chosen groups, one `show` each, for their names; any the gateway cannot show are
    left out here and reported by the recipients' expansion (which reads every one)."""
    found: list[Group] = []
    if client is None:
        return found
    for uid in uids[:MAX_LISTED]:
        with contextlib.suppress(GoToneError):
            found.append(client.get_group(uid))
    return found
