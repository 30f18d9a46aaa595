"""The Twilio phone channel (credentials.yml: `channels.twilio.TwilioInput`, routes under
/webhooks/twilio/): ConversationRelay over a WebSocket, classic <Gather> as a fallback.

Conversations are keyed by CallSid. Every HTTP route checks X-Twilio-Signature against the
public URL; the relay upgrade is refused with 403 before the WebSocket opens. Without
TWILIO_AUTH_TOKEN the check is off and a warning says so at every start.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import rasa_bridge, twiml
from channels.calls import Call, CallRegistry
from channels.output import TurnOutput
from channels.relay import APOLOGY, RelaySession, allowed_number
from channels.settings import PhoneSettings
from channels.signatures import SignatureChecker
from channels.timing import add_server_timing
from stack.heap import freeze_startup_heap

logger = logging.getLogger(__name__)

GATHER_REPROMPT = "Are you still there? How can I help?"
GATHER_GOODBYE = "I haven't heard anything, so I'll let you go. Please call back any time. Goodbye!"
NOBODY_ANSWERED = "I'm sorry, nobody could pick up just now."
ENDED_STATUSES = {"completed", "busy", "failed", "no-answer", "canceled"}
XML = "text/xml"
PUSH_TOKEN_HEADER = "X-Assistant-Push-Token"


def _form(request: Request) -> Dict[str, str]:
    return {key: values[0] for key, values in (request.form or {}).items()}


class TwilioInput(InputChannel):
    """Twilio voice calls through ConversationRelay (or <Gather> for numbers set to it)."""

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "TwilioInput":
        return cls(PhoneSettings.from_sources(credentials))

    def __init__(self, settings: PhoneSettings) -> None:
        self.settings = settings
        self.signatures = SignatureChecker(settings)
        self.calls = CallRegistry()
        self.sessions: Dict[str, RelaySession] = {}
        rasa_bridge.cache_action_response_validation()
        oncall = os.environ.get("ONCALL_NUMBER", "").strip()
        self.allowed_numbers = [n for n in (settings.transfer_number, oncall) if n]
        if not self.signatures.enabled:
            logger.warning("twilio.signatures.off TWILIO_AUTH_TOKEN is not set: requests are NOT checked "
                           "to come from Twilio. Set it before taking real calls.")
        if not settings.public_base_url:
            logger.warning("twilio.public_url.unset PUBLIC_BASE_URL is not set: URLs are built from each "
                           "request's own host, which is wrong behind a proxy.")

    # -- helpers ---------------------------------------------------------------------------

    def _url(self, request: Request, route: str, query: str = "") -> str:
        return self.settings.public_url(request.url, f"/webhooks/twilio/{route}", query)

    async def _turn(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], call: Call, text: str,
                    **extra: Any) -> TurnOutput:
        output = TurnOutput()
        message = UserMessage(text, output, call.call_sid, input_channel=self.name(),
                              metadata=call.metadata(**extra))
        await asyncio.wait_for(on_new_message(message), self.settings.turn_timeout)
        return output

    def _relay_twiml(self, request: Request, parameters: Optional[Dict[str, str]] = None) -> str:
        return twiml.relay(
            self.settings.ws_url(self._url(request, "relay")), self._url(request, "handoff"),
            tts_provider=self.settings.tts_provider, voice=self.settings.voice, language=self.settings.language,
            interruptible=self.settings.interruptible, hints=self.settings.hints, parameters=parameters,
        )

    def _handoff_twiml(self, request: Request, call: Call, handoff: Dict[str, Any], say: List[str]) -> str:
        voice = self.settings.gather_voice
        if handoff.get("action") == "transfer":
            number = allowed_number(handoff, self.settings, self.allowed_numbers)
            call.state = "transferring"
            return twiml.dial(number, caller_id=call.called or self.settings.transfer_number,
                              timeout=self.settings.dial_timeout, action_url=self._url(request, "dial-result"),
                              say_first=say, voice=voice)
        return twiml.hangup(say_first=say, voice=voice)

    # -- routes ----------------------------------------------------------------------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("twilio_phone", __name__)
        channel = self

        @hook.listener("after_server_start")
        async def settle_heap(_app: Any, _loop: Any) -> None:
            freeze_startup_heap()  # the model is loaded by now (Rasa loads it before start)

        @hook.listener("before_server_start")
        async def time_answers(app: Any, _loop: Any) -> None:
            add_server_timing(app)

        @hook.middleware("request")
        async def check_signature(request: Request) -> Optional[HTTPResponse]:
            path, query = request.path, request.query_string
            signature = request.headers.get("X-Twilio-Signature")
            if path.endswith("/push"):
                ok = True  # not Twilio: checked against ASSISTANT_PUSH_TOKEN by the route
            elif path.endswith("/relay"):
                ok = channel.signatures.check_websocket(request.url, path, query, signature)
            elif request.method == "POST":
                ok = channel.signatures.check_http(request.url, path, query, _form(request), signature)
            else:
                ok = True
            return None if ok else response.text("invalid Twilio signature", status=403)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "signatures_checked": channel.signatures.enabled,
                                  "calls": len(channel.calls.live())})

        @hook.route("/calls", methods=["GET"])
        async def calls(_: Request) -> HTTPResponse:
            return response.json({"calls": [call.summary() for call in channel.calls.live()]})

        @hook.route("/incoming", methods=["POST"])
        async def incoming(request: Request) -> HTTPResponse:
            form = _form(request)
            call_sid = form.get("CallSid", "")
            if not call_sid:
                return response.text("CallSid is required", status=400)
            gather_mode = form.get("To", "") in channel.settings.gather_numbers
            call = channel.calls.get_or_create(call_sid, caller=form.get("From", ""), called=form.get("To", ""),
                                               mode="gather" if gather_mode else "relay")
            logger.info("twilio.call.incoming call=%s mode=%s", call_sid, call.mode)
            if gather_mode:
                return await gather_reply(request, call, "/greet")
            # Start the greeting (and the caller's Rent Manager lookup) while Twilio opens the relay.
            call.greeting = asyncio.ensure_future(channel._turn(on_new_message, call, "/greet"))
            return response.text(channel._relay_twiml(request), content_type=XML)

        @hook.websocket("/relay")
        async def relay(request: Request, ws: Any) -> None:
            async def record(sender_id: str, events: List[Dict[str, Any]]) -> None:
                asyncio.ensure_future(rasa_bridge.record_events(request.app, sender_id, events))

            session = RelaySession(ws, channel.settings, channel.calls, on_new_message, record,
                                   channel.allowed_numbers, channel.sessions)
            await session.run()

        @hook.route("/push", methods=["POST"])
        async def push(request: Request) -> HTTPResponse:
            expected = channel.settings.push_token
            given = request.headers.get(PUSH_TOKEN_HEADER, "")
            if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
                return response.json({"error": "a valid push token is required"}, status=403)
            body = request.json if isinstance(request.json, dict) else {}
            session = channel.sessions.get(str(body.get("call_sid") or ""))
            text = str(body.get("text") or "").strip()
            if session is None or not text:
                return response.json({"error": "no live relay call with that call_sid"}, status=404)
            if not await session.push(text):
                return response.json({"error": "the call is not waiting for an answer"}, status=409)
            return response.json({"status": "spoken"})

        @hook.route("/handoff", methods=["POST"])
        async def handoff(request: Request) -> HTTPResponse:
            form = _form(request)
            call = channel.calls.get_or_create(form.get("CallSid", "unknown"), caller=form.get("From", ""),
                                               called=form.get("To", ""))
            try:
                data = json.loads(form.get("HandoffData") or "null")
            except ValueError:
                data = None
            data = data if isinstance(data, dict) else call.handoff
            if not data:
                # The relay ended without our `end` (the caller hung up, or the socket dropped).
                return response.text(twiml.empty(), content_type=XML)
            return response.text(channel._handoff_twiml(request, call, data, []), content_type=XML)

        @hook.route("/dial-result", methods=["POST"])
        async def dial_result(request: Request) -> HTTPResponse:
            form = _form(request)
            call = channel.calls.get_or_create(form.get("CallSid", "unknown"))
            status = form.get("DialCallStatus", "")
            logger.info("twilio.call.dial_result call=%s status=%s", call.call_sid, status)
            if status in ("completed", "answered"):
                return response.text(twiml.empty(), content_type=XML)
            call.state = "talking"
            if call.mode == "gather":
                return await gather_reply(request, call, "/request_human", transfer_failed=True,
                                          say_first=[NOBODY_ANSWERED])
            return response.text(channel._relay_twiml(request, {"transfer_failed": "1"}), content_type=XML)

        @hook.route("/gather", methods=["POST"])
        async def gather(request: Request) -> HTTPResponse:
            form = _form(request)
            call = channel.calls.get_or_create(form.get("CallSid", "unknown"), caller=form.get("From", ""),
                                               called=form.get("To", ""), mode="gather")
            speech = (form.get("SpeechResult") or form.get("Digits") or "").strip()
            if not call.greeted:
                return await gather_reply(request, call, "/greet")
            if not speech:
                call.silences += 1
                if call.silences > 2:
                    call.handoff = {"action": "hangup", "reason": "silence"}
                    return response.text(twiml.hangup([GATHER_GOODBYE], channel.settings.gather_voice),
                                         content_type=XML)
                return response.text(twiml.gather([GATHER_REPROMPT], channel._url(request, "gather"),
                                                  voice=channel.settings.gather_voice,
                                                  hints=channel.settings.hints), content_type=XML)
            call.silences = 0
            text = "/request_human" if speech == "0" else speech
            return await gather_reply(request, call, text)

        async def gather_reply(request: Request, call: Call, text: str, say_first: List[str] = (),
                               **extra: Any) -> HTTPResponse:
            call.greeted = True
            call.turns += 1
            try:
                output = await channel._turn(on_new_message, call, text, **extra)
                if not output.texts and not output.handoff:
                    raise RuntimeError("the assistant produced no reply")
            except Exception:
                logger.exception("twilio.gather.turn_failed call=%s", call.call_sid)
                failed = {"action": "transfer", "number": channel.settings.transfer_number,
                          "reason": "assistant error"}
                return response.text(channel._handoff_twiml(request, call, failed, [APOLOGY]), content_type=XML)
            texts = list(say_first) + output.texts
            if output.handoff:
                call.handoff = output.handoff
                return response.text(channel._handoff_twiml(request, call, output.handoff, texts), content_type=XML)
            return response.text(twiml.gather(texts, channel._url(request, "gather"),
                                              voice=channel.settings.gather_voice, hints=channel.settings.hints),
                                 content_type=XML)

        @hook.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            form = _form(request)
            call_sid, call_status = form.get("CallSid", ""), form.get("CallStatus", "")
            if call_status in ENDED_STATUSES and call_sid:
                channel.calls.end(call_sid)
                logger.info("twilio.call.ended call=%s status=%s", call_sid, call_status)
                try:
                    await rasa_bridge.run_action(request.app, call_sid, "action_log_call")
                except Exception:
                    logger.exception("twilio.call.log_failed call=%s", call_sid)
            return response.text("", status=204)

        return hook
