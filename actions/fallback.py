"""The one fallback action for `nlu_fallback` and `out_of_scope`.

A repair described with a fixture ("the sink", "the stove") starts the maintenance form,
whatever intent the classifier guessed. It answers from the property file's facts when the words name one (by keyword and fuzzy
match), then asks the LLM (actions/llm_responder.py) when one is configured and healthy. Otherwise the caller is offered a person; after two failed attempts the
assistant transfers (or takes a message after hours) without asking again.
"""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.call_log import record_handled
from actions.facts import find_fact
from actions.llm_responder import answer
from actions.maintenance import describes_problem
from actions.parsing import clean_answer
from actions.voice import DomainDict, property_file, say

MAX_FAILED_ATTEMPTS = 2
UNANSWERED = "asked something the assistant could not answer"


async def offer_help(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, may_hand_over: bool = True
) -> List[EventType]:
    """Counts a failed attempt; offers a person, or hands over after the second failure.

    Always sets `needs_transfer` (true or false): the rules after the fallback read it.
    """
    # Failures count in a row: anything the assistant did manage since resets the count.
    handled = tracker.get_slot("handled") or []
    in_a_row = bool(handled) and handled[-1] == UNANSWERED
    failed = (int(tracker.get_slot("failed_attempts") or 0) if in_a_row else 0) + 1
    if may_hand_over and failed >= MAX_FAILED_ATTEMPTS:
        say(dispatcher, tracker, domain, "utter_fallback_transfer")
        return [SlotSet("failed_attempts", 0), SlotSet("needs_transfer", True)]
    say(dispatcher, tracker, domain, "utter_fallback_offer_transfer")
    return [SlotSet("failed_attempts", failed), SlotSet("pending_question", "transfer"),
            SlotSet("needs_transfer", False),
            record_handled(tracker, UNANSWERED)]


class ActionFallback(Action):
    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = tracker.latest_message.get("text") or ""
        fixture = next(tracker.get_latest_entity_values("fixture"), None)
        if fixture and describes_problem(text) and not tracker.active_loop.get("name"):
            # "the uh sink in the kitchen it's leaking" misread as something else: a repair all the same.
            return [SlotSet("problem", clean_answer(text)), SlotSet("needs_transfer", False),
                    FollowupAction("maintenance_form")]
        fact = find_fact(property_file(), text)
        if fact is not None:
            say_fact(dispatcher, tracker, domain, fact.answer)
            return [SlotSet("needs_transfer", False), record_handled(tracker, f"asked about {fact.topic}")]
        answered = await answer(dispatcher, tracker, domain)
        if answered is not None:
            return answered
        return await offer_help(dispatcher, tracker, domain)


def say_fact(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, text: str) -> None:
    """A property-file fact, worded "Like I said, ..." when the caller asks again."""
    lower = text[0].lower() + text[1:] if text else text
    say(dispatcher, tracker, domain, "utter_property_fact", answer=text, answer_lower=lower)
