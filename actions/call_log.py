"""The call log: one Rent Manager history note per call, saying who called and what was done.

Actions append what they did to the `handled` slot as they go. The note is written when
the call ends (goodbye, transfer, or the phone channel's hang-up running
`action_log_call`); its outbox reference is derived from the conversation id, so however
many of those happen, the call is logged once.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.records import call_reference, file_history_for_caller
from actions.voice import DomainDict, now, property_file

logger = logging.getLogger(__name__)


def record_handled(tracker: Tracker, what: str) -> Dict[str, Any]:
    """A SlotSet event adding `what` to the list of things done in this call."""
    handled = list(tracker.get_slot("handled") or [])
    handled.append(what)
    return SlotSet("handled", handled)


def call_note(tracker: Tracker, extra: Optional[List[str]] = None) -> str:
    prop = property_file()
    local = now().astimezone(prop.timezone)
    who = tracker.get_slot("caller_first_name")
    if tracker.get_slot("caller_type") == "tenant":
        unit = tracker.get_slot("unit_name")
        caller = f"tenant {who or ''}{f' (unit {unit})' if unit else ''}".replace("  ", " ")
    else:
        caller = f"prospect or unknown caller {tracker.get_slot('contact_name') or ''}".strip()
    handled = list(tracker.get_slot("handled") or []) + list(extra or [])
    done = "; ".join(dict.fromkeys(handled)) or "no request made"
    return (
        f"Phone call handled by the virtual assistant {prop.persona_name} on "
        f"{local:%Y-%m-%d at %H:%M %Z}. Caller: {caller}, from {tracker.get_slot('caller_phone') or 'a hidden number'}. "
        f"What happened: {done}."
    )


async def log_call(tracker: Tracker, extra: Optional[List[str]] = None) -> Optional[str]:
    """Records the call log in the outbox (never raises: the caller must not notice)."""
    try:
        return await file_history_for_caller(
            tracker, call_note(tracker, extra), name=tracker.get_slot("contact_name"),
            reference=call_reference(tracker), wait=0.5,
        )
    except Exception:
        logger.exception("call_log.failed")
        return None


class ActionLogCall(Action):
    """Run by the phone channel when a call ends without a goodbye or a transfer."""

    def name(self) -> Text:
        return "action_log_call"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        await log_call(tracker)
        return []
