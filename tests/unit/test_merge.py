"""Merge fields: rendering with fallbacks, and the review's summary of a group send."""

from __future__ import annotations

from app.gotone.segments import count_segments
from app.services.merge import Recipient, empty_fields, has_fields, render, summarise

ADA = Recipient("12025550111", "Ada", "Lovelace")
NOBODY = Recipient("12025550113")


def test_render_uses_the_value_then_the_fallback_then_nothing():
    text = "Hi {first_name|there} {last_name}, your number {phone}"
    assert render(text, ADA) == "Hi Ada Lovelace, your number 12025550111"
    assert render(text, NOBODY) == "Hi there , your number 12025550113"
    assert render("{first_name|}", Recipient("1", "  ")) == ""  # blank counts as empty


def test_text_without_fields_is_left_alone():
    assert not has_fields("Braces {like_this} are text")
    assert render("Braces {like_this} are text", ADA) == "Braces {like_this} are text"


def test_empty_fields_tells_a_fallback_from_a_gap():
    assert empty_fields("Hi {first_name|there}", NOBODY) == (True, False)
    assert empty_fields("Hi {first_name}", NOBODY) == (True, True)
    assert empty_fields("Hi {first_name}", ADA) == (False, False)
    assert empty_fields("No fields", NOBODY) == (False, False)


def test_summary_counts_empty_fields_gaps_and_the_worst_case():
    long_name = Recipient("12025550114", "Ж" * 70)  # UCS-2 and long: the worst case
    people = [ADA, NOBODY, long_name, Recipient("12025550115", "", "Smith")]
    summary = summarise("Hi {first_name|friend} {last_name}", people, previews=2)
    assert [text for _, text in summary.previews] == ["Hi Ada Lovelace", "Hi friend "]
    assert summary.empty_fields == 3  # NOBODY, long_name (no last name) and Smith
    assert summary.gaps == 2  # {last_name} has no fallback; Smith's first name has one
    assert summary.worst_text == "Hi " + "Ж" * 70 + " "
    assert summary.worst_segments == count_segments(summary.worst_text).segments == 2
    only_fallbacks = summarise("Hi {first_name|friend}", people)
    assert (only_fallbacks.empty_fields, only_fallbacks.gaps) == (2, 0)


def test_summary_without_recipients_counts_the_bare_text():
    summary = summarise("Hi {first_name|friend}", [])
    assert summary.previews == [] and summary.empty_fields == 0
    assert summary.worst_segments == 1
