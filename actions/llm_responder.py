"""Free-form answers from the LLM, inside the one fallback action.

The dialogue stays in Rasa's hands: a tool call becomes the matching Rasa event (a
followup action for the maintenance form or office hours, the pending question for a
transfer offer), never a side channel. On a live relay call the answer reaches the caller
sentence by sentence through the phone channel's push route, after a short filler.
Returns None when the LLM gives no usable answer, so the deterministic fallback speaks.
"""
from __future__ import annotations

import logging
import re
from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.api.llm import LLMReply, LLMUnavailable
from actions.call_log import record_handled
from actions.llm_prompt import TOOLS, build_messages
from actions.services import get_services
from actions.speech import plain_voice
from actions.voice import DomainDict, now, property_file, say

logger = logging.getLogger(__name__)
FILLER = "Let me think about that."
_PHONE_LIKE = re.compile(r"(?:\+?\d[\s().-]*){7,}")


def safe_sentence(sentence: str) -> Optional[str]:
    """A sentence fit to be spoken: plain text, no phone numbers (those come from configuration)."""
    text = plain_voice(sentence)
    if not text or _PHONE_LIKE.search(text):
        return None
    return text


def live_call(tracker: Tracker) -> Optional[str]:
    """The CallSid when this conversation is a ConversationRelay call that pushes can reach."""
    metadata = tracker.latest_message.get("metadata") or {}
    if metadata.get("channel_mode") == "relay" and metadata.get("call_sid"):
        return str(metadata["call_sid"])
    return None


async def answer(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Optional[List[EventType]]:
    services = get_services()
    llm, pusher = services.llm, services.pusher
    if not llm.available():
        return None
    call_sid = live_call(tracker) if pusher.enabled else None
    pushed = bool(call_sid) and await pusher.push(call_sid, FILLER)
    spoken: List[str] = []

    async def speak(sentence: str) -> None:
        text = safe_sentence(sentence)
        if text is None:
            logger.warning("llm.sentence_dropped reason=unsafe")
            return
        spoken.append(text)
        if pushed:
            await pusher.push(call_sid, text)

    prop = property_file()
    try:
        reply: LLMReply = await llm.reply(build_messages(prop, tracker, now()), TOOLS, on_sentence=speak)
    except LLMUnavailable as exc:
        logger.info("llm.unavailable state=%s", exc.state)
        return None
    logger.info("llm.answered first_sentence_ms=%s tool=%s", round(reply.first_sentence_ms or 0),
                reply.tool_call.name if reply.tool_call else None)
    text = " ".join(spoken)
    events: List[EventType] = [SlotSet("needs_transfer", False), SlotSet("failed_attempts", 0)]
    tool = reply.tool_call.name if reply.tool_call else None
    if tool == "start_maintenance_request":
        problem = str(reply.tool_call.arguments.get("problem") or tracker.latest_message.get("text") or "")
        events += [SlotSet("problem", problem), FollowupAction("maintenance_form")]
    elif tool == "get_office_hours":
        events.append(FollowupAction("action_office_hours"))
    elif tool == "offer_transfer":
        if not text:
            say(dispatcher, tracker, domain, "utter_fallback_offer_transfer")
        events.append(SlotSet("pending_question", "transfer"))
    elif not text:
        return None  # nothing usable: the deterministic fallback answers
    if text:
        # Already spoken on a live call: the channel records it without saying it twice.
        dispatcher.utter_message(text=(f"{FILLER} {text}" if pushed else text), pushed=pushed)
    events.append(record_handled(tracker, f"free-form question answered by the LLM{f' ({tool})' if tool else ''}"))
    return events
