"""Output channels for a call: push each bot message to Twilio the moment Rasa produces it.

Rasa hands the output channel each action's messages as soon as the action has run, so
"one moment while I check" reaches the caller before a slow action does. A handoff
(transfer or hang-up) arrives as a custom payload and is kept for the end of the turn.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import OutputChannel

logger = logging.getLogger(__name__)
Sender = Callable[[str], Awaitable[None]]


class TurnOutput(OutputChannel):
    """Collects one turn's texts and handoff; optionally forwards each text at once."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    def __init__(self, forward: Optional[Callable[[str], Awaitable[None]]] = None) -> None:
        self.forward = forward
        self.texts: List[str] = []
        self.handoff: Optional[Dict[str, Any]] = None

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        # `pushed`: the action server already spoke it to the live call, sentence by sentence.
        forward = None if kwargs.get("pushed") else self.forward
        for part in text.split("\n\n"):
            if part.strip():
                self.texts.append(part.strip())
                if forward is not None:
                    await forward(part.strip())

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        handoff = json_message.get("handoff") if isinstance(json_message, dict) else None
        if isinstance(handoff, dict):
            self.handoff = handoff
        else:
            logger.info("twilio.output.custom_ignored keys=%s", list(json_message or {}))

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     **kwargs: Any) -> None:
        # A phone has no buttons: read the choices out.
        titles = ", ".join(b.get("title", "") for b in buttons if b.get("title"))
        await self.send_text_message(recipient_id, f"{text} {titles}".strip())

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        logger.info("twilio.output.image_ignored")


class RelayWriter:
    """Writes ConversationRelay text frames; drops what the caller has interrupted."""

    def __init__(self, send: Sender) -> None:
        self._send = send
        self.turn = 0
        self.interrupted_turn = -1
        self.spoken_this_turn: List[str] = []

    def new_turn(self) -> int:
        self.turn += 1
        self.spoken_this_turn = []
        return self.turn

    async def text(self, token: str) -> None:
        if self.interrupted_turn == self.turn:
            return  # the caller cut in: the rest of this reply is not said
        self.spoken_this_turn.append(token)
        await self._frame({"type": "text", "token": token + " ", "last": False})

    async def end_turn(self) -> None:
        await self._frame({"type": "text", "token": "", "last": True})

    async def say(self, text: str) -> None:
        """A whole reply of the channel's own (silence prompts, apologies)."""
        await self._frame({"type": "text", "token": text, "last": True})

    async def end(self, handoff: Dict[str, Any]) -> None:
        await self._frame({"type": "end", "handoffData": json.dumps(handoff)})

    def interrupt(self) -> None:
        self.interrupted_turn = self.turn

    async def _frame(self, frame: Dict[str, Any]) -> None:
        await self._send(json.dumps(frame))
