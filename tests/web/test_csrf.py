"""CSRF: every state-changing route refuses a missing or wrong token and takes the header."""

from __future__ import annotations

import pytest

from tests.factories import login
from tests.web.test_access import ROUTES, _url, world  # noqa: F401  (fixture)

UNSAFE = [(e, r, m) for e, r, m in ROUTES if m not in ("GET", "HEAD", "OPTIONS")]


def test_there_are_state_changing_routes_to_check():
    assert len(UNSAFE) >= 15


@pytest.mark.parametrize("endpoint, rule, method", UNSAFE, ids=[f"{m} {r}" for _, r, m in UNSAFE])
@pytest.mark.parametrize("mode", ["none", "wrong", "header"])
def test_state_change_needs_the_csrf_token(client, world, endpoint, rule, method, mode):  # noqa: F811
    actors, args = world
    login(client, actors["owner"])
    url = _url(rule, args)
    good = client.csrf_token()
    if mode == "none":
        response = client.open(url, method=method, data={})
    elif mode == "wrong":
        response = client.open(
            url,
            method=method,
            data={"csrf_token": good[:-4] + "AAAA"},
            headers={"X-CSRFToken": "IjAwMDAi.wrong.token"},
        )
    else:
        response = client.open(url, method=method, data={}, headers={"X-CSRFToken": good})
    if mode == "header":
        assert response.status_code != 400, response.get_data(as_text=True)[:300]
    else:
        assert response.status_code == 400
        assert "expired or did not come from this site" in response.get_data(as_text=True)
