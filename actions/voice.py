"""How the assistant speaks: domain responses filled with facts, never the same words twice.

Designers write each response in domain.yml with variations; `say` picks the first
variation whose filled-in text has not yet been spoken in this call, so a caller who asks
twice hears "Again, that's..." rather than the identical sentence. Text is cleaned for a
voice (no markdown, no emoji).
"""
from __future__ import annotations

import logging
import os
from datetime import datetime, timezone
from functools import lru_cache
from string import Formatter
from typing import Any, Dict, List, Optional, Set

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.property import Property, load_property
from actions.speech import plain_voice

logger = logging.getLogger(__name__)
DomainDict = Dict[str, Any]


@lru_cache(maxsize=1)
def property_file() -> Property:
    """The property file, read on first use (a bad file fails the first action loudly)."""
    return load_property()


def now() -> datetime:
    """The current instant; ASSISTANT_CLOCK (an ISO time) pins it for QA and demos."""
    pinned = os.environ.get("ASSISTANT_CLOCK", "").strip()
    if pinned:
        moment = datetime.fromisoformat(pinned)
        return moment if moment.tzinfo else moment.replace(tzinfo=property_file().timezone)
    return datetime.now(timezone.utc)


def spoken_so_far(tracker: Tracker) -> Set[str]:
    return {event.get("text") for event in tracker.events if event.get("event") == "bot" and event.get("text")}


def fill(template: str, values: Dict[str, Any]) -> str:
    """Fills {placeholders}; a missing one is left out rather than read aloud as "None"."""
    names = {name for _, name, _, _ in Formatter().parse(template) if name}
    safe = {name: "" if values.get(name) is None else values[name] for name in names}
    return plain_voice(template.format(**safe))


def variations(domain: DomainDict, response: str) -> List[str]:
    found = [v.get("text", "") for v in domain.get("responses", {}).get(response, []) if v.get("text")]
    if not found:
        raise KeyError(f"domain.yml has no text response named {response!r}")
    return found


def choose(domain: DomainDict, response: str, spoken: Set[str], values: Dict[str, Any]) -> str:
    """The first variation not yet spoken in this call; the last one if all have been."""
    options = [fill(text, values) for text in variations(domain, response)]
    for text in options:
        if text not in spoken:
            return text
    return options[-1]


def say(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    response: str,
    _spoken: Optional[Set[str]] = None,
    **values: Any,
) -> str:
    """Utters `response` filled with the property file's common facts and `values`."""
    prop = property_file()
    base = {
        "company": prop.spoken_name,
        "persona": prop.persona_name,
        "staff": prop.staff_names,
        "first_name": tracker.get_slot("caller_first_name"),
    }
    base.update(values)
    spoken = _spoken if _spoken is not None else spoken_so_far(tracker)
    text = choose(domain, response, spoken, base)
    spoken.add(text)
    dispatcher.utter_message(text=text)
    return text


def handoff(dispatcher: CollectingDispatcher, action: str, number: Optional[str] = None, reason: str = "") -> None:
    """Tells the phone channel to end the conversation: transfer to `number`, or hang up.

    A custom payload, so text channels (REST, shell) show it and the Twilio channel acts on it.
    """
    payload: Dict[str, Any] = {"action": action, "reason": reason}
    if number:
        payload["number"] = number
    dispatcher.utter_message(json_message={"handoff": payload})
