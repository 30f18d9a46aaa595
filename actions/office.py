"""The office: hours, address, "are you real?", transfers and after-hours messages."""
from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.call_log import log_call, record_handled
from actions.config import CallSettings
from actions.hours import hours_summary, office_status, when_words
from actions.parsing import callback_number, clean_answer
from actions.records import file_history_for_caller
from actions.api.phones import spoken_digits
from actions.voice import DomainDict, handoff, now, property_file, say, spoken_so_far

logger = logging.getLogger(__name__)


class ActionOfficeHours(Action):
    def name(self) -> Text:
        return "action_office_hours"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        prop, moment = property_file(), now()
        status = office_status(prop, moment).sentence(moment)
        say(dispatcher, tracker, domain, "utter_office_hours", status=status, summary=hours_summary(prop))
        return [record_handled(tracker, "asked for office hours")]


class ActionOfficeAddress(Action):
    def name(self) -> Text:
        return "action_office_address"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        prop = property_file()
        say(dispatcher, tracker, domain, "utter_office_address", address=prop.spoken_address, directions=prop.directions)
        return [record_handled(tracker, "asked for the office address")]


class ActionAreYouReal(Action):
    def name(self) -> Text:
        return "action_are_you_real"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, tracker, domain, "utter_are_you_real")
        return [SlotSet("pending_question", "transfer"), record_handled(tracker, "asked if the assistant is real")]


async def transfer_or_take_message(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, reason: str
) -> List[EventType]:
    """During office hours: hand the call to the office. After hours: offer to take a message."""
    prop, moment = property_file(), now()
    status = office_status(prop, moment)
    # Back from a transfer nobody answered (the phone channel says so): take a message.
    transfer_failed = bool((tracker.latest_message.get("metadata") or {}).get("transfer_failed"))
    if status.is_open and not transfer_failed:
        say(dispatcher, tracker, domain, "utter_transfer")
        number = CallSettings.from_env().transfer_number
        done = f"transferred to the office ({reason})"
        handoff(dispatcher, "transfer", number, reason)
        await log_call(tracker, extra=[done])
        return [SlotSet("office_open", True), SlotSet("pending_question", None), record_handled(tracker, done)]
    if transfer_failed:
        say(dispatcher, tracker, domain, "utter_transfer_failed_take_message")
    else:
        say(dispatcher, tracker, domain, "utter_closed_take_message", status=status.sentence(moment))
    return [SlotSet("office_open", False), SlotSet("pending_question", None), SlotSet("needs_transfer", None),
            record_handled(tracker, f"asked for a person after hours ({reason}); message offered")]


class ActionTransfer(Action):
    def name(self) -> Text:
        return "action_transfer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reason = "caller asked for a person"
        if tracker.get_slot("needs_transfer"):
            reason = "assistant could not help"
        return await transfer_or_take_message(dispatcher, tracker, domain, reason)


class ContactFormValidation(FormValidationAction, ABC):
    """The contact answers several forms ask for: a name and a callback number.

    Abstract, so rasa-sdk does not register it as an action of its own.
    """

    @abstractmethod
    def name(self) -> Text:
        """The form's validation action name."""

    def validate_contact_name(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> Dict[Text, Any]:
        return {"contact_name": person_name(str(value or ""))}

    def validate_callback_number(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        return {"callback_number": callback_number(str(value or ""), tracker.get_slot("caller_phone"))}


class ValidateMessageForm(ContactFormValidation):
    def name(self) -> Text:
        return "validate_message_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: DomainDict) -> List[Text]:
        if tracker.get_slot("caller_first_name"):
            return [slot for slot in domain_slots if slot != "contact_name"]
        return domain_slots

    def validate_message_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[Text, Any]:
        reason = clean_answer(str(value or ""))
        return {"message_reason": reason or None}


def person_name(text: str) -> Optional[str]:
    """"um my name is Joe Smith" -> "Joe Smith"; None when nothing like a name is left."""
    cleaned = clean_answer(text)
    cleaned = re.sub(r"^(my name is|my name's|this is|it's|it is|i'm|i am|name is|yeah|yes|sure)\s+", "",
                     cleaned, flags=re.IGNORECASE)
    cleaned = re.sub(r"[^A-Za-z' -]", "", cleaned).strip()
    if not cleaned or len(cleaned.split()) > 5:
        return None
    return " ".join(word.capitalize() for word in cleaned.split())


class ActionFileMessage(Action):
    """Files the after-hours message as a history note on the tenant or prospect."""

    def name(self) -> Text:
        return "action_file_message"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        prop, moment = property_file(), now()
        name = tracker.get_slot("contact_name") or tracker.get_slot("caller_first_name") or "Caller"
        number = tracker.get_slot("callback_number") or tracker.get_slot("caller_phone") or ""
        reason = tracker.get_slot("message_reason") or ""
        note = (f"Message taken by the phone assistant after hours. From: {name}. "
                f"Call back: {number}. Message: {reason}")
        reference = await file_history_for_caller(tracker, note, name=name, suffix="MSG")
        status = office_status(prop, moment)
        when = f"when we open {when_words(status.opens_at, moment)}" if status.opens_at else "soon"
        say(dispatcher, tracker, domain, "utter_message_taken", name=name.split()[0],
            number=spoken_digits(number) if number else "the number you gave", when=when)
        return [SlotSet("filed_reference", reference), record_handled(tracker, f"took a message ({reference})")]


class ActionThank(Action):
    def name(self) -> Text:
        return "action_thank"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        spoken = spoken_so_far(tracker)
        say(dispatcher, tracker, domain, "utter_you_are_welcome", _spoken=spoken)
        say(dispatcher, tracker, domain, "utter_anything_else", _spoken=spoken)
        return []


class ActionDecline(Action):
    """The caller said no to an offer (a transfer, a tour): fine, what else?"""

    def name(self) -> Text:
        return "action_decline"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        spoken = spoken_so_far(tracker)
        say(dispatcher, tracker, domain, "utter_decline_ok", _spoken=spoken)
        say(dispatcher, tracker, domain, "utter_anything_else", _spoken=spoken)
        return [SlotSet("pending_question", None)]


class ActionGoodbye(Action):
    def name(self) -> Text:
        return "action_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, tracker, domain, "utter_goodbye")
        handoff(dispatcher, "hangup", reason="caller said goodbye")
        await log_call(tracker)
        return []

