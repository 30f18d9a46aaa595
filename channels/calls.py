"""The calls in progress, keyed by Twilio's CallSid (never by the caller's number)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional


@dataclass
class Call:
    call_sid: str
    caller: str = ""
    called: str = ""
    mode: str = "relay"  # relay | gather
    started: float = field(default_factory=time.time)
    handoff: Optional[Dict[str, Any]] = None
    silences: int = 0  # consecutive silent gathers
    greeted: bool = False
    turns: int = 0
    state: str = "ringing"  # ringing | talking | transferring | ended
    greeting: Any = None  # the greeting's asyncio.Task, started by the incoming webhook

    def metadata(self, **extra: Any) -> Dict[str, Any]:
        """What the assistant learns about the call with every message."""
        data = {"caller_number": self.caller, "call_sid": self.call_sid, "called_number": self.called,
                "channel_mode": self.mode}
        data.update(extra)
        return data

    def summary(self) -> Dict[str, Any]:
        """For the dashboard: no phone number, no words."""
        return {"call_sid": self.call_sid, "mode": self.mode, "state": self.state, "turns": self.turns,
                "seconds": round(time.time() - self.started)}


class CallRegistry:
    """In-memory calls; a call ends with Twilio's status callback or after `max_age` seconds."""

    def __init__(self, max_age: float = 4 * 3600) -> None:
        self._calls: Dict[str, Call] = {}
        self.max_age = max_age

    def get_or_create(self, call_sid: str, **fields: Any) -> Call:
        self._expire()
        call = self._calls.get(call_sid)
        if call is None:
            call = Call(call_sid=call_sid)
            self._calls[call_sid] = call
        for name, value in fields.items():
            if value:
                setattr(call, name, value)
        return call

    def get(self, call_sid: str) -> Optional[Call]:
        return self._calls.get(call_sid)

    def end(self, call_sid: str) -> Optional[Call]:
        call = self._calls.pop(call_sid, None)
        if call:
            call.state = "ended"
        return call

    def live(self) -> List[Call]:
        self._expire()
        return list(self._calls.values())

    def _expire(self) -> None:
        cutoff = time.time() - self.max_age
        for sid in [sid for sid, call in self._calls.items() if call.started < cutoff]:
            del self._calls[sid]
