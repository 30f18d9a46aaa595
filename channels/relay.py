"""One ConversationRelay WebSocket: one phone call, from `setup` to `end`.

Twilio does speech-to-text and text-to-speech; this session turns `prompt` frames into
Rasa messages and streams Rasa's replies back as `text` frames. It also handles what a
phone call brings: keypad digits, interruptions, silence, junk frames, and an assistant
that fails mid-call (the caller hears an apology and is transferred, never dead air).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import UserMessage

from channels.calls import Call, CallRegistry
from channels.output import RelayWriter, TurnOutput
from channels.settings import PhoneSettings

logger = logging.getLogger(__name__)

STILL_THERE = "Are you still there?"
SILENCE_GOODBYE = "It sounds like you've stepped away, so I'll let you go. Please call back any time. Goodbye!"
APOLOGY = "I'm sorry, I'm having trouble on my end. Let me connect you with the office."
NOT_HEARD = "Sorry, I didn't catch that. Could you say it again?"
DTMF_PAUSE_SECONDS = 2.5

Handler = Callable[[UserMessage], Awaitable[Any]]
EventRecorder = Callable[[str, List[Dict[str, Any]]], Awaitable[None]]


def allowed_number(handoff: Dict[str, Any], settings: PhoneSettings, allowed: List[str]) -> str:
    """The number to dial: only ever one from configuration, whatever the payload says."""
    number = str(handoff.get("number") or "")
    return number if number in allowed else settings.transfer_number


class RelaySession:
    def __init__(self, ws: Any, settings: PhoneSettings, calls: CallRegistry, handler: Handler,
                 record: Optional[EventRecorder], allowed_numbers: List[str],
                 sessions: Optional[Dict[str, "RelaySession"]] = None) -> None:
        self.sessions = sessions if sessions is not None else {}
        self.ws = ws
        self.settings = settings
        self.calls = calls
        self.handler = handler
        self.record = record
        self.allowed_numbers = allowed_numbers
        self.writer = RelayWriter(ws.send)
        self.call: Optional[Call] = None
        self.closed = False
        self.busy = False
        self.idle_since: Optional[float] = None
        self.silences = 0
        self.turns: "asyncio.Queue[tuple]" = asyncio.Queue()
        self.worker: Optional[asyncio.Task] = None
        self.digits = ""
        self.dtmf_timer: Optional[asyncio.TimerHandle] = None
        self._activity = asyncio.Event()  # the caller spoke or a turn ended: re-arm the silence timer

    async def run(self) -> None:
        watcher = asyncio.ensure_future(self._watch_silence())
        try:
            while not self.closed:
                try:
                    raw = await self.ws.recv()
                except Exception:  # ConnectionClosed, WebsocketClosed, CancelledError: the call is gone
                    break
                if raw is None:
                    continue
                await self._on_frame(raw)
        finally:
            self.closed = True
            watcher.cancel()
            if self.call is not None and self.sessions.get(self.call.call_sid) is self:
                del self.sessions[self.call.call_sid]
            if self.dtmf_timer:
                self.dtmf_timer.cancel()
            if self.worker:
                self.worker.cancel()
            logger.info("twilio.relay.closed call=%s", self.call.call_sid if self.call else None)

    # -- frames ---------------------------------------------------------------------------

    async def _on_frame(self, raw: Any) -> None:
        if isinstance(raw, bytes) or len(raw) > self.settings.max_frame_bytes:
            logger.warning("twilio.relay.frame_ignored reason=%s size=%d",
                           "binary" if isinstance(raw, bytes) else "oversized", len(raw))
            return
        try:
            frame = json.loads(raw)
        except ValueError:
            logger.warning("twilio.relay.frame_ignored reason=malformed_json size=%d", len(raw))
            return
        if not isinstance(frame, dict):
            logger.warning("twilio.relay.frame_ignored reason=not_an_object")
            return
        kind = frame.get("type")
        if kind == "setup":
            await self._on_setup(frame)
        elif self.call is None:
            logger.warning("twilio.relay.frame_before_setup type=%s", kind)
        elif kind == "prompt":
            if frame.get("last", True) is False:
                return  # a partial transcript: wait for the final one
            text = str(frame.get("voicePrompt") or "").strip()
            if text:
                self._heard_caller()
                self._enqueue(text)
        elif kind == "dtmf":
            self._heard_caller()
            self._on_digit(str(frame.get("digit") or ""))
        elif kind == "interrupt":
            await self._on_interrupt(frame)
        elif kind == "error":
            logger.warning("twilio.relay.twilio_error description=%s", str(frame.get("description"))[:200])
        elif kind == "info":
            logger.debug("twilio.relay.info")
        else:
            logger.warning("twilio.relay.frame_ignored reason=unknown_type type=%s", str(kind)[:40])

    async def _on_setup(self, frame: Dict[str, Any]) -> None:
        call_sid = str(frame.get("callSid") or "")
        if not call_sid:
            logger.warning("twilio.relay.setup_without_callsid")
            return
        self.call = self.calls.get_or_create(call_sid, caller=str(frame.get("from") or ""),
                                             called=str(frame.get("to") or ""), mode="relay")
        self.call.state = "talking"
        self.sessions[call_sid] = self
        self.worker = asyncio.ensure_future(self._work())
        params = frame.get("customParameters") or {}
        if params.get("transfer_failed"):
            # Back from a transfer nobody answered: take a message instead.
            self._enqueue("/request_human", {"transfer_failed": True})
        elif self.call.greeting is not None:
            self.turns.put_nowait(("__greeting__", {}))
        else:
            self._enqueue("/greet")

    def _enqueue(self, text: str, extra: Optional[Dict[str, Any]] = None) -> None:
        self.turns.put_nowait((text, extra or {}))

    def _heard_caller(self) -> None:
        self.silences = 0
        self.idle_since = None
        self._activity.set()

    async def _watch_silence(self) -> None:
        """Sleeps until the caller has been silent long enough; woken by any activity.

        One timer per call rather than polling the socket: a hundred calls must not mean
        hundreds of wake-ups a second in the Rasa server.
        """
        while not self.closed:
            if self.idle_since is None:
                await self._activity.wait()
                self._activity.clear()
                continue
            remaining = self.idle_since + self.settings.silence_seconds - time.monotonic()
            if remaining > 0:
                try:
                    await asyncio.wait_for(self._activity.wait(), remaining)
                    self._activity.clear()
                    continue
                except asyncio.TimeoutError:
                    pass
            await self._check_silence()

    def _close(self) -> None:
        """The assistant ended the call: stop, and close the socket so the read loop ends too."""
        self.closed = True
        asyncio.ensure_future(self.ws.close())

    async def push(self, text: str) -> bool:
        """A sentence the action server pushes while its action is still running."""
        if self.closed or not self.busy:
            return False
        await self.writer.text(text)
        return True

    async def _on_interrupt(self, frame: Dict[str, Any]) -> None:
        self.writer.interrupt()
        heard = str(frame.get("utteranceUntilInterrupt") or "")
        logger.info("twilio.relay.interrupted call=%s ms=%s", self.call.call_sid, frame.get("durationUntilInterruptMs"))
        if self.record is not None:
            try:
                await self.record(self.call.call_sid, [
                    {"event": "slot", "name": "heard_before_interrupt", "value": heard}])
            except Exception:
                logger.exception("twilio.relay.record_interrupt_failed")

    # -- keypad ---------------------------------------------------------------------------

    def _on_digit(self, digit: str) -> None:
        if digit == "*":
            self.digits = ""
            return
        if digit == "#":
            self._flush_digits()
            return
        if digit.isdigit():
            self.digits += digit
            if len(self.digits) >= 10:
                self._flush_digits()
                return
            if self.dtmf_timer:
                self.dtmf_timer.cancel()
            self.dtmf_timer = asyncio.get_event_loop().call_later(DTMF_PAUSE_SECONDS, self._flush_digits)

    def _flush_digits(self) -> None:
        if self.dtmf_timer:
            self.dtmf_timer.cancel()
            self.dtmf_timer = None
        digits, self.digits = self.digits, ""
        if digits == "0":
            self._enqueue("/request_human", {"keypad": True})
        elif digits:
            self._enqueue(digits, {"keypad": True})

    # -- turns ----------------------------------------------------------------------------

    async def _work(self) -> None:
        while not self.closed:
            text, extra = await self.turns.get()
            self.busy = True
            try:
                if text == "__greeting__":
                    await self._deliver_greeting()
                else:
                    await self._turn(text, extra)
            finally:
                self.busy = False
                self.idle_since = time.monotonic()
                self._activity.set()

    async def _deliver_greeting(self) -> None:
        """The greeting the incoming webhook started while Twilio was opening this socket."""
        self.writer.new_turn()
        try:
            output: TurnOutput = await asyncio.wait_for(asyncio.shield(self.call.greeting),
                                                        self.settings.turn_timeout)
        except Exception:
            logger.exception("twilio.relay.greeting_failed call=%s", self.call.call_sid)
            await self._fail()
            return
        for text in output.texts:
            await self.writer.text(text)
        await self._finish_turn(output)

    async def _turn(self, text: str, extra: Dict[str, Any]) -> None:
        self.writer.new_turn()
        self.call.turns += 1
        output = TurnOutput(forward=self.writer.text)
        message = UserMessage(text, output, self.call.call_sid, input_channel="twilio",
                              metadata=self.call.metadata(**extra))
        try:
            await asyncio.wait_for(self.handler(message), self.settings.turn_timeout)
        except Exception:
            logger.exception("twilio.relay.turn_failed call=%s", self.call.call_sid)
            await self._fail()
            return
        await self._finish_turn(output)

    async def _finish_turn(self, output: TurnOutput) -> None:
        if not output.texts and not output.handoff:
            # Rasa answered nothing: the action server failed (Rasa logs it and carries on).
            logger.error("twilio.relay.empty_turn call=%s", self.call.call_sid)
            await self._fail()
            return
        await self.writer.end_turn()
        if output.handoff:
            await self._handoff(output.handoff)

    async def _handoff(self, handoff: Dict[str, Any]) -> None:
        decided = dict(handoff)
        if decided.get("action") == "transfer":
            decided["number"] = allowed_number(handoff, self.settings, self.allowed_numbers)
            self.call.state = "transferring"
        self.call.handoff = decided
        await self.writer.end(decided)
        self._close()

    async def _fail(self) -> None:
        await self.writer.say(APOLOGY)
        await self._handoff({"action": "transfer", "number": self.settings.transfer_number,
                             "reason": "assistant error"})

    async def _check_silence(self) -> None:
        if self.call is None or self.busy or not self.turns.empty() or self.idle_since is None:
            return
        if time.monotonic() - self.idle_since < self.settings.silence_seconds:
            return
        self.silences += 1
        self.idle_since = time.monotonic()
        logger.info("twilio.relay.silence call=%s count=%d", self.call.call_sid, self.silences)
        if self.silences == 1:
            await self.writer.say(STILL_THERE)
        else:
            await self.writer.say(SILENCE_GOODBYE)
            self.call.handoff = {"action": "hangup", "reason": "silence"}
            await self.writer.end(self.call.handoff)
            self._close()
