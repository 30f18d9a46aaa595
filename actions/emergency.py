"""Emergencies: safety first, then an emergency work order, then the on-call person.

What kind of emergency it is decides the safety words (gas, fire, smoke, CO: leave and
call 911). spaCy's rule-based PhraseMatcher over a blank English tokenizer finds the
hazard in the caller's words; it runs offline, with no model to download.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.call_log import log_call, record_handled
from actions.config import CallSettings
from actions.maintenance import issue_payload
from actions.records import call_reference
from actions.services import get_services
from actions.voice import DomainDict, handoff, property_file, say

logger = logging.getLogger(__name__)

# Hazard kinds, most dangerous first: the first kind found in the words wins.
HAZARDS: Tuple[Tuple[str, Tuple[str, ...]], ...] = (
    ("co", ("carbon monoxide", "co alarm", "co detector", "c o alarm", "monoxide")),
    ("gas", ("gas", "rotten eggs", "rotten egg")),
    ("fire", ("fire", "flames", "smoke", "smoking", "burning", "on fire")),
    ("electrical", ("sparks", "sparking", "spark", "outlet", "wiring", "electrical", "shock", "breaker")),
    ("water", ("flood", "flooding", "flooded", "burst", "pouring", "ceiling", "overflowing", "sewage",
               "sewer", "water everywhere", "leak", "leaking", "water")),
    ("heat", ("no heat", "heat", "boiler", "freezing", "heating")),
    ("security", ("break in", "broke in", "broken into", "burglar", "won't lock", "can't lock", "cannot lock",
                  "door", "window", "lock")),
    ("power", ("no power", "power", "electricity", "blackout")),
)
SAFETY_RESPONSE = {
    "gas": "utter_emergency_safety_gas",
    "fire": "utter_emergency_safety_fire",
    "co": "utter_emergency_safety_co",
    "electrical": "utter_emergency_safety_electrical",
    "water": "utter_emergency_safety_water",
}
TITLES = {
    "co": "Carbon monoxide alarm", "gas": "Gas smell", "fire": "Fire or smoke", "electrical": "Electrical hazard",
    "water": "Flooding or major leak", "heat": "No heat", "security": "Unit cannot be secured", "power": "No power",
}


@lru_cache(maxsize=1)
def _matcher():
    import spacy
    from spacy.matcher import PhraseMatcher

    nlp = spacy.blank("en")
    matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
    for kind, phrases in HAZARDS:
        matcher.add(kind, [nlp.make_doc(phrase) for phrase in phrases])
    return nlp, matcher


def hazard_kind(text: str) -> Optional[str]:
    """The most dangerous hazard named in the text, or None."""
    nlp, matcher = _matcher()
    doc = nlp.make_doc(text or "")
    found = {nlp.vocab.strings[match_id] for match_id, _, _ in matcher(doc)}
    for kind, _ in HAZARDS:
        if kind in found:
            return kind
    return None


def emergency_text(tracker: Tracker) -> str:
    """The caller's words that reported the emergency (the latest report_emergency turn)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if (event.get("parse_data") or {}).get("intent", {}).get("name") == "report_emergency":
                return event.get("text") or ""
    return tracker.latest_message.get("text") or ""


async def handle_emergency(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
    text = emergency_text(tracker)
    kind = hazard_kind(text)
    spoken = set()
    if kind in SAFETY_RESPONSE:
        say(dispatcher, tracker, domain, SAFETY_RESPONSE[kind], _spoken=spoken)
    prop = property_file()
    unit = tracker.get_slot("unit_name")
    title = f"EMERGENCY: {TITLES.get(kind or '', 'Emergency')}" + (f" in unit {unit}" if unit else "")
    description = (
        f"Emergency reported by phone to the virtual assistant: {text}\n"
        f"Callback number: {tracker.get_slot('callback_number') or tracker.get_slot('caller_phone') or 'unknown'}\n"
        f"The caller was transferred to the on-call number."
    )
    reference = call_reference(tracker, "EMERG")
    try:
        entry = await get_services().outbox.submit(
            "service_issue", issue_payload(tracker, True, title, description), reference=reference, wait=1.5
        )
        logger.info("emergency.recorded kind=%s reference=%s status=%s", kind, entry.reference, entry.status)
    except Exception:  # the transfer matters more than the record; the log says what failed
        logger.exception("emergency.record_failed kind=%s", kind)
    say(dispatcher, tracker, domain, "utter_emergency_recorded", _spoken=spoken, next_steps=prop.emergency_next_steps)
    handled = f"emergency ({kind or 'unspecified'}) recorded as {reference} and transferred to on-call"
    handoff(dispatcher, "transfer", CallSettings.from_env().oncall_number, f"emergency: {kind or 'unspecified'}")
    await log_call(tracker, extra=[handled])
    return [SlotSet("emergency_kind", kind), SlotSet("filed_reference", reference),
            record_handled(tracker, handled), SlotSet("pending_question", None)]


class ActionHandleEmergency(Action):
    def name(self) -> Text:
        return "action_handle_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[Dict]:
        return await handle_emergency(dispatcher, tracker, domain)
