"""The simulator's call, end to end against a tiny fake of the phone channel (Sanic 21.12, real HTTP and WebSocket).

The fake is the other side of the wire, not the thing under test: it checks Twilio's signatures
with twilio's own RequestValidator, answers TwiML, greets on `setup`, answers each prompt with two
text frames and sends `end` on "bye". What is tested is the simulator: what it sends, what it reads
back, its timings, and how it reports what went wrong.
"""
from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional
from urllib.parse import urlsplit

import httpx
import pytest
from sanic import Sanic
from sanic.response import HTTPResponse, empty
from twilio.request_validator import RequestValidator

from simulator.call import CallConfig, CallEnded, CallRefused, CallUnreachable, SimulatedCall, local_url
from simulator.scenario import Listener, RentManagerCheck, SetupError, parse_scenario, run_scenario
from stack.processes import free_port
from tests.conftest import StandIn

PUBLIC = "https://assistant.example.com"
TOKEN = "12345678901234567890123456789012"
OFFICE = "+17184146984"
ONCALL = "+19175550911"
REPO = Path(__file__).resolve().parents[2]


class FakeChannel:
    """The phone channel in miniature, recording everything the simulator sent it."""

    def __init__(self, token: Optional[str] = TOKEN, dtmf_detection: bool = True) -> None:
        self.token = token
        self.relay_token = token
        self.dtmf_detection = dtmf_detection
        self.rentmanager: Optional[str] = None  # when set, "emergency" files an issue there, as the assistant would
        self.posts: Dict[str, List[Dict[str, str]]] = defaultdict(list)
        self.frames: List[Any] = []
        self.ws_signature_ok: List[bool] = []
        self.app = Sanic(f"fake_twilio_{uuid.uuid4().hex[:10]}", configure_logging=False)
        self.app.config.ACCESS_LOG = False
        self.app.config.WEBSOCKET_MAX_SIZE = 2 ** 20
        self.url = ""
        self._server: Any = None
        self._build()

    # -- Twilio's signature, checked as a channel would --------------------------------------

    def _signed(self, request: Any, params: Dict[str, str]) -> bool:
        if not self.token:
            return True
        url = PUBLIC + request.path + (f"?{request.query_string}" if request.query_string else "")
        return RequestValidator(self.token).validate(url, params, request.headers.get("X-Twilio-Signature", ""))

    def _form(self, request: Any) -> Dict[str, str]:
        return {key: values[0] for key, values in request.form.items()}

    def _build(self) -> None:
        app = self.app
        host = urlsplit(PUBLIC).netloc

        @app.middleware("request")
        async def relay_signature(request: Any) -> Optional[HTTPResponse]:
            if request.path.endswith("/relay") and self.relay_token:
                ok = RequestValidator(self.relay_token).validate(
                    f"wss://{host}/webhooks/twilio/relay", {}, request.headers.get("X-Twilio-Signature", ""))
                self.ws_signature_ok.append(ok)
                if not ok:
                    return HTTPResponse("bad signature", status=403)
            return None

        @app.post("/webhooks/twilio/incoming")
        async def incoming(request: Any) -> HTTPResponse:
            params = self._form(request)
            self.posts["incoming"].append(params)
            if not self._signed(request, params):
                return HTTPResponse("bad signature", status=403)
            dtmf = ' dtmfDetection="true"' if self.dtmf_detection else ""
            return xml(
                f'<Response><Connect action="{PUBLIC}/webhooks/twilio/handoff">'
                f'<ConversationRelay url="wss://{host}/webhooks/twilio/relay" ttsProvider="ElevenLabs"'
                f' interruptible="any"{dtmf}><Parameter name="callerType" value="tenant"/>'
                f"</ConversationRelay></Connect></Response>"
            )

        @app.post("/webhooks/twilio/handoff")
        async def handoff(request: Any) -> HTTPResponse:
            params = self._form(request)
            self.posts["handoff"].append(params)
            if not self._signed(request, params):
                return HTTPResponse("bad signature", status=403)
            data = json.loads(params.get("HandoffData") or "{}")
            if data.get("action") == "transfer":
                return xml(f'<Response><Dial callerId="{OFFICE}" timeout="25">{data["number"]}</Dial></Response>')
            if data.get("action") == "again":
                return xml(f'<Response><Connect action="/webhooks/twilio/handoff"><ConversationRelay '
                           f'url="wss://{host}/webhooks/twilio/relay"/></Connect></Response>')
            return xml("<Response><Say>Goodbye from Twilio.</Say><Hangup/></Response>")

        @app.post("/webhooks/twilio/status")
        async def status(request: Any) -> HTTPResponse:
            params = self._form(request)
            self.posts["status"].append(params)
            return empty() if self._signed(request, params) else HTTPResponse("bad signature", status=403)

        @app.post("/webhooks/twilio/gather")
        async def gather(request: Any) -> HTTPResponse:
            params = self._form(request)
            self.posts["gather"].append(params)
            if not self._signed(request, params):
                return HTTPResponse("bad signature", status=403)
            speech = params.get("SpeechResult")
            first = len(self.posts["gather"]) == 1
            if speech == "transfer me":
                return xml(f'<Response><Say>Connecting you.</Say><Dial callerId="{OFFICE}" timeout="20">'
                           f"<Number>{OFFICE}</Number></Dial></Response>")
            if speech == "bye":
                return xml("<Response><Say>Goodbye.</Say><Hangup/></Response>")
            text = "Hi, this is Sarah." if first else (f"You said {speech}." if speech else "Are you still there?")
            return xml(
                '<Response><Gather input="speech" action="/webhooks/twilio/gather?turn=next" speechTimeout="auto"'
                ' speechModel="phone_call" actionOnEmptyResult="true">'
                f'<Say voice="Polly.Joanna-Neural">{text}</Say></Gather></Response>'
            )

        @app.websocket("/webhooks/twilio/relay")
        async def relay(request: Any, ws: Any) -> None:
            setup = json.loads(await ws.recv())
            self.frames.append(setup)
            await ws.send(text("Hi Maria, thanks for calling.", False))
            await asyncio.sleep(0.05)
            await ws.send(text(" How can I help?", True))
            while True:
                raw = await ws.recv()
                if raw is None:
                    return
                self.frames.append(raw)
                try:
                    frame = json.loads(raw)
                except (TypeError, ValueError):
                    continue
                if not isinstance(frame, dict):
                    continue
                kind, words = frame.get("type"), frame.get("voicePrompt")
                if kind == "prompt" and isinstance(words, str):
                    if words == "bye":
                        await ws.send(text("Goodbye!", True))
                        await ws.send(json.dumps({"type": "end", "handoffData": json.dumps({"action": "hangup"})}))
                    elif words == "emergency":
                        if self.rentmanager:
                            await file_emergency(self.rentmanager)
                        await ws.send(text("I'm connecting you to our on-call person now.", True))
                        await ws.send(json.dumps({"type": "end", "handoffData": json.dumps(
                            {"action": "transfer", "number": ONCALL})}))
                    elif words == "start over":
                        await ws.send(json.dumps({"type": "end", "handoffData": json.dumps({"action": "again"})}))
                    elif words == "hold on":
                        await ws.send(text("Sure.", True))
                        await asyncio.sleep(0.6)
                        await ws.send(text("Are you still there?", True))
                    elif words == "drop":
                        await ws.close()
                        return
                    elif words == "bad frames":
                        await ws.send('{"type": "text", "tok')
                        await ws.send(json.dumps({"type": "dance"}))
                        await ws.send(text("Still here.", True))
                    else:
                        await ws.send(text(f"You said {words[:40]}.", False))
                        await asyncio.sleep(0.05)
                        await ws.send(text(" Anything else?", True))
                elif kind == "dtmf" and frame.get("digit") == "0":
                    await ws.send(text("Connecting you to the office.", True))
                    await ws.send(json.dumps({"type": "end", "handoffData": json.dumps(
                        {"action": "transfer", "number": OFFICE})}))

    async def start(self) -> None:
        port = free_port()
        self._server = await self.app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
        await self._server.startup()
        await self._server.before_start()
        await self._server.after_start()
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        for connection in list(self._server.connections):
            connection.close_if_idle()
        await self._server.before_stop()
        self._server.close()
        await self._server.wait_closed()
        await self._server.after_stop()

    def received(self, kind: str) -> List[Dict[str, Any]]:
        """The JSON frames of one type the relay received, in order."""
        found = []
        for raw in self.frames:
            frame = raw if isinstance(raw, dict) else _json(raw)
            if isinstance(frame, dict) and frame.get("type") == kind:
                found.append(frame)
        return found


