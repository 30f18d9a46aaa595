"""Who is calling: identified once at the start of the call, greeted by name.

The channel (Twilio, REST, the shell) puts the caller's number in the message metadata
as `caller_number`; the session start looks it up in Rent Manager's tenant directory. A
tenant's name, unit and property become slots for the rest of the call; any other number
is a prospect. Rent Manager being down makes the caller a prospect, never a dead call.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.directory import Caller
from actions.services import get_services
from actions.voice import DomainDict, say

logger = logging.getLogger(__name__)
LOOKUP_BUDGET_SECONDS = 2.0
CARRIED_SLOTS = ("caller_phone", "caller_type", "caller_first_name", "tenant_id", "unit_id", "unit_name",
                 "property_id", "property_name")


def caller_number(tracker: Tracker) -> Optional[str]:
    """The caller's number from the session or latest message metadata, if the channel gave one."""
    for metadata in (tracker.get_slot("session_started_metadata"), tracker.latest_message.get("metadata")):
        if isinstance(metadata, dict):
            number = metadata.get("caller_number") or metadata.get("from")
            if number:
                return str(number)
    return None


def caller_slots(phone: Optional[str], tenant: Optional[Caller]) -> List[EventType]:
    if tenant is None:
        return [SlotSet("caller_phone", phone), SlotSet("caller_type", "prospect")]
    return [
        SlotSet("caller_phone", phone),
        SlotSet("caller_type", "tenant"),
        SlotSet("caller_first_name", tenant.first_name or None),
        SlotSet("tenant_id", tenant.tenant_id),
        SlotSet("unit_id", tenant.unit_id),
        SlotSet("unit_name", tenant.unit_name or None),
        SlotSet("property_id", tenant.property_id),
        SlotSet("property_name", tenant.property_name or None),
    ]


async def identify(phone: Optional[str]) -> Optional[Caller]:
    """The tenant with this number, or None; bounded in time so the greeting is never late."""
    if not phone:
        return None
    try:
        return await asyncio.wait_for(get_services().directory.find_tenant(phone), LOOKUP_BUDGET_SECONDS)
    except Exception as exc:  # Rent Manager down or slow: greet as a prospect, carry on
        logger.warning("caller.lookup_failed error=%s", type(exc).__name__)
        return None


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        phone = caller_number(tracker)
        tenant = await identify(phone)
        logger.info("caller.identified type=%s", "tenant" if tenant else "prospect")
        return [SessionStarted(), *caller_slots(phone, tenant), ActionExecuted("action_listen")]


class ActionGreet(Action):
    """Greets the caller by first name when known; a second hello gets a short reply."""

    def name(self) -> Text:
        return "action_greet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Dict[Text, Any]]:
        if tracker.get_slot("greeted"):
            say(dispatcher, tracker, domain, "utter_greet_again")
            return []
        if tracker.get_slot("caller_type") == "tenant" and tracker.get_slot("caller_first_name"):
            say(dispatcher, tracker, domain, "utter_greet_tenant")
        else:
            say(dispatcher, tracker, domain, "utter_greet_prospect")
        return [SlotSet("greeted", True)]
