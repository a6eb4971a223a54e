"""The client with a UrlPolicy: the base URL is checked before any call, and the address each
connection reaches is checked before anything is sent (DNS rebinding, issue 12 item 3)."""

from __future__ import annotations

import socket

import pytest
import requests

from app.gotone import GoToneClient
from app.gotone.url_policy import PLAIN_HTTP, PRIVATE, UrlPolicy, UrlRefusedError

from .conftest import NL, US, api_requests

NAME = "gateway.example"  # a public-looking name that resolves to the simulator's 127.0.0.1


@pytest.fixture
def rebinding(monkeypatch):
    """DNS answering NAME with 127.0.0.1, as a rebinding attacker's server would after the
    URL was checked. The system resolver stands in for DNS: the test machines have none."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        return real("127.0.0.1" if host == NAME else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def _url(gateway, family: str = "v3") -> str:
    return gateway.api_url(family).replace("127.0.0.1", NAME)


def test_refused_base_url_fails_before_any_call(gateway, token, control):
    with pytest.raises(UrlRefusedError) as caught:
        GoToneClient(gateway.api_url("v3"), token, url_policy=UrlPolicy())
    assert caught.value.reason == PLAIN_HTTP
    with pytest.raises(UrlRefusedError) as caught:
        GoToneClient(gateway.api_url("v3"), token, url_policy=UrlPolicy(allow_http=True))
    assert caught.value.reason == PRIVATE
    assert control.requests() == []


@pytest.mark.usefixtures("rebinding")
@pytest.mark.parametrize("family", ["v3", "http"])
def test_connection_to_a_private_address_is_closed_before_sending(gateway, token, control, family):
    policy = UrlPolicy([f"http://{NAME}:{gateway.port}"], allow_http=True)
    session = requests.Session()  # a shared pool, as the portal passes one
    client = GoToneClient(
        _url(gateway, family), token, timeout=2.0, session=session, url_policy=policy
    )
    with pytest.raises(UrlRefusedError) as caught:
        client.get_balance()
    assert caught.value.reason == PRIVATE and "127.0.0.1" in str(caught.value)
    assert caught.value.definitely_not_received and not caught.value.may_have_been_processed
    with pytest.raises(UrlRefusedError):
        client.send_sms([US, NL], "Hi")  # a send's own connection is checked as well
    assert control.requests() == [] and control.sends() == []
    # Another client on the same session is guarded too, even without a policy of its own.
    with pytest.raises(UrlRefusedError):
        GoToneClient(_url(gateway, family), token, timeout=2.0, session=session).get_profile()
    assert control.requests() == []
    client.close()


@pytest.mark.usefixtures("rebinding")
def test_allow_private_connects_to_the_same_address(gateway, token, control):
    policy = UrlPolicy([f"http://{NAME}:{gateway.port}"], allow_http=True, allow_private=True)
    client = GoToneClient(_url(gateway), token, timeout=2.0, url_policy=policy)
    assert client.get_balance().remaining_balance is not None
    assert client.send_sms([US, NL], "Hi").recipients == (US, NL)
    assert len(api_requests(control, "/sms/send")) == 1
    client.close()


def test_client_uses_the_canonical_url(gateway, token, control):
    policy = UrlPolicy(allow_http=True, allow_private=True)
    client = GoToneClient(f"HTTP://127.0.0.1:{gateway.port}/api/v3/", token, url_policy=policy)
    assert client.api_url == gateway.api_url("v3")
    assert client.get_balance()
    client.close()
