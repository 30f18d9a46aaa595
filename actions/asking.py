"""The forms' questions, asked through `say` so a repeated question is worded differently.

Rasa asks for a form's slot with `action_ask_<slot>` when the domain has one. Asking
through our own action means the first time a caller hears the first wording of
`utter_ask_<slot>` and, if the answer did not fit, the next one ("Sorry, is that a yes or
a no?"), rather than Rasa's random pick.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.voice import DomainDict, say


class AskSlotAction(Action, ABC):
    """Asks for `slot` with the domain's utter_ask_<slot> variations, in order.

    Abstract (so rasa-sdk does not register it); each subclass names its slot.
    """

    @property
    @abstractmethod
    def slot(self) -> str:
        """The slot this action asks for."""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say(dispatcher, tracker, domain, f"utter_ask_{self.slot}")
        return []


class ActionAskServiceAddress(AskSlotAction):
    slot = "service_address"


class ActionAskProblem(AskSlotAction):
    slot = "problem"


class ActionAskLocation(AskSlotAction):
    slot = "location"


class ActionAskAccessPermission(AskSlotAction):
    slot = "access_permission"


class ActionAskAccessNotes(AskSlotAction):
    slot = "access_notes"


class ActionAskCallbackNumber(AskSlotAction):
    slot = "callback_number"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not tracker.get_slot("caller_phone"):
            # A hidden caller ID: "this number" would mean nothing.
            say(dispatcher, tracker, domain, "utter_ask_callback_number_hidden")
            return []
        return await super().run(dispatcher, tracker, domain)


class ActionAskContactName(AskSlotAction):
    slot = "contact_name"


class ActionAskMessageReason(AskSlotAction):
    slot = "message_reason"
