"""Words for the phone, and callers' answers read back from speech-to-text."""
from __future__ import annotations

from datetime import date, time

import pytest

from actions.parsing import callback_number, clean_answer, digits_from_speech, yes_or_no
from actions.speech import number_words, ordinal_words, plain_voice, spoken_date, spoken_time, spoken_unit


@pytest.mark.parametrize("t, words", [
    (time(9), "nine"), (time(17), "five"), (time(17, 30), "five thirty"), (time(9, 5), "nine oh five"),
    (time(12), "noon"), (time(6), "six a.m."), (time(21), "nine p.m."), (time(0), "midnight"),
])
def test_spoken_time(t: time, words: str) -> None:
    assert spoken_time(t) == words


def test_numbers_and_dates() -> None:
    assert number_words(35) == "thirty five"
    assert number_words(300) == "three hundred"
    assert ordinal_words(26) == "twenty sixth" and ordinal_words(1) == "first" and ordinal_words(30) == "thirtieth"
    assert spoken_date(date(2026, 12, 26)) == "Saturday, December twenty sixth"
    assert spoken_unit("4B") == "four B"


def test_plain_voice_strips_markdown_and_emoji() -> None:
    assert plain_voice("**Great!** 😀 We're _open_.") == "Great! We're open."


@pytest.mark.parametrize("text, digits", [
    ("seven one eight five five five zero one three four", "7185550134"),
    ("uh it's 718 555 0134", "7185550134"),
    ("seven one eight double five five oh one three four", "7185550134"),
])
def test_digits_from_speech(text: str, digits: str) -> None:
    assert digits_from_speech(text) == digits


def test_callback_number() -> None:
    assert callback_number("this number is fine", "+13475550101") == "3475550101"
    assert callback_number("yes", "+13475550101") == "3475550101"
    assert callback_number("call me at nine one seven five five five oh one oh one", None) == "9175550101"
    assert callback_number("five five five", "+13475550101") is None


def test_yes_or_no() -> None:
    assert yes_or_no("yeah that's fine") is True
    assert yes_or_no("no please call me first") is False
    assert yes_or_no("hmm", "affirm") is True
    assert yes_or_no("the kitchen") is None
    # permission said as an access note, which the classifier calls inform
    assert yes_or_no("you can come in if i'm not home the super has a key", "inform") is True
    assert yes_or_no("you can't come in unless i'm home", "inform") is False


def test_clean_answer() -> None:
    assert clean_answer("um the uh kitchen sink, you know") == "the kitchen sink"
