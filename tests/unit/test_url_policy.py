"""Gateway URLs are parsed, not prefix-matched (issue 12, items 3 and 4)."""

from __future__ import annotations

import socket

import pytest

from app.gotone import url_policy as up
from app.gotone.url_policy import UrlPolicy, UrlRefusedError

LIST = ["http://127.0.0.1:7402", "https://gw.example.com/api", "https://.gotone.example"]
LISTED = UrlPolicy(LIST, allow_http=True, allow_private=True)  # private: only the list counts
STRICT = UrlPolicy()


def _reason(policy: UrlPolicy, url: str) -> str:
    with pytest.raises(UrlRefusedError) as caught:
        policy.check(url)
    assert caught.value.definitely_not_received
    return caught.value.reason


# Item 4: each of these passed the string-prefix allow-list `http://127.0.0.1:7402`.
@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:7402@127.0.0.1:7420/api/http", up.USERINFO),
        ("http://user:pw@127.0.0.1:7402/api/v3", up.USERINFO),
        ("http://127.0.0.1:74020/api/v3", up.NOT_A_URL),  # a longer port (and no port)
        ("http://127.0.0.1:740/api/v3", up.NOT_LISTED),
        ("http://127.0.0.1.evil.example:7402/api/v3", up.NOT_LISTED),  # a longer host
        ("http://127.0.0.10:7402/api/v3", up.NOT_LISTED),
        ("http://127.0.0.1/api/v3", up.NOT_LISTED),  # the default port is another port
        ("https://127.0.0.1:7402/api/v3", up.NOT_LISTED),  # another scheme
        ("https://gw.example.com/apix/v3", up.NOT_LISTED),  # the path by whole segments
        ("https://gw.example.com/api/../admin", up.NOT_A_URL),  # sent as /admin
        ("https://gw.example.com/api/%2e%2E/admin", up.NOT_A_URL),
        ("https://gw.example.com/api/./v3", up.NOT_A_URL),
        ("https://gw.example.com.evil.example/api", up.NOT_LISTED),
        ("https://evilgotone.example/api/v3", up.NOT_LISTED),  # a suffix needs its dot
        ("https://gw.example.com:8443/api", up.NOT_LISTED),
    ],
)
def test_allow_list_entries_are_parsed_not_prefixes(url, reason):
    assert _reason(LISTED, url) == reason


def test_a_longer_port_or_host_is_another_one():
    short = UrlPolicy(
        ["http://127.0.0.1:740", "https://gw.example"], allow_http=True, allow_private=True
    )
    for url in (
        "http://127.0.0.1:7402/api/v3",
        "https://gw.example.com/api/v3",
        "https://gw.examplex/api/v3",
    ):
        assert _reason(short, url) == up.NOT_LISTED


@pytest.mark.parametrize(
    "url, canonical",
    [
        ("http://127.0.0.1:7402", "http://127.0.0.1:7402"),
        ("http://127.0.0.1:7402/api/http/", "http://127.0.0.1:7402/api/http"),
        ("https://GW.example.com/api/v3", "https://gw.example.com/api/v3"),
        ("https://gw.example.com:443/api", "https://gw.example.com:443/api"),
        ("https://gotone.example/api/v3", "https://gotone.example/api/v3"),
        ("https://eu.gotone.example./api/v3", "https://eu.gotone.example/api/v3"),
    ],
)
def test_allow_list_admits_its_own_urls(url, canonical):
    assert LISTED.check(url).url == canonical


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/api/v3",  # decimal
        "http://0x7f000001/api/v3",  # hex
        "http://0x7f.0.0.1/api/v3",
        "http://0177.0.0.1/api/v3",  # octal
        "http://017700000001/api/v3",
        "http://127.1/api/v3",  # short form
        "http://127.0.1/api/v3",
        "http://10.0.0.1.5/api/v3",
    ],
)
def test_other_ip_spellings_are_refused(url):
    for policy in (STRICT, UrlPolicy(allow_http=True, allow_private=True)):
        assert _reason(policy, url) in (up.IP_SPELLING, up.PLAIN_HTTP)
    assert _reason(UrlPolicy(allow_http=True), url) == up.IP_SPELLING


