"""Maintenance requests: the form that gathers a work order, the read-back, and the filing.

The form asks what is wrong, where, whether the team may enter, pets or access notes, and
the best callback number; then the assistant reads back one sentence and asks to confirm.
"No" lets the caller correct any part; "yes" records the request in the outbox, which
files it in Rent Manager as a service issue (now, or as soon as Rent Manager answers).
"""
from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.call_log import record_handled
from actions.office import ContactFormValidation
from actions.parsing import callback_number, clean_answer, yes_or_no
from actions.records import call_reference
from actions.services import get_services
from actions.api.phones import spoken_digits
from actions.speech import spoken_unit
from actions.voice import DomainDict, property_file, say

logger = logging.getLogger(__name__)

_GENERIC = re.compile(
    r"\b(i|i'd|would|like|want|need|to|a|an|the|my|report|put in|make|file|submit|have|got|there's|there is|"
    r"maintenance|repair|repairs|request|work order|problem|issue|something|broken|fixed|fix|help|with|in|"
    r"apartment|unit|um|uh|hi|hello|yes|yeah|so|please|can|you|someone|somebody|come|out|look|at|it|is|"
    r"for|me|of|and|about|calling|call|i'm|im)\b"
)
_NONE = re.compile(r"^(no|nope|nothing|none|no thanks|that's it|thats it|nah|not really|no pets)\b")


def describes_problem(text: str) -> bool:
    """True when the words say what is wrong, not just "I have a maintenance request"."""
    remainder = _GENERIC.sub(" ", clean_answer(text).lower())
    return len(re.findall(r"[a-z]{3,}", remainder)) >= 1


def summary(tracker: Tracker) -> str:
    """A few short sentences a caller can confirm: what, where, access, notes, callback."""
    problem = clean_answer(tracker.get_slot("problem") or "the problem you described").rstrip(".")
    location = tracker.get_slot("location")
    unit = tracker.get_slot("unit_name")
    place = tracker.get_slot("service_address") or (f"apartment {spoken_unit(unit)}" if unit else "")
    sentences = [problem[0].upper() + problem[1:] + "."]
    if location or place:
        room = f"the {location.lower().removeprefix('the ')}" if location else ""
        sentences.append(f"That's in {room}{' of ' if room and place else ''}{place}.")
    if tracker.get_slot("access_permission"):
        sentences.append("The team may let themselves in.")
    else:
        sentences.append("The team will call before coming in.")
    notes = tracker.get_slot("access_notes")
    if notes and notes.lower() != "none":
        sentences.append(f"Your note for them: {notes.rstrip('.')}.")
    number = tracker.get_slot("callback_number")
    if number:
        sentences.append(f"We'll call you at {spoken_digits(number)}.")
    return " ".join(sentences)


