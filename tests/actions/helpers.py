"""Running one action the way the action server does: a real domain, tracker and dispatcher."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


@lru_cache(maxsize=1)
def domain() -> Dict[str, Any]:
    return yaml.safe_load(Path("domain.yml").read_text())


def tracker(
    text: str = "",
    intent: str = "",
    *,
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    metadata: Optional[Dict[str, Any]] = None,
    events: Optional[List[Dict[str, Any]]] = None,
    active_loop: Optional[str] = None,
    sender_id: str = "test-call",
) -> Tracker:
    all_slots = {name: None for name in domain()["slots"]}
    all_slots.update(slots or {})
    latest = {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or [],
              "metadata": metadata or {}}
    user_event = {"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}}
    return Tracker(sender_id, all_slots, latest, (events or []) + [user_event], False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


async def run(action: Action, state: Tracker) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(events, messages) of one action run."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, state, domain())
    return events, dispatcher.messages


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m["text"] for m in messages if m.get("text")]


def handoffs(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [m["custom"]["handoff"] for m in messages if (m.get("custom") or {}).get("handoff")]


def slots_set(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
