"""What a portal user does, as plain HTTP: list pages and a full compose → review → send.

The form parsing is shared by `send_one` (requests, used by stack.py and overhead.py) and by the
locust users of bench/locustfile.py, which make the same three requests with their own client.
"""

from __future__ import annotations

import re
import uuid

import requests

_KEY = re.compile(r'name="send_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="send_key"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
NUMBER = "+1 202 555 0100"


def compose_url(portal: str, workspace_id: int) -> str:
    return f"{portal}/w/{workspace_id}/messages"


def review_form(compose_page: str, text: str, number: str = NUMBER) -> dict[str, str]:
    """The review POST's fields, read from the compose page (its send key and CSRF token)."""
    found = _KEY.search(compose_page)
    key = (found.group(1) or found.group(2)) if found else uuid.uuid4().hex
    csrf = _CSRF.search(compose_page)
    return {
        "csrf_token": csrf.group(1) if csrf else "",
        "send_key": key,
        "type": "plain",
        "numbers": number,
        "text": text,
    }


def send_form(review_page: str, review: dict[str, str]) -> dict[str, str]:
    """The send POST's fields: the review page's hidden inputs (draft, send key, fingerprint).

    WTForms renders the send key and CSRF token as `<input id=.. name=.. type="hidden" ..>`,
    which _HIDDEN does not match: without the key the send was refused (422) every time.
    """
    fields = dict(_HIDDEN.findall(review_page))
    found = _KEY.search(review_page)
    key = (found.group(1) or found.group(2)) if found else review["send_key"]
    fields.setdefault("send_key", key)
    csrf = _CSRF.search(review_page)
    fields.setdefault("csrf_token", csrf.group(1) if csrf else review["csrf_token"])
    return fields


def send_one(stack, session: requests.Session, text: str, number: str = NUMBER) -> int:
    """Compose, review and send one plain message; returns the final HTTP status."""
    base = compose_url(stack.portal, stack.workspace_id)
    page = session.get(f"{base}/compose", timeout=30).text
    form = review_form(page, text, number)
    review = session.post(f"{base}/review", timeout=30, data=form)
    fields = send_form(review.text, form)
    answer = session.post(f"{base}/send", data=fields, timeout=30, allow_redirects=False)
    return answer.status_code
