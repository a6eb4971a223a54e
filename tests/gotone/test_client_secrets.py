"""The token never shows up in errors or logs; full numbers never in client-made messages."""

from __future__ import annotations

import logging
from urllib.parse import quote

import pytest

from app.gotone import ApiError, GoToneClient, GoToneError, InvalidRequestError, SendRejectedError

from .conftest import NL, TOKEN, US, free_port

SECRET = TOKEN.partition("|")[2]


def _assert_clean(text: str) -> None:
    assert TOKEN not in text and SECRET not in text and quote(TOKEN, safe="") not in text


@pytest.mark.parametrize("family", ["v3", "http"])
def test_token_never_in_errors_or_logs(make_client, control, caplog, family):
    caplog.set_level(logging.DEBUG)
    client = make_client(family)
    failures: list[GoToneError] = []
    faults = [
        "malformed_json",
        "html_200",
        "status",
        "reset_before",
        "reset_after",
        "hang",
        "drip",
        "too_many_attempts",
    ]
    for mode in faults:
        control.add_fault(mode, path="balance$", times=2, delay_ms=1500)
        try:
            client.get_balance()
        except GoToneError as exc:
            failures.append(exc)
        control.clear_faults()
    echo = {"status": "error", "message": f"bad key {TOKEN} ({SECRET})"}
    control.add_fault("wrong_shape", path="me$", body=echo)
    with pytest.raises(ApiError) as caught:
        client.get_profile()
    failures.append(caught.value)
    client.send_sms(US, "Hi")  # L's single-send answer echoes the token as api_key
    assert len(failures) == len(faults) + 1
    for error in failures:
        _assert_clean(str(error))
        _assert_clean(repr(error))
        _assert_clean(error.gateway_message or "")
        # No chained requests exception: its text carries the URL (and the http family's query).
        assert error.__cause__ is None and error.__context__ is None
    _assert_clean(caplog.text)
    _assert_clean(repr(client))
    assert "GoTone GET /api/" in caplog.text  # the client does log its calls


ENCODED = {
    "percent, upper case, an unreserved character too": "7%7Cgotone%2Dclient-test-token-Qx81Zr",
    "percent, lower case": "7%7cgotone-client%2dtest-token-Qx81Zr",
    "percent twice": "7%257Cgotone-client-test-token-Qx81Zr",
    "JSON escape": "gotone\\u002dclient-test-token-Qx81Zr",
    "HTML entities": "gotone&#45;client-test-token&#x2D;Qx81Zr",
}


@pytest.mark.parametrize("spelling", ENCODED.values(), ids=ENCODED.keys())
def test_token_scrubbed_in_any_encoding(make_client, control, spelling):
    echo = {"status": "error", "message": f"bad key {spelling}!"}
    control.add_fault("wrong_shape", path="me$", body=echo)
    with pytest.raises(ApiError) as caught:
        make_client().get_profile()
    for text in (str(caught.value), caught.value.gateway_message):
        assert "Qx81Zr" not in text and text.endswith("bad key [token]!")


def test_token_not_in_connection_errors(caplog):
    caplog.set_level(logging.DEBUG)
    client = GoToneClient(f"http://127.0.0.1:{free_port()}", TOKEN, family="http", timeout=1.0)
    with pytest.raises(GoToneError) as caught:
        client.get_balance()
    _assert_clean(str(caught.value))
    _assert_clean(caplog.text)


def test_numbers_are_masked_in_client_messages(gotone, control):
    with pytest.raises(InvalidRequestError) as caught:
        gotone.send_sms(["1234567890123456789"], "Hi")
    assert "1234567890123456789" not in str(caught.value)
    assert "6789" in str(caught.value)


def test_gateway_numbers_are_masked_in_the_text_but_kept_in_gateway_message(make_client, control):
    narrow = control.create_account(token="21|narrow-token", coverage={"1": 1})
    with pytest.raises(SendRejectedError) as caught:
        make_client(token=narrow).send_sms(NL, "Hi")
    error = caught.value
    assert NL not in str(error) and "5678" in str(error)
    assert NL in error.reason and error.reason == error.gateway_message


def test_message_text_is_not_logged(gotone, caplog):
    caplog.set_level(logging.DEBUG, logger="app.gotone")
    gotone.send_sms([US, NL], "Very private words")
    assert "Very private words" not in caplog.text
    assert US not in caplog.text and NL not in caplog.text
