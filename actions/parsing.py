"""Reading callers' answers as speech-to-text delivers them; pure functions, tested alone."""
from __future__ import annotations

import re
from typing import Optional

from actions.api.phones import phone_key

_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "to": "2", "too": "2", "three": "3",
    "four": "4", "for": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
_MULTIPLIERS = {"double": 2, "triple": 3}
_SAME_NUMBER = re.compile(
    r"\b(this|same|the one i'?m calling (from|on)|my cell|calling from|number you have|that one|current)\b"
)
_YES = re.compile(r"\b(yes|yeah|yep|yup|sure|ok|okay|of course|absolutely|that'?s fine|go ahead|fine|correct|please do)\b")
# permission given as an access note ("you can go in if i'm not home, the super has a key"): a yes, even with
# "not" in it, unless the caller also refuses
_PERMIT = re.compile(r"\b(you (can|may) (go|come) in|let (yourself|yourselves|themselves) in|(have|has) my permission"
                     r"|use the master key|with the master key)\b")
_REFUSE = re.compile(r"\b(can'?t|cannot|unless i'?m (home|there)|only when i'?m home|call me first|rather you didn'?t)\b")
_NO = re.compile(r"\b(no|nope|nah|don'?t|do not|not)\b|" + _REFUSE.pattern)


def digits_from_speech(text: str) -> str:
    """All digits spoken or typed in the text, in order ("seven one eight" -> "718")."""
    digits = []
    repeat = 1
    for token in re.findall(r"[a-z]+|\d+", text.lower()):
        if token in _MULTIPLIERS:
            repeat = _MULTIPLIERS[token]
            continue
        if token.isdigit():
            digits.append(token[0] * repeat + token[1:])
        elif token in _DIGIT_WORDS:
            digits.append(_DIGIT_WORDS[token] * repeat)
        repeat = 1
    return "".join(digits)


def callback_number(text: str, caller_number: Optional[str]) -> Optional[str]:
    """The callback number a caller gave: ten digits, or the number they call from when
    they say "this number" or just "yes"; None when it cannot be a phone number."""
    lowered = text.lower().strip()
    if caller_number and (_SAME_NUMBER.search(lowered) or _YES.fullmatch(lowered.strip(" .!"))):
        return phone_key(caller_number)
    key = phone_key(digits_from_speech(lowered))
    if key and len(key) == 10:
        return key
    return None


def yes_or_no(text: str, intent: Optional[str] = None) -> Optional[bool]:
    """True for yes, False for no, None when the answer is neither."""
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    lowered = text.lower()
    if _PERMIT.search(lowered) and not _REFUSE.search(lowered):
        return True
    if _NO.search(lowered):
        return False
    if _YES.search(lowered):
        return True
    return None


def clean_answer(text: str) -> str:
    """A caller's words without fillers, for a summary or a work order."""
    text = re.sub(r"\b(um+|uh+|erm|like|you know|i mean)\b[,]?", " ", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip(" ,.")
