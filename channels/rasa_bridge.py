"""The two things the phone channel needs from Rasa beyond `on_new_message`, in one place.

Recording what a caller actually heard before an interruption, and running the call log
when a caller hangs up, both go through the loaded Agent exactly as Rasa's own HTTP API
does (`/conversations/<id>/tracker/events` and `/execute`): under the conversation's lock,
then saved. If Rasa changes these internals, this module is the only one to change.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import Event
from sanic import Sanic

logger = logging.getLogger(__name__)


def _agent(app: Sanic) -> Optional[Any]:
    agent = getattr(app.ctx, "agent", None)
    if agent is None or not agent.is_ready():
        return None
    return agent


async def record_events(app: Sanic, sender_id: str, events: List[Dict[str, Any]]) -> None:
    """Appends events (as JSON dicts) to a conversation that already exists."""
    agent = _agent(app)
    if agent is None:
        return
    async with agent.lock_store.lock(sender_id):
        tracker = await agent.tracker_store.retrieve(sender_id)
        if tracker is None:
            return
        for event in events:
            tracker.update(Event.from_parameters(event))
        await agent.tracker_store.save(tracker)


async def run_action(app: Sanic, sender_id: str, action_name: str) -> bool:
    """Runs one action on an existing conversation (the call log at hang-up)."""
    agent = _agent(app)
    if agent is None:
        return False
    if await agent.tracker_store.retrieve(sender_id) is None:
        return False
    async with agent.lock_store.lock(sender_id):
        await agent.execute_action(sender_id, action_name, CollectingOutputChannel(), None, None)
    return True


def cache_action_response_validation() -> None:
    """Validates action server responses against Rasa's schema with a validator built once.

    Rasa 3.6 checks every action server response with `jsonschema.validate()`, which first
    re-validates the schema itself against the JSON Schema meta-schema: about a quarter of
    the CPU time of a caller's turn (measured with py-spy). Same schema, same errors, same
    message; only the repeated meta-schema check is gone.
    """
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    if getattr(RemoteAction, "_validation_cached", False):
        return
    spec = RemoteAction.action_response_format_spec()
    validator_class = validator_for(spec)
    validator_class.check_schema(spec)
    validator = validator_class(spec)

    def validate(self: RemoteAction, result: Dict[str, Any]) -> bool:
        try:
            validator.validate(result)
            return True
        except ValidationError as e:
            e.message += (
                ". Failed to validate Action server response from API, make sure your response from the "
                f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise e

    RemoteAction._validate_action_result = validate
    RemoteAction._validation_cached = True