class ValidateMaintenanceForm(ContactFormValidation):
    def name(self) -> Text:
        return "validate_maintenance_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("caller_type") == "tenant":
            return [slot for slot in domain_slots if slot != "service_address"]
        return domain_slots

    def validate_service_address(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        text = clean_answer(str(value or ""))
        return {"service_address": text if re.search(r"\d|\b(one|two|three|four|five|six|seven|eight|nine)\b", text.lower()) else None}

    def validate_problem(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                         domain: DomainDict) -> Dict[Text, Any]:
        text = str(value or "")
        if tracker.get_slot("fixture") or describes_problem(text):
            return {"problem": clean_answer(text)}
        return {"problem": None}

    def validate_location(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> Dict[Text, Any]:
        text = clean_answer(str(value or ""))
        return {"location": text or None}

    def validate_access_permission(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[Text, Any]:
        if isinstance(value, bool):
            return {"access_permission": value}
        answer = yes_or_no(str(value or ""), tracker.latest_message.get("intent", {}).get("name"))
        return {"access_permission": answer}

    def validate_access_notes(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        text = clean_answer(str(value or ""))
        intent = tracker.latest_message.get("intent", {}).get("name")
        if not text or intent == "deny" or _NONE.match(text.lower()):
            return {"access_notes": "none"}
        return {"access_notes": text}



class ActionConfirmRequest(Action):
    """Reads the request back in one sentence and asks the caller to confirm."""

    def name(self) -> Text:
        return "action_confirm_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, tracker, domain, "utter_confirm_request", summary=summary(tracker))
        return [SlotSet("pending_question", "confirm_request")]


def _swap(problem: str, old: Any, new: str) -> str:
    """The problem text with one word replaced ("kitchen sink" -> "bathroom sink")."""
    if old and re.search(rf"\b{re.escape(str(old))}\b", problem, flags=re.I):
        return re.sub(rf"\b{re.escape(str(old))}\b", new, problem, count=1, flags=re.I)
    return problem


def correction_events(tracker: Tracker) -> List[EventType]:
    """Slot changes the caller's latest words make to the request (entities, a number, access)."""
    message = tracker.latest_message
    text = message.get("text") or ""
    events: List[EventType] = []
    entities = {e.get("entity"): e.get("value") for e in message.get("entities", [])}
    problem = tracker.get_slot("problem") or ""
    new_problem = problem
    new_location, new_fixture = entities.get("location"), entities.get("fixture")
    if new_location and new_location != tracker.get_slot("location"):
        events.append(SlotSet("location", new_location))
        new_problem = _swap(new_problem, tracker.get_slot("location"), new_location)
    if new_fixture and new_fixture != tracker.get_slot("fixture"):
        events.append(SlotSet("fixture", new_fixture))
        swapped = _swap(new_problem, tracker.get_slot("fixture"), new_fixture)
        new_problem = swapped if swapped != new_problem else clean_answer(re.sub(r"^(no|nope)[, ]+", "", text, flags=re.I))
    if new_problem != problem:
        events.append(SlotSet("problem", new_problem))
    number = callback_number(text, None)
    if number:
        events.append(SlotSet("callback_number", number))
    lowered = text.lower()
    if re.search(r"\b(let (yourselves|them|themselves) in|enter|come in|go in|key)\b", lowered):
        events.append(SlotSet("access_permission", not re.search(r"\b(don'?t|do not|not|no)\b", lowered)))
    return events


class ActionCorrectRequest(Action):
    """The caller said the read-back was wrong: apply what they said, or ask what to change."""

    def name(self) -> Text:
        return "action_correct_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = correction_events(tracker)
        if not events and tracker.get_slot("pending_question") == "correction":
            text = clean_answer(tracker.latest_message.get("text") or "")
            if describes_problem(text):
                events = [SlotSet("problem", text)]
        if not events:
            say(dispatcher, tracker, domain, "utter_ask_correction")
            return [SlotSet("pending_question", "correction")]
        for event in events:
            tracker.slots[event["name"]] = event["value"]
        say(dispatcher, tracker, domain, "utter_confirm_corrected", summary=summary(tracker))
        return [*events, SlotSet("pending_question", "confirm_request")]


def issue_payload(tracker: Tracker, emergency: bool, title: str, description: str) -> Dict[str, Any]:
    prop = property_file()
    fixture, problem = tracker.get_slot("fixture"), tracker.get_slot("problem")
    category = prop.emergency_category if emergency else prop.category_for(fixture, problem)
    return {
        "title": title[:100],
        "description": description,
        "category": category,
        "priority": prop.emergency_priority if emergency else prop.normal_priority,
        "tenant_id": tracker.get_slot("tenant_id"),
        "unit_id": tracker.get_slot("unit_id"),
        "property_id": tracker.get_slot("property_id"),
    }


def work_order_description(tracker: Tracker) -> str:
    lines = [
        f"Reported by phone to the virtual assistant: {tracker.get_slot('problem') or 'see title'}",
        f"Location: {tracker.get_slot('location') or 'not given'}",
        f"Address given by caller: {tracker.get_slot('service_address')}" if tracker.get_slot("service_address") else "",
        f"Permission to enter: {'yes' if tracker.get_slot('access_permission') else 'no, call first'}",
        f"Pets / access notes: {tracker.get_slot('access_notes') or 'none'}",
        f"Callback number: {tracker.get_slot('callback_number') or tracker.get_slot('caller_phone') or 'unknown'}",
    ]
    return "\n".join(line for line in lines if line)


class ActionFileMaintenance(Action):
    """Records the confirmed request; it reaches Rent Manager now or as soon as it can."""

    def name(self) -> Text:
        return "action_file_maintenance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        problem = clean_answer(tracker.get_slot("problem") or "Maintenance request")
        location = tracker.get_slot("location")
        title = f"{problem[:70]}{f' ({location})' if location else ''}"
        payload = issue_payload(tracker, False, title, work_order_description(tracker))
        entry = await get_services().outbox.submit(
            "service_issue", payload, reference=call_reference(tracker, f"WO{_request_number(tracker)}"), wait=2.0
        )
        logger.info("maintenance.recorded reference=%s status=%s", entry.reference, entry.status)
        name = tracker.get_slot("caller_first_name") or tracker.get_slot("contact_name") or "so much"
        say(dispatcher, tracker, domain, "utter_request_filed", name=name, next_steps=property_file().next_steps)
        return [
            SlotSet("filed_reference", entry.reference),
            SlotSet("pending_question", None),
            record_handled(tracker, f"maintenance request recorded: {title} ({entry.reference})"),
        ]


def _request_number(tracker: Tracker) -> int:
    """1 for the call's first request, 2 for a second one, so each gets its own reference."""
    handled = tracker.get_slot("handled") or []
    return 1 + sum(1 for item in handled if item.startswith("maintenance request recorded"))

