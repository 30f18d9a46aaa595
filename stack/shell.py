"""A terminal conversation over Rasa's REST channel, as a chosen caller (`make shell`).

Unlike `rasa shell`, it sends the caller's number as message metadata (as the phone
channel does), opens the call with a greeting as the phone would, shows handoffs
(transfer, hang-up), and logs the call when you leave.
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Dict, List, Optional

import httpx


class Conversation:
    """One caller's conversation with the Rasa server's REST webhook."""

    def __init__(self, rasa_url: str, caller: Optional[str], sender: Optional[str] = None,
                 client: Optional[httpx.Client] = None) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.caller = caller
        self.sender = sender or f"shell-{uuid.uuid4().hex[:12]}"
        self.http = client or httpx.Client(timeout=30)

    def send(self, text: str) -> List[Dict[str, Any]]:
        metadata = {"caller_number": self.caller} if self.caller else {}
        response = self.http.post(f"{self.rasa_url}/webhooks/rest/webhook",
                                  json={"sender": self.sender, "message": text, "metadata": metadata})
        response.raise_for_status()
        return response.json()

    def end(self) -> None:
        """Runs the call log as the phone channel does when a caller hangs up."""
        self.http.post(f"{self.rasa_url}/conversations/{self.sender}/execute",
                       json={"name": "action_log_call"}).raise_for_status()


def render(messages: List[Dict[str, Any]]) -> List[str]:
    lines = []
    for message in messages:
        if message.get("text"):
            lines.append(f"Assistant: {message['text']}")
        custom = message.get("custom") or {}
        if "handoff" in custom:
            lines.append(f"[phone: {json.dumps(custom['handoff'])}]")
    return lines


def converse(rasa_url: str, caller: Optional[str]) -> int:
    conversation = Conversation(rasa_url, caller)
    print(f"\nCalling as {caller or 'a hidden number'}. Type /quit to hang up.\n")
    for line in render(conversation.send("/greet")):
        print(line)
    try:
        while True:
            text = input("You: ").strip()
            if text in ("/quit", "/exit", "/hangup"):
                break
            if not text:
                continue
            replies = conversation.send(text)
            for line in render(replies):
                print(line)
            if any("handoff" in (m.get("custom") or {}) for m in replies):
                print("(the call would now be handed over; type /quit to end, or keep talking)")
    except (EOFError, KeyboardInterrupt):
        pass
    conversation.end()
    print("Call ended and logged.")
    return 0
