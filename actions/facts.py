"""Finding the property-file fact a caller asked about, by topic, keyword or near-miss spelling.

Speech-to-text mangles words ("parkin", "laundary"), so single words are also compared
with difflib's close matches. Used by the fact intent and by the fallback.
"""
from __future__ import annotations

import difflib
import re
from typing import Optional

from actions.property import Fact, Property

FUZZY_CUTOFF = 0.9  # "parkin" -> parking (0.92), but not "delivers" -> delivery (0.875)


def find_fact(prop: Property, text: str, topic: Optional[str] = None) -> Optional[Fact]:
    """The fact for `topic` if the file has it, else the first fact whose keyword the text names."""
    if topic and topic in prop.facts:
        return prop.facts[topic]
    lowered = (text or "").lower()
    words = re.findall(r"[a-z']+", lowered)
    for fact in prop.facts.values():
        for keyword in fact.keywords:
            if re.search(rf"\b{re.escape(keyword)}\b", lowered):
                return fact
    single = {keyword: fact for fact in prop.facts.values() for keyword in fact.keywords if " " not in keyword}
    for word in words:
        if len(word) < 4:
            continue
        close = difflib.get_close_matches(word, list(single), n=1, cutoff=FUZZY_CUTOFF)
        if close:
            return single[close[0]]
    return None
