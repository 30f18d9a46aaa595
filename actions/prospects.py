"""Prospects: what is available, the facts of the property file, and a tour or a callback."""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.call_log import record_handled
from actions.facts import find_fact
from actions.fallback import offer_help, say_fact
from actions.hours import office_status, when_words
from actions.office import ContactFormValidation
from actions.records import file_history_for_caller
from actions.services import get_services
from actions.api.phones import spoken_digits
from actions.speech import join_words, number_words
from actions.voice import DomainDict, now, property_file, say

logger = logging.getLogger(__name__)
AVAILABILITY_BUDGET_SECONDS = 2.5


def describe_units(units: List[Dict[str, Any]], property_names: Dict[int, str]) -> List[str]:
    """"two two-bedrooms at Port Richmond Commons" style phrases, grouped."""
    groups = Counter()
    for unit in units:
        beds = int(unit.get("Bedrooms") or 0)
        kind = "studio" if beds == 0 else f"{number_words(beds)} bedroom"
        groups[(kind, property_names.get(unit.get("PropertyID"), "one of our buildings"))] += 1
    phrases = []
    for (kind, place), count in sorted(groups.items()):
        if count == 1:
            phrases.append(f"a {kind} at {place}")
        else:
            phrases.append(f"{number_words(count)} {kind} apartments at {place}")
    return phrases


class ActionAvailability(Action):
    def name(self) -> Text:
        return "action_availability"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        client = get_services().rentmanager
        try:
            units, properties = await asyncio.wait_for(
                asyncio.gather(client.vacant_units(), client.list_all("Properties")), AVAILABILITY_BUDGET_SECONDS
            )
        except Exception as exc:
            logger.warning("availability.lookup_failed error=%s", type(exc).__name__)
            say(dispatcher, tracker, domain, "utter_no_availability")
            return [SlotSet("pending_question", "tour"), record_handled(tracker, "asked about availability (lookup failed)")]
        if not units:
            say(dispatcher, tracker, domain, "utter_no_availability")
        else:
            names = {p["PropertyID"]: p.get("Name", "") for p in properties}
            count = f"{number_words(len(units))} apartment{'s' if len(units) != 1 else ''}"
            say(dispatcher, tracker, domain, "utter_availability", count=count,
                units=join_words(describe_units(units, names)))
        return [SlotSet("pending_question", "tour"), record_handled(tracker, "asked about availability")]


class ValidateTourForm(ContactFormValidation):
    def name(self) -> Text:
        return "validate_tour_form"


class ActionRecordProspect(Action):
    """Records the prospect (new or on file) and a note asking leasing to call back."""

    def name(self) -> Text:
        return "action_record_prospect"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        name = tracker.get_slot("contact_name") or tracker.get_slot("caller_first_name") or "there"
        number = tracker.get_slot("callback_number") or tracker.get_slot("caller_phone") or ""
        note = f"Tour or callback requested by phone. Name: {name}. Call back: {number}."
        reference = await file_history_for_caller(tracker, note, name=name, suffix="TOUR")
        status = office_status(property_file(), now())
        moment = now()
        when = "today" if status.is_open else (f"{when_words(status.opens_at, moment).split(' at ')[0]}" if status.opens_at else "soon")
        say(dispatcher, tracker, domain, "utter_tour_recorded", name=name.split()[0],
            number=spoken_digits(number) if number else "the number you gave", when=when)
        return [SlotSet("pending_question", None), SlotSet("filed_reference", reference),
                record_handled(tracker, f"tour or callback requested ({reference})")]


class ActionPropertyFact(Action):
    def name(self) -> Text:
        return "action_property_fact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        topic = next(tracker.get_latest_entity_values("topic"), None)
        fact = find_fact(property_file(), tracker.latest_message.get("text") or "", topic)
        if fact is None:
            return await offer_help(dispatcher, tracker, domain, may_hand_over=False)
        say_fact(dispatcher, tracker, domain, fact.answer)
        return [record_handled(tracker, f"asked about {fact.topic}")]
