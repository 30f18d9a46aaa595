"""Phone numbers as people and systems write them, reduced to one comparable form.

Twilio sends E.164 ("+17185550134"); Rent Manager stores whatever the office typed
("(718) 555-0134", "718.555.0134"). Both reduce to the ten NANP digits.
"""
from __future__ import annotations

import re
from typing import Optional

_NON_DIGITS = re.compile(r"\D+")


def phone_key(raw: Optional[str]) -> Optional[str]:
    """The ten-digit key of a North American number, or the bare digits of any other.

    Returns None when there are too few digits to be a phone number (an extension, junk).
    """
    if not raw:
        return None
    digits = _NON_DIGITS.sub("", raw)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) < 7:
        return None
    return digits


def spoken_digits(raw: str) -> str:
    """A number written to be read aloud: "7 1 8, 5 5 5, 0 1 3 4"."""
    key = phone_key(raw) or _NON_DIGITS.sub("", raw)
    if len(key) == 10:
        groups = [key[:3], key[3:6], key[6:]]
    else:
        groups = [key]
    return ", ".join(" ".join(group) for group in groups)


def e164(raw: str) -> Optional[str]:
    """+1XXXXXXXXXX for a ten-digit US number, else None."""
    key = phone_key(raw)
    if key and len(key) == 10:
        return "+1" + key
    return None