async def file_emergency(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        token = (await http.post("/Authentication/AuthorizeUser",
                                 json={"Username": "api", "Password": "standin", "LocationID": 1})).json()
        response = await http.post("/ServiceManagerIssues", headers={"X-RM12Api-ApiToken": token},
                                   json=[{"Title": "EMERGENCY: Gas smell", "CategoryID": 8, "PriorityID": 1}])
        response.raise_for_status()


def _json(raw: Any) -> Any:
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None


def text(token: str, last: bool) -> str:
    return json.dumps({"type": "text", "token": token, "last": last})


def xml(body: str) -> HTTPResponse:
    return HTTPResponse(body, content_type="text/xml")


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanic 21.12 rewrites its own methods on each start ("touchup"), which fails the second time in
    one process unless test_mode keeps the originals."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@pytest.fixture
async def channel() -> AsyncIterator[FakeChannel]:
    fake = FakeChannel()
    await fake.start()
    yield fake
    await fake.stop()


def config(channel: FakeChannel, **overrides: Any) -> CallConfig:
    values: Dict[str, Any] = dict(rasa_url=channel.url, public_base_url=PUBLIC, auth_token=TOKEN, timeout=5)
    values.update(overrides)
    return CallConfig(**values)


# -- the relay call --------------------------------------------------------------------------


async def test_a_relay_call_from_greeting_to_goodbye(channel: FakeChannel) -> None:
    async with SimulatedCall(config(channel)) as call:
        greeting = await call.start()
        assert greeting.relay_text == "Hi Maria, thanks for calling. How can I help?"
        assert greeting.complete and 0 < greeting.first_ms < greeting.last_ms
        turn = await call.say("my sink is leaking")
        assert turn.relay_text == "You said my sink is leaking. Anything else?"
        assert turn.last_ms - turn.first_ms >= 40  # the fake pauses 50 ms between its two frames
        bye = await call.say("bye")
        assert bye.relay_text == "Goodbye!" and bye.ended_relay and bye.handoff == {"action": "hangup"}
        assert bye.end == "hangup" and bye.says == ["Goodbye from Twilio."] and call.ended
        with pytest.raises(CallEnded):
            await call.say("hello?")

    incoming, = channel.posts["incoming"]
    assert incoming["CallSid"] == call.call_sid and len(call.call_sid) == 34 and call.call_sid.startswith("CA")
    assert incoming["AccountSid"].startswith("AC") and len(incoming["AccountSid"]) == 34
    assert (incoming["From"], incoming["To"], incoming["CallStatus"], incoming["Direction"]) == \
        ("+17185550134", OFFICE, "ringing", "inbound")
    assert incoming["ApiVersion"] == "2010-04-01" and incoming["Caller"] == "+17185550134"
    assert channel.ws_signature_ok == [True]
    setup, = channel.received("setup")
    assert setup["callSid"] == call.call_sid and setup["sessionId"].startswith("VX") and len(setup["sessionId"]) == 34
    assert setup["from"] == "+17185550134" and setup["to"] == OFFICE and setup["direction"] == "inbound"
    assert setup["customParameters"] == {"callerType": "tenant"} and setup["callType"] == "PSTN"
    prompt = channel.received("prompt")[0]
    assert prompt == {"type": "prompt", "voicePrompt": "my sink is leaking", "lang": "en-US", "last": True}
    handoff, = channel.posts["handoff"]
    assert handoff["SessionId"] == setup["sessionId"] and handoff["SessionStatus"] == "ended"
    assert json.loads(handoff["HandoffData"]) == {"action": "hangup"} and handoff["SessionDuration"].isdigit()
    status, = channel.posts["status"]
    assert status["CallStatus"] == "completed" and int(status["CallDuration"]) >= 1
    assert call.status_callback == 204 and not call.warnings


async def test_keypad_zero_ends_in_a_dial(channel: FakeChannel) -> None:
    async with SimulatedCall(config(channel)) as call:
        await call.start()
        reply = await call.dtmf("0")
    assert reply.relay_text == "Connecting you to the office." and reply.end == "transfer"
    assert (reply.dial.number, reply.dial.caller_id, reply.dial.timeout) == (OFFICE, OFFICE, 25)
    assert call.end == "transfer" and call.dial.number == OFFICE
    assert channel.received("dtmf") == [{"type": "dtmf", "digit": "0"}]


async def test_a_key_is_not_passed_on_without_dtmf_detection() -> None:
    fake = FakeChannel(dtmf_detection=False)
    await fake.start()
    try:
        async with SimulatedCall(config(fake)) as call:
            await call.start()
            reply = await call.dtmf("0")
        assert "dtmfDetection" in reply.undelivered and fake.received("dtmf") == []
    finally:
        await fake.stop()


async def test_interrupt_silence_and_junk(channel: FakeChannel) -> None:
    async with SimulatedCall(config(channel, settle=0.4)) as call:
        await call.start()
        cut = await call.interrupt("Hi Maria, thanks")
        assert cut.text == "" and not cut.timed_out
        sure = await call.say("hold on")
        assert sure.relay_text == "Sure."
        quiet = await call.silence(1.5)
        assert quiet.relay_text == "Are you still there?" and 100 < quiet.first_ms < 1500
        for kind in ("malformed_json", "unknown_type", "oversized", "binary", "wrong_types"):
            junk = await call.junk(kind)
            assert junk.closed is None and not junk.ended, kind
        after = await call.say("still there")
        assert after.relay_text == "You said still there. Anything else?"
    interrupt, = channel.received("interrupt")
    assert interrupt == {"type": "interrupt", "utteranceUntilInterrupt": "Hi Maria, thanks",
                         "durationUntilInterruptMs": 1200}
    assert channel.received("dance") and any(isinstance(raw, bytes) for raw in channel.frames)
    assert any(isinstance(raw, str) and len(raw) > 100_000 for raw in channel.frames)


async def test_frames_twilio_would_drop_are_reported(channel: FakeChannel) -> None:
    async with SimulatedCall(config(channel)) as call:
        await call.start()
        reply = await call.say("bad frames")
    assert reply.relay_text == "Still here." and len(reply.invalid) == 2
    assert "not a JSON object" in reply.invalid[0] and "unknown frame type 'dance'" in reply.invalid[1]


async def test_an_end_back_to_the_relay_opens_a_new_session(channel: FakeChannel) -> None:
    async with SimulatedCall(config(channel)) as call:
        await call.start()
        reply = await call.say("start over")
        assert reply.ended_relay and reply.resumed is not None and not call.ended
        assert reply.resumed.relay_text.startswith("Hi Maria")
        again = await call.say("emergency")
    assert again.end == "transfer" and again.dial.number == ONCALL
    first, second = channel.received("setup")
    assert first["sessionId"] != second["sessionId"] and first["callSid"] == second["callSid"]


async def test_a_relay_that_drops_without_end_is_reported(channel: FakeChannel) -> None:
    async with SimulatedCall(config(channel)) as call:
        await call.start()
        reply = await call.say("drop")
    assert reply.end == "dropped" and "closed without an end frame" in reply.closed
    assert call.end == "dropped" and channel.posts["handoff"] == []
    assert len(channel.posts["status"]) == 1


async def test_a_wrong_token_is_refused_at_the_webhook(channel: FakeChannel) -> None:
    call = SimulatedCall(config(channel, auth_token="wrong"))
    with pytest.raises(CallRefused, match="refused the signature"):
        await call.start()
    await call.hangup()


async def test_a_refused_relay_upgrade_is_reported_as_a_signature_problem(channel: FakeChannel) -> None:
    channel.relay_token = "a-different-token"  # the webhook accepts our signature, the relay does not
    call = SimulatedCall(config(channel))
    with pytest.raises(CallRefused, match="relay refused the signature"):
        await call.start()
    await call.hangup()
    assert channel.ws_signature_ok == [False]


async def test_many_calls_at_once_in_one_loop(channel: FakeChannel) -> None:
    async with httpx.AsyncClient() as http:
        calls = [SimulatedCall(config(channel, caller=f"+1718555{n:04d}"), http=http) for n in range(12)]
        greetings = await asyncio.gather(*(call.start() for call in calls))
        turns = await asyncio.gather(*(call.say(f"caller {n}") for n, call in enumerate(calls)))
        await asyncio.gather(*(call.hangup() for call in calls))
    assert all(greeting.complete for greeting in greetings)
    assert [turn.relay_text for turn in turns] == [f"You said caller {n}. Anything else?" for n in range(12)]
    assert len({call.call_sid for call in calls}) == 12 and len(channel.posts["status"]) == 12


async def test_nothing_listening_is_unreachable() -> None:
    call = SimulatedCall(CallConfig(rasa_url=f"http://127.0.0.1:{free_port()}", timeout=3))
    with pytest.raises(CallUnreachable, match="cannot reach"):
        await call.start()
    await call.hangup()


# -- a scenario with its Rent Manager outcome ------------------------------------------------


class Collect(Listener):
    def __init__(self) -> None:
        self.checks: List[tuple] = []

    def check(self, passed: bool, message: str) -> None:
        self.checks.append((passed, message))


async def test_scenario_outcomes_read_rent_manager(channel: FakeChannel, standin: StandIn) -> None:
    channel.rentmanager = standin.url
    emergency = parse_scenario({
        "name": "gas", "steps": [{"expect": "Maria"}, {"say": "emergency", "expect": "on-call"}],
        "outcome": {"end": "transfer", "dial": ONCALL, "issue": {"priority": "Emergency", "category": "Emergency"},
                    "wait": 3},
    }, environ={})
    wrong = parse_scenario({
        "name": "not filed", "steps": [{"say": "emergency"}],
        "outcome": {"end": "hangup", "no_issue": True, "wait": 1},
    }, environ={})
    check = RentManagerCheck(standin.url, "api", "standin")
    try:
        listener = Collect()
        passed = await run_scenario(emergency, config(channel), check, listener)
        assert passed.passed, passed.failures
        assert (True, "outcome: end transfer") in listener.checks
        assert any(ok and "priority 'Emergency'" in message and "priority Emergency, category Emergency" in message
                   for ok, message in listener.checks)
        failed = await run_scenario(wrong, config(channel), check)
        assert failed.failures[0] == f"outcome: end hangup; the call ended: transfer to {ONCALL}"
        assert failed.failures[1].startswith("outcome: expected no service issue; filed: #")
        assert "\"EMERGENCY: Gas smell\" priority Emergency" in failed.failures[1]
    finally:
        await check.aclose()
    unreachable = RentManagerCheck(f"http://127.0.0.1:{free_port()}", "api", "standin")
    with pytest.raises(SetupError, match="cannot reach Rent Manager"):
        await run_scenario(emergency, config(channel), unreachable)
    await unreachable.aclose()


# -- the Gather call -------------------------------------------------------------------------


async def test_a_gather_call(channel: FakeChannel) -> None:
    async with SimulatedCall(config(channel, gather=True)) as call:
        greeting = await call.start()
        assert greeting.says == ["Hi, this is Sarah."] and greeting.first_ms is not None
        turn = await call.say("my sink is leaking", confidence=0.87)
        assert turn.text == "You said my sink is leaking."
        quiet = await call.silence(5)
        assert quiet.text == "Are you still there?"
        key = await call.dtmf("0")
        assert key.undelivered and "does not listen for keys" in key.undelivered
        transfer = await call.say("transfer me")
    assert transfer.says == ["Connecting you."] and transfer.end == "transfer"
    assert transfer.dial.number == OFFICE and transfer.dial.timeout == 20
    first, second, third, fourth = channel.posts["gather"]
    assert "SpeechResult" not in first and first["CallStatus"] == "ringing"
    assert second["SpeechResult"] == "my sink is leaking" and second["Confidence"] == "0.87"
    assert "SpeechResult" not in third and fourth["SpeechResult"] == "transfer me"
    assert channel.posts["incoming"] == [] and len(channel.posts["status"]) == 1


# -- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("public_url, base, rasa, expected", [
    ("wss://a.example.com/webhooks/twilio/relay", "https://a.example.com", "http://127.0.0.1:5005",
     "ws://127.0.0.1:5005/webhooks/twilio/relay"),
    ("wss://a.example.com/webhooks/twilio/relay", "https://a.example.com", "https://rasa.internal",
     "wss://rasa.internal/webhooks/twilio/relay"),
    ("https://a.example.com/bot/webhooks/twilio/gather?turn=2", "https://a.example.com/bot", "http://localhost:5005",
     "http://localhost:5005/webhooks/twilio/gather?turn=2"),
    ("https://other.example.com/webhooks/twilio/handoff", "https://a.example.com", "http://127.0.0.1:5005",
     "http://127.0.0.1:5005/webhooks/twilio/handoff"),
])
def test_local_url(public_url: str, base: str, rasa: str, expected: str) -> None:
    assert local_url(public_url, base, rasa) == expected


