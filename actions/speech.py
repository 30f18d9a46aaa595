"""Words for the phone: times, numbers and dates written the way a person says them.

Text-to-speech reads "17:00" and "4B" unpredictably, and "Monday at nine" is what a
receptionist would say; these pure functions make the replies sound that way.
"""
from __future__ import annotations

import re
from datetime import date, time

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = {1: "first", 2: "second", 3: "third", 5: "fifth", 8: "eighth", 9: "ninth", 12: "twelfth"}
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def number_words(n: int) -> str:
    """0 to 999 in words ("thirty five"); larger numbers as digits."""
    if n < 0 or n > 999:
        return str(n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")


def ordinal_words(n: int) -> str:
    """1 -> "first", 26 -> "twenty sixth"."""
    if n in _ORDINALS:
        return _ORDINALS[n]
    if n < 20:
        return number_words(n) + "th"
    tens, ones = divmod(n, 10)
    if ones == 0:
        return _TENS[tens][:-1] + "ieth"
    return f"{_TENS[tens]} {ordinal_words(ones)}"


def spoken_time(t: time) -> str:
    """9:00 -> "nine", 17:30 -> "five thirty", 7:05 -> "seven oh five", with "a.m."/"p.m."
    only where the hour could be misheard (outside seven in the morning to seven at night)."""
    if t.hour == 12 and t.minute == 0:
        return "noon"
    if t.hour == 0 and t.minute == 0:
        return "midnight"
    hour12 = t.hour % 12 or 12
    words = number_words(hour12)
    if t.minute:
        words += f" oh {number_words(t.minute)}" if t.minute < 10 else f" {number_words(t.minute)}"
    if not 7 <= t.hour < 19:
        words += " a.m." if t.hour < 12 else " p.m."
    return words


def spoken_date(d: date) -> str:
    """"Friday, December twenty sixth" """
    return f"{_WEEKDAYS[d.weekday()]}, {_MONTHS[d.month - 1]} {ordinal_words(d.day)}"


def weekday_name(d: date) -> str:
    return _WEEKDAYS[d.weekday()]


def spoken_unit(unit: str) -> str:
    """"4B" -> "four B", "12" -> "twelve": unit names as a person reads them."""
    def words(match: "re.Match[str]") -> str:
        return number_words(int(match.group(0))) + " "
    spoken = re.sub(r"\d+", words, unit or "").strip()
    return re.sub(r"\s+", " ", spoken)


def join_words(items: "list[str]", conjunction: str = "and") -> str:
    """["a", "b", "c"] -> "a, b and c" """
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def plain_voice(text: str) -> str:
    """Removes what a voice cannot say: markdown marks, emoji, bullets, doubled spaces."""
    text = re.sub(r"[*_`#>]+", "", text)
    text = re.sub(r"[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F]", "", text)
    text = re.sub(r"^\s*[-\u2022]\s+", "", text, flags=re.MULTILINE)
    return re.sub(r"\s+", " ", text).strip()