@pytest.mark.parametrize(
    "url",
    [
        "https://localhost/api/v3",
        "https://LOCALHOST./api/v3",
        "https://api.localhost/api/v3",
        "https://127.0.0.1/api/v3",
        "https://127.8.9.10:8443/api/v3",
        "https://[::1]/api/v3",
        "https://[0:0:0:0:0:0:0:1]/api/v3",
        "https://[::ffff:127.0.0.1]/api/v3",
        "https://[::ffff:10.0.0.5]/api/v3",
        "https://10.0.0.5/api/v3",
        "https://172.16.0.1/api/v3",
        "https://192.168.1.1/api/v3",
        "https://169.254.169.254/latest/meta-data",  # cloud metadata
        "https://100.64.0.1/api/v3",  # shared address space
        "https://0.0.0.0/api/v3",
        "https://[fe80::1]/api/v3",
        "https://[fd00::1]/api/v3",
        "https://224.0.0.1/api/v3",
        "https://240.0.0.1/api/v3",
    ],
)
def test_private_and_reserved_addresses_are_refused(url):
    assert _reason(STRICT, url) == up.PRIVATE
    assert UrlPolicy(allow_private=True).check(url)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://gw.example.com/api/v3", up.PLAIN_HTTP),
        ("ftp://gw.example.com/api/v3", up.SCHEME),
        ("gw.example.com/api/v3", up.SCHEME),
        ("//gw.example.com/api/v3", up.SCHEME),
        ("javascript:alert(1)", up.SCHEME),
        ("https://gw.example.com/api/v3?x=1", up.QUERY),
        ("https://gw.example.com/api/v3#top", up.QUERY),
        ("https://gw.example.com/api/v3?", up.QUERY),
        ("https://gw.example.com\\@evil.example/", up.NOT_A_URL),
        ("https://gw.example.com /api", up.NOT_A_URL),
        ("https://gw.exa\tmple.com/api", up.NOT_A_URL),
        ("https://gw.example.com%2f@evil/", up.USERINFO),
        ("https://gw.example.com%2fevil/", up.NOT_A_URL),
        ("https://gw.example.com:0/api", up.NOT_A_URL),
        ("https://gw.example.com:99999/api", up.NOT_A_URL),
        ("https://gw.example.com:/api", up.NOT_A_URL),
        ("https://gw.example.com:8o/api", up.NOT_A_URL),
        ("https://[fe80::1%25eth0]/api", up.NOT_A_URL),
        ("https://網關.example/api", up.NOT_A_URL),
        ("https://gw..example.com/api", up.NOT_A_URL),
        ("https:///api/v3", up.NOT_A_URL),
        ("", up.NOT_A_URL),
    ],
)
def test_malformed_urls_are_refused(url, reason):
    assert _reason(STRICT, url) == reason


def test_public_https_url_passes_without_an_allow_list():
    parsed = STRICT.check("https://app.gotonesms.net/api/v3/")
    assert (parsed.scheme, parsed.host, parsed.port, parsed.path) == (
        "https",
        "app.gotonesms.net",
        443,
        "/api/v3",
    )
    assert STRICT.check("https://8.8.8.8/api/v3").url == "https://8.8.8.8/api/v3"
    assert STRICT.check("https://[2001:4860:4860::8888]:8443/x").url == (
        "https://[2001:4860:4860::8888]:8443/x"
    )


def test_a_bad_allow_list_entry_fails_at_once():
    with pytest.raises(ValueError, match="PORTAL_GOTONE_ALLOWED_URLS entry"):
        UrlPolicy(["gw.example.com"])


def test_resolving_checks_every_address_of_the_name(monkeypatch):
    answers = {"rebind.example": ["93.184.216.34", "127.0.0.1"], "public.example": ["8.8.4.4"]}

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    # The system resolver stands in for DNS: the machines running the tests have none.
    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    assert STRICT.check("https://public.example/api/v3", resolve=True).host == "public.example"
    with pytest.raises(UrlRefusedError) as caught:
        STRICT.check("https://rebind.example/api/v3", resolve=True)
    assert caught.value.reason == up.PRIVATE and "127.0.0.1" in str(caught.value)
    with pytest.raises(UrlRefusedError) as caught:
        STRICT.check("https://nowhere.example/api/v3", resolve=True)
    assert caught.value.reason == up.UNRESOLVED
    # Without `resolve` no lookup is made: the connection itself is checked later.
    assert STRICT.check("https://rebind.example/api/v3").host == "rebind.example"
