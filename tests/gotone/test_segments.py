"""Segment counting: the fixed points of reference §13 and properties that must always hold."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.gotone.segments import (
    GSM_7BIT,
    GSM_7BIT_EX,
    GSM_BASIC,
    GSM_EXTENSION,
    UTF16,
    count_segments,
)

gsm_text = st.text(alphabet=sorted(GSM_BASIC), max_size=700)
extended_text = st.text(alphabet=sorted(GSM_BASIC | GSM_EXTENSION), max_size=700)
any_text = st.text(max_size=400)


@pytest.mark.parametrize(
    ("text", "encoding", "length", "segments"),
    [
        ("", GSM_7BIT, 0, 0),
        ("a" * 160, GSM_7BIT, 160, 1),
        ("a" * 161, GSM_7BIT, 161, 2),
        ("a" * 306, GSM_7BIT, 306, 2),
        ("a" * 307, GSM_7BIT, 307, 3),
        ("{" * 80, GSM_7BIT_EX, 160, 1),
        ("a" * 159 + "€", GSM_7BIT_EX, 161, 2),
        ("\f", GSM_7BIT_EX, 2, 1),
        ("a`", UTF16, 2, 1),
        ("你" * 70, UTF16, 70, 1),
        ("你" * 71, UTF16, 71, 2),
        ("你" * 134, UTF16, 134, 2),
        ("你" * 135, UTF16, 135, 3),
        ("😀" * 35, UTF16, 70, 1),
        ("😀" * 36, UTF16, 72, 2),
        ("£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", GSM_7BIT, 40, 1),
        ("line\r\nbreak", GSM_7BIT, 11, 1),
        ("tab\there", UTF16, 8, 1),
    ],
)
def test_fixed_points_of_the_reference(text, encoding, length, segments):
    info = count_segments(text)
    assert (info.encoding, info.length, info.segments) == (encoding, length, segments)


def test_unicode_characters_are_listed_once_in_order():
    assert count_segments("a`b你`c你é").unicode_chars == ("`", "你")
    assert count_segments("plain text").unicode_chars == ()


@given(gsm_text)
def test_basic_gsm_counts_one_septet_per_character(text):
    info = count_segments(text)
    assert info.encoding == GSM_7BIT
    assert info.length == len(text)


@given(extended_text)
def test_extension_characters_cost_two_septets(text):
    info = count_segments(text)
    extra = sum(1 for ch in text if ch in GSM_EXTENSION)
    assert info.length == len(text) + extra
    assert info.encoding == (GSM_7BIT_EX if extra else GSM_7BIT)


@given(any_text)
def test_segments_always_hold_the_whole_text(text):
    info = count_segments(text)
    single, multi = (70, 67) if info.encoding == UTF16 else (160, 153)
    if info.length == 0:
        assert info.segments == 0
    elif info.length <= single:
        assert info.segments == 1
    else:
        assert info.segments == math.ceil(info.length / multi)
        assert (info.segments - 1) * multi < info.length <= info.segments * multi


@given(any_text, any_text)
def test_appending_text_never_lowers_the_count(a, b):
    assert count_segments(a + b).segments >= count_segments(a).segments


@given(any_text)
def test_utf16_whenever_a_character_is_outside_the_tables(text):
    outside = [ch for ch in text if ch not in GSM_BASIC and ch not in GSM_EXTENSION]
    assert (count_segments(text).encoding == UTF16) == bool(outside)
