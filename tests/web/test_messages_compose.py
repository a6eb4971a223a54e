"""Compose fields follow the type: voice language and gender, MMS media URL, nothing for plain."""

from __future__ import annotations

import re

import pytest

from app.gotone.payloads import VOICE_LANGUAGES
from app.models import SendRequest
from app.permissions import Role
from tests.conftest import HX
from tests.factories import add_member, login, make_user
from tests.web.test_messages_send import form_data


@pytest.fixture
def base(client, sim_workspace):
    login(client, sim_workspace.memberships[0].user)
    return f"/w/{sim_workspace.id}/messages"


def _fields(html):
    return set(re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([a-z_]+)"', html))


def test_plain_compose_has_no_voice_or_mms_fields(client, base):
    page = client.get(f"{base}/compose").get_data(as_text=True)
    assert 'id="type-fields"' in page
    assert f'hx-get="{base}/type-fields"' in page and 'hx-trigger="change"' in page
    assert {"language", "gender", "media_url"}.isdisjoint(_fields(page))
    assert "Change type" in page  # the way to switch without JavaScript


def test_voice_fields_come_as_a_fragment(client, base):
    response = client.get(f"{base}/type-fields?type=voice", headers=HX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and html.strip().startswith('<div id="type-fields">')
    assert _fields(html) == {"language", "gender"}
    languages = re.findall(r'<option[^>]*value="([a-z-]+)"', html.split('name="gender"')[0])
    assert languages == sorted(VOICE_LANGUAGES) and "en-us" in languages
    assert 'value="male"' in html and 'value="female"' in html
    assert 'for="language"' in html and 'for="gender"' in html


def test_mms_and_plain_fragments(client, base):
    mms = client.get(f"{base}/type-fields?type=mms&media_url=https://x.test/a.png", headers=HX)
    assert _fields(mms.get_data(as_text=True)) == {"media_url"}
    assert 'value="https://x.test/a.png"' in mms.get_data(as_text=True)
    plain = client.get(f"{base}/type-fields?type=plain", headers=HX).get_data(as_text=True)
    assert _fields(plain) == set() and 'id="type-fields"' in plain


def test_values_survive_a_switch(client, base):
    html = client.get(
        f"{base}/type-fields?type=voice&language=fr-fr&gender=female", headers=HX
    ).get_data(as_text=True)
    assert re.search(r'<option selected value="fr-fr"|<option value="fr-fr" selected', html)


def test_without_javascript_change_type_redisplays_the_form(client, base):
    # The "Change type" button posts the form to the compose page, keeping what was typed.
    data = form_data("e" * 32, type="voice", text="Typed before the switch")
    page = client.post(f"{base}/compose", data=data)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert {"language", "gender"} <= _fields(html) and "media_url" not in _fields(html)
    assert "Typed before the switch" in html
    # A plain GET of the fragment URL lands on the compose page of that type.
    response = client.get(f"{base}/type-fields?type=mms")
    assert response.status_code == 303 and response.location.endswith("/compose?type=mms")
    assert "media_url" in _fields(client.get(response.location).get_data(as_text=True))


def test_voice_send_needs_language_and_gender(client, base, sim, gateway_token):
    data = form_data("f" * 32, type="voice", numbers="+1 555 010 0001")
    refused = client.post(f"{base}/review", data=data)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Choose the voice language." in html and {"language", "gender"} <= _fields(html)
    data.update(language="en-gb", gender="female")
    assert client.post(f"{base}/send", data=data).status_code == 303
    request = SendRequest.query.one()
    assert (request.type, request.language, request.gender) == ("voice", "en-gb", "female")
    assert request.media_url is None


def test_viewers_cannot_fetch_compose_fields(client, sim_workspace, base):
    login(client, add_member(sim_workspace, make_user(), Role.VIEWER))
    assert client.get(f"{base}/type-fields?type=voice", headers=HX).status_code == 403


def test_live_panel_and_review_do_not_walk_every_group(client, base, sim, gateway_token):
    """Only the compose page lists every group; typing, review and send ask for the chosen."""
    chosen = sim.control.seed_group(gateway_token, "Chosen", [{"phone": "12025550111"}])["uid"]
    for n in range(30):  # two pages of groups at the gateway
        sim.control.seed_group(gateway_token, f"Other {n:02d}")
    before = len(sim.control.requests())
    panel = client.post(f"{base}/panel", data=form_data("k-panel", groups=[chosen]), headers=HX)
    review = client.post(f"{base}/review", data=form_data("k-review", groups=[chosen]))
    calls = sim.control.requests()[before:]
    assert panel.status_code == 200 and review.status_code == 200
    assert not [c for c in calls if c["method"] == "GET" and c["path"].endswith("/contacts")]
    assert [c for c in calls if c["path"].endswith(f"/contacts/{chosen}/show")]
    page = client.get(f"{base}/compose")
    listed = [c for c in sim.control.requests() if c["path"].endswith("/contacts")]
    assert (
        page.status_code == 200 and len(listed) == 2 and "Other 29" in page.get_data(as_text=True)
    )


@pytest.mark.parametrize(
    ("text", "encoding", "characters", "segments"),
    [
        # The braces of a merge field are not sent: no GSM extension characters.
        ("Hello {first_name|there}", "GSM_7BIT", len("Hello there"), 1),
        ("Hi {first_name}, your code", "GSM_7BIT", len("Hi , your code"), 1),
        ("Call {phone}", "GSM_7BIT", 5 + 15, 1),
        # € costs two septets at the gateway, so does every extension character.
        ("Price 5€", "GSM_7BIT_EX", 9, 1),
        ("a" * 159 + "€", "GSM_7BIT_EX", 161, 2),
        ("{first_name|x}" + "a" * 156, "GSM_7BIT", 157, 1),
        # UCS-2 counts UTF-16 code units: an emoji is 2.
        ("你好😀", "UTF16", 4, 1),
    ],
)
def test_the_live_panel_counts_the_text_that_is_sent(
    client, base, text, encoding, characters, segments
):
    """Issue 12 item 29: the template's braces counted as extension characters, and
    "Characters" counted code points where the gateway counts € as 2."""
    panel = client.post(f"{base}/panel", data=form_data("k-count", text=text), headers=HX)
    html = panel.get_data(as_text=True)
    found = dict(re.findall(r"<dt>([^<]+)</dt><dd>\s*([^<\s]+)", html))
    expected = (encoding, str(characters), str(segments))
    assert (found["Encoding"], found["Characters"], found["Segments"]) == expected