def test_config_from_environment() -> None:
    env = {"RASA_PORT": "6006", "PUBLIC_BASE_URL": "https://x.example.com", "TWILIO_AUTH_TOKEN": "t",
           "TWILIO_ACCOUNT_SID": "AC" + "0" * 32}
    found = CallConfig.from_env(env, caller="+13475550100")
    assert found.rasa_url == "http://127.0.0.1:6006" and found.public == "https://x.example.com"
    assert found.auth_token == "t" and found.account_sid == "AC" + "0" * 32 and found.caller == "+13475550100"
    assert CallConfig.from_env({"RASA_URL": "http://h:1/"}).public == "http://h:1"


# -- the command line ------------------------------------------------------------------------


async def _cli(*args: str) -> "tuple[int, str]":
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", *args, cwd=str(REPO),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode()


async def test_cli_scenarios_pass_fail_and_cannot_connect(channel: FakeChannel, tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text(
        "name: keypad transfer\n"
        "steps:\n"
        "  - expect: [maria]\n"
        "  - say: um my sink is leaking\n"
        "    expect: [[anything else, what else]]\n"
        "  - dtmf: 0\n"
        "outcome:\n"
        "  end: transfer\n"
        f"  dial: \"${{SIM_TEST_UNSET:-{OFFICE}}}\"\n"
    )
    bad = tmp_path / "bad.yml"
    bad.write_text("steps:\n  - expect: [Diane]\n  - say: bye\noutcome: {end: transfer}\n")
    common = ["--rasa-url", channel.url, "--public-base-url", PUBLIC, "--auth-token", TOKEN, "--timeout", "5"]
    code, out = await _cli("--scenario", str(good), *common)
    assert code == 0, out
    assert "Assistant: Hi Maria, thanks for calling. How can I help?  [first" in out and "PASS keypad transfer" in out
    assert "transferred: <Dial> +17184146984" in out
    code, out = await _cli("--scenario", str(bad), *common)
    assert code == 1, out
    assert 'expected "Diane"; heard "Hi Maria, thanks for calling. How can I help?"' in out
    assert "outcome: end transfer; the call ended: hangup" in out
    code, out = await _cli("--scenario", str(good), "--rasa-url", f"http://127.0.0.1:{free_port()}")
    assert code == 2 and "cannot reach" in out
    code, out = await _cli("--scenario", str(tmp_path / "missing.yml"))
    assert code == 2 and "cannot read the scenario" in out
    code, out = await _cli("--scenario", str(good), *common[:-4], "--auth-token", "not-the-token")
    assert code == 2 and "refused the signature" in out


async def test_cli_interactive(channel: FakeChannel) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator", "--rasa-url", channel.url, "--public-base-url", PUBLIC,
        "--auth-token", TOKEN, "--timeout", "5", cwd=str(REPO),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(b"hello there\n/junk unknown_type\n/dtmf 0\n"), 60)
    text = out.decode()
    assert process.returncode == 0, text
    assert "You said hello there. Anything else?" in text and "Connecting you to the office." in text
    assert "== call over (transfer); status callback answered HTTP 204" in text
