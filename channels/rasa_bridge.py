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
