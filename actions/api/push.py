"""Pushes a sentence to a live phone call while an action is still running.

Rasa delivers an action's messages only when the action returns, but an LLM answer
streams for a second or more. So for a call on the ConversationRelay, the responder
pushes "let me think about that" and then each sentence as it arrives to the phone
channel's `/webhooks/twilio/push`, authenticated with ASSISTANT_PUSH_TOKEN; the final
message then tells the channel that it has already been spoken.
"""
from __future__ import annotations

import logging
import socket
from typing import Optional

import httpx

logger = logging.getLogger(__name__)
TOKEN_HEADER = "X-Assistant-Push-Token"


class CallPusher:
    def __init__(self, rasa_url: str, token: Optional[str], timeout: float = 1.0) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token
        # TCP_NODELAY: a pushed sentence must not wait on Nagle's algorithm.
        transport = httpx.AsyncHTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport) if token else None

    @property
    def enabled(self) -> bool:
        return self._http is not None

    async def push(self, call_sid: str, text: str) -> bool:
        """True when the channel took the sentence for a live call."""
        if self._http is None:
            return False
        try:
            response = await self._http.post(
                f"{self.rasa_url}/webhooks/twilio/push", json={"call_sid": call_sid, "text": text},
                headers={TOKEN_HEADER: self.token},
            )
            return response.status_code == 200
        except httpx.HTTPError as exc:
            logger.warning("push.failed error=%s", type(exc).__name__)
            return False

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
