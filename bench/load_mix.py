"""What a portal user does, as plain HTTP: list pages and a full compose → review → send."""

from __future__ import annotations

import re
import uuid

import requests

_KEY = re.compile(r'name="send_key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="send_key"')
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def send_one(stack, session: requests.Session, text: str, number: str = "+1 202 555 0100") -> int:
    """Compose, review and send one plain message; returns the final HTTP status."""
    base = f"{stack.portal}/w/{stack.workspace_id}/messages"
    page = session.get(f"{base}/compose", timeout=30).text
    found = _KEY.search(page)
    key = (found.group(1) or found.group(2)) if found else uuid.uuid4().hex
    csrf = _CSRF.search(page).group(1)
    review = session.post(f"{base}/review", timeout=30, data={
        "csrf_token": csrf, "send_key": key, "type": "plain", "numbers": number, "text": text})
    fields = dict(_HIDDEN.findall(review.text))
    fields.setdefault("csrf_token", csrf)
    answer = session.post(f"{base}/send", data=fields, timeout=30, allow_redirects=False)
    return answer.status_code
