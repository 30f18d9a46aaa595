"""One simulated phone call: the simulator plays Twilio against the phone channel.

`SimulatedCall` does what Twilio does on a real call, over the same HTTP and WebSocket routes
(shared/reference/twilio.md, DESIGN.md): it POSTs the voice webhook, reads the TwiML, opens the
ConversationRelay WebSocket (or follows `<Gather>` turns), sends the caller's words as `prompt`
frames, reads the assistant's `text` frames until `last: true`, follows an `end` frame to the
`<Connect action>` URL, and finally POSTs the status callback. Every request is signed with
X-Twilio-Signature over the public URL Twilio would have used, when an Auth Token is set.

Each action (`start`, `say`, `dtmf`, `interrupt`, `silence`, `junk`, `hangup`) returns a `Reply`:
what the caller heard, the timings in ms from the frame we sent (to the first audible text frame
and to the `last: true` frame), and any end of the relay with its handoff data and TwiML. Calls
share nothing but an optional `httpx.AsyncClient`, so many run side by side in one event loop.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Tuple, Union
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import httpx
import websockets.client
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatusCode

from simulator import twiml
from simulator.signing import signature_headers
from simulator.twiml import Dial, Gather, Relay, Response, TwiMLError

logger = logging.getLogger(__name__)

DEFAULT_CALLER = "+17185550134"
DEFAULT_CALLED = "+17184146984"
DEFAULT_TIMEOUT = 15.0
WEBHOOK_PREFIX = "/webhooks/twilio"
INCOMING_PATH = f"{WEBHOOK_PREFIX}/incoming"
GATHER_PATH = f"{WEBHOOK_PREFIX}/gather"
STATUS_PATH = f"{WEBHOOK_PREFIX}/status"
API_VERSION = "2010-04-01"
OVERSIZED_BYTES = 100_000
MAX_REDIRECTS = 10
# How long to wait for anything after a frame that needs no answer (interrupt, junk).
SETTLE_SECONDS = 1.0
# How long after a reply's `last: true` an `end` frame still counts as part of that reply.
END_GRACE_SECONDS = 0.3

# Frames Twilio would never send: the channel must survive each and the call must go on.
JUNK_FRAMES: Dict[str, Callable[[], Union[str, bytes]]] = {
    "malformed_json": lambda: '{"type": "prompt", "voicePrompt": "my sink is lea',
    "unknown_type": lambda: json.dumps({"type": "dance", "moves": ["left", "right"]}),
    "missing_type": lambda: json.dumps({"voicePrompt": "hello", "last": True}),
    "wrong_types": lambda: json.dumps({"type": "prompt", "voicePrompt": 12345, "last": "yes"}),
    "oversized": lambda: json.dumps({
        "type": "prompt", "lang": "en-US", "last": True,
        "voicePrompt": ("my sink is leaking " * (OVERSIZED_BYTES // 19 + 1))[:OVERSIZED_BYTES],
    }),
    "empty": lambda: "",
    "binary": lambda: b"\x00\xffnot text\x00",
}
JUNK_KINDS = tuple(JUNK_FRAMES)


class CallError(Exception):
    """The call cannot go on: the channel is unreachable, refused a signature, or answered what Twilio would not."""


class CallUnreachable(CallError):
    """Nothing answers at the channel's address (connection refused, DNS, a timeout on connect)."""


class CallRefused(CallError):
    """The channel refused Twilio's signature (HTTP 403): a wrong Auth Token or public URL, or a broken check."""


class CallEnded(CallError):
    """An action was asked of a call that is already over (transferred, hung up, or dropped)."""


def new_sid(prefix: str) -> str:
    """A Twilio-shaped id: two letters and 32 hex digits (CA... calls, AC... accounts, VX... relay sessions)."""
    return prefix + uuid.uuid4().hex


@dataclass
class CallConfig:
    """Where the channel is and who is calling; `from_env` reads the same variables as the stack."""

    rasa_url: str = "http://127.0.0.1:5005"
    public_base_url: Optional[str] = None
    auth_token: Optional[str] = None
    account_sid: Optional[str] = None
    caller: str = DEFAULT_CALLER
    called: str = DEFAULT_CALLED
    gather: bool = False
    timeout: float = DEFAULT_TIMEOUT
    settle: float = SETTLE_SECONDS  # how long to listen after a frame that needs no answer

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, **overrides: Any) -> "CallConfig":
        env = os.environ if environ is None else environ
        rasa_url = env.get("RASA_URL") or f"http://127.0.0.1:{env.get('RASA_PORT') or 5005}"
        values: Dict[str, Any] = {
            "rasa_url": rasa_url,
            "public_base_url": env.get("PUBLIC_BASE_URL") or None,
            "auth_token": env.get("TWILIO_AUTH_TOKEN") or None,
            "account_sid": env.get("TWILIO_ACCOUNT_SID") or None,
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)

    @property
    def public(self) -> str:
        """The origin Twilio uses (signatures are computed over it): PUBLIC_BASE_URL, else the Rasa URL."""
        return (self.public_base_url or self.rasa_url).rstrip("/")


def local_url(public_url: str, public_base: str, rasa_url: str) -> str:
    """Maps a URL Twilio would request (https or wss, on the public origin) onto the local Rasa server.

    The path below the public base is kept; the scheme follows the Rasa URL (wss becomes ws when the
    Rasa URL is plain http).
    """
    target, base, local = urlsplit(public_url), urlsplit(public_base.rstrip("/")), urlsplit(rasa_url.rstrip("/"))
    secure = local.scheme == "https"
    scheme = ("wss" if secure else "ws") if target.scheme in ("ws", "wss") else local.scheme
    path = target.path
    if target.netloc == base.netloc and base.path and path.startswith(base.path):
        path = path[len(base.path):]
    return urlunsplit((scheme, local.netloc, local.path + path, target.query, ""))


@dataclass
class Frame:
    """A frame the relay sent us, `at_ms` after the frame we sent."""

    at_ms: float
    raw: Union[str, bytes]
    data: Optional[Dict[str, Any]] = None


@dataclass
class Reply:
    """What came back for one action of the caller.

    `tokens` are the relay's text frames in order; `says` are `<Say>` texts from TwiML (Gather
    turns, or the answer after the relay ended). `first_ms` is the time from the frame (or HTTP
    request) we sent to the first text frame with audible text; `last_ms` to the `last: true` frame.
    `stale` holds text that arrived after the previous action had its reply and before this one
    was sent; `invalid` the frames Twilio would drop; `undelivered` says why Twilio would not
    have passed this action on at all (a key press the TwiML does not listen for). `end` is
    transfer | hangup | dropped when the call ended here, with `dial` for a transfer, `twiml` the
    last TwiML answered, and `resumed` the greeting when the answer connected a new relay.
    """

    action: str
    tokens: List[str] = field(default_factory=list)
    says: List[str] = field(default_factory=list)
    first_ms: Optional[float] = None
    last_ms: Optional[float] = None
    complete: bool = False
    timed_out: bool = False
    frames: List[Frame] = field(default_factory=list)
    stale: List[str] = field(default_factory=list)
    handoff_data: Optional[str] = None
    ended_relay: bool = False
    twiml: Optional[Response] = None
    end: Optional[str] = None
    dial: Optional[Dial] = None
    closed: Optional[str] = None
    invalid: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    undelivered: Optional[str] = None
    resumed: Optional["Reply"] = None

    @property
    def relay_text(self) -> str:
        return join_tokens(self.tokens)

    @property
    def text(self) -> str:
        """Everything the caller heard in this reply: relay text, then any `<Say>` text."""
        parts = [self.relay_text] + self.says
        if self.resumed is not None:
            parts.append(self.resumed.text)
        return " ".join(part for part in parts if part.strip())

    @property
    def handoff(self) -> Optional[Dict[str, Any]]:
        """`handoffData` parsed as JSON, when it is a JSON object."""
        if not self.handoff_data:
            return None
        try:
            value = json.loads(self.handoff_data)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    @property
    def ended(self) -> bool:
        """The call is over after this reply (transfer, hang-up or a dropped relay)."""
        return self.end is not None


def join_tokens(tokens: List[str]) -> str:
    """Streamed tokens as one text; whole sentences sent as separate frames get a space between them."""
    text = ""
    for token in tokens:
        if text and token and not text[-1].isspace() and not token[0].isspace() and text[-1] in ".?!,;:":
            text += " "
        text += token
    return " ".join(text.split())


_CLOSED = object()


class _RelaySession:
    """One ConversationRelay WebSocket: a reader task queues every frame with its arrival time."""

    def __init__(self, relay: Relay, ws: websockets.client.WebSocketClientProtocol, session_id: str,
                 on_idle_frame: Optional[Callable[[Dict[str, Any]], None]]) -> None:
        self.relay = relay
        self.ws = ws
        self.session_id = session_id
        self.started = time.perf_counter()
        self.frames: "asyncio.Queue[Tuple[float, Any]]" = asyncio.Queue()
        self.pushback: "Deque[Tuple[float, Any]]" = deque()  # frames looked at but not yet used
        self.busy = False
        self.close_description: Optional[str] = None
        self._on_idle_frame = on_idle_frame
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                self.frames.put_nowait((time.perf_counter(), message))
                if self._on_idle_frame is not None and not self.busy:
                    parsed = _parse_frame(message)
                    if parsed is not None:
                        self._on_idle_frame(parsed)
        except ConnectionClosed:
            pass
        finally:
            code, reason = self.ws.close_code, self.ws.close_reason
            self.close_description = f"code {code}" + (f" ({reason})" if reason else "")
            self.frames.put_nowait((time.perf_counter(), _CLOSED))

    async def next(self, timeout: float) -> Tuple[float, Any]:
        """The next frame (or _CLOSED) with its arrival time; asyncio.TimeoutError after `timeout` s."""
        if self.pushback:
            return self.pushback.popleft()
        return await asyncio.wait_for(self.frames.get(), timeout)

    def pending(self) -> List[Tuple[float, Any]]:
        """Every frame already received and not yet used, without waiting."""
        found = list(self.pushback)
        self.pushback.clear()
        while not self.frames.empty():
            found.append(self.frames.get_nowait())
        return found

    async def close(self) -> None:
        await self.ws.close(code=1000)
        try:
            await asyncio.wait_for(self._reader, 5)
        except (asyncio.TimeoutError, asyncio.CancelledError):
            self._reader.cancel()


def _parse_frame(raw: Union[str, bytes]) -> Optional[Dict[str, Any]]:
    if isinstance(raw, bytes):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@dataclass
class _Next:
    """Where a TwiML document left the call."""

    kind: str  # relay | gather | transfer | hangup | other
    verb: Any = None
    doc: Optional[Response] = None
    doc_url: str = ""
    index_after: int = 0


class SimulatedCall:
    """One inbound call, as Twilio would place it. Use `async with` or call `hangup()` at the end.

    `on_idle_frame` is called with each frame that arrives while no action is waiting for a reply
    (the interactive mode prints the assistant's unprompted words with it).
    """

    def __init__(
        self,
        config: CallConfig,
        http: Optional[httpx.AsyncClient] = None,
        on_idle_frame: Optional[Callable[[Dict[str, Any]], None]] = None,
    ) -> None:
        self.config = config
        self.call_sid = new_sid("CA")
        self.account_sid = config.account_sid or new_sid("AC")
        self.replies: List[Reply] = []
        self.documents: List[Tuple[str, Response]] = []  # (what was requested, the TwiML answered)
        self.warnings: List[str] = []
        self.end: Optional[str] = None  # transfer | hangup | dropped | caller
        self.dial: Optional[Dial] = None
        self.status_callback: Optional[int] = None  # the HTTP status the status callback got
        self._http = http
        self._own_http = http is None
        self._on_idle_frame = on_idle_frame
        self._session: Optional[_RelaySession] = None
        self._gather: Optional[_Next] = None
        self._after_connect: Optional[_Next] = None
        self._started_at: Optional[float] = None
        self._finished = False

    # -- context manager -----------------------------------------------------------------------

    async def __aenter__(self) -> "SimulatedCall":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.hangup()

    # -- what the caller does ------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.end is not None

    @property
    def session_id(self) -> Optional[str]:
        return self._session.session_id if self._session else None

    async def start(self) -> Reply:
        """Places the call and returns the greeting."""
        if self._started_at is not None:
            raise CallError("the call has already started")
        if self._http is None:
            self._http = httpx.AsyncClient()
        self._started_at = time.perf_counter()
        reply = Reply(action="call")
        if self.config.gather:
            url = self.config.public + GATHER_PATH
            await self._twiml_turn(reply, url, self._call_params("ringing"), "POST /webhooks/twilio/gather")
            if self._gather is None and not self.ended:
                raise CallError(f"expected <Gather> from POST {GATHER_PATH}, got:\n{reply.twiml.summary()}")
            return self._record(reply)
        url = self.config.public + INCOMING_PATH
        started = time.perf_counter()
        doc = await self._post_twiml(url, self._call_params("ringing"), f"POST {INCOMING_PATH}")
        reply.notes.append(f"POST {INCOMING_PATH} answered in {_ms(started):.0f} ms")
        reply.twiml = doc
        step = await self._walk(doc, url, reply)
        if step.kind != "relay":
            raise CallError(
                f"expected <Connect><ConversationRelay> from POST {INCOMING_PATH}, got:\n{doc.summary()}"
            )
        await self._open_relay(step, reply)
        return self._record(reply)

    async def say(self, text: str, confidence: float = 0.92) -> Reply:
        """The caller says `text` (a final `prompt` frame, or a Gather `SpeechResult`)."""
        self._check_live()
        if self._session is not None:
            frame = {"type": "prompt", "voicePrompt": text, "lang": "en-US", "last": True}
            return await self._relay_exchange(f"say {text!r}", json.dumps(frame))
        gather = self._gather.verb
        reply = Reply(action=f"say {text!r}")
        if not gather.accepts_speech:
            reply.undelivered = f'<Gather input="{gather.input}"> does not listen for speech: Twilio ignores it'
            return self._record(reply)
        params = dict(self._call_params(), SpeechResult=text, Confidence=f"{confidence:.2f}")
        return self._record(await self._gather_post(reply, params))

    async def dtmf(self, digit: str, force: bool = False) -> Reply:
        """The caller presses a key. Twilio passes keys on only when the TwiML asks for them."""
        self._check_live()
        reply = Reply(action=f"dtmf {digit}")
        if self._session is not None:
            if self._session.relay.attributes.get("dtmfDetection", "false").lower() != "true" and not force:
                reply.undelivered = '<ConversationRelay> has no dtmfDetection="true": Twilio would not pass the key on'
                return self._record(reply)
            return await self._relay_exchange(f"dtmf {digit}", json.dumps({"type": "dtmf", "digit": digit}))
        gather = self._gather.verb
        if not gather.accepts_dtmf and not force:
            reply.undelivered = f'<Gather input="{gather.input}"> does not listen for keys: Twilio ignores the key'
            return self._record(reply)
        return self._record(await self._gather_post(reply, dict(self._call_params(), Digits=digit)))

    async def keys(self, digits: str, gap: float = 0.3) -> Reply:
        """The caller types several keys in a row, `gap` seconds apart (as a person does), and the
        reply to the whole sequence is read. Relay only; in Gather mode each key is one POST."""
        self._check_live()
        if self._session is None or len(digits) < 2:
            return await self.dtmf(digits)
        for digit in digits[:-1]:
            await self._session.ws.send(json.dumps({"type": "dtmf", "digit": digit}))
            await asyncio.sleep(gap)
        return await self._relay_exchange(f"keys {digits}", json.dumps({"type": "dtmf", "digit": digits[-1]}))

    async def interrupt(self, heard: str, duration_ms: int = 1200, force: bool = False) -> Reply:
        """The caller talks over the assistant after hearing `heard`; no answer is expected to this frame."""
        self._check_live()
        if self._session is None:
            return self._record(Reply(action=f"interrupt {heard!r}", notes=["no interrupts in Gather mode"]))
        interruptible = self._session.relay.attributes.get("interruptible", "any").lower()
        if interruptible in ("none", "false", "dtmf") and not force:
            return self._record(Reply(
                action=f"interrupt {heard!r}",
                undelivered=f'<ConversationRelay interruptible="{interruptible}">: speech does not interrupt',
            ))
        frame = {"type": "interrupt", "utteranceUntilInterrupt": heard, "durationUntilInterruptMs": duration_ms}
        return await self._relay_exchange(f"interrupt {heard!r}", json.dumps(frame), window=self.config.settle)

    async def silence(self, seconds: float) -> Reply:
        """The caller says nothing for `seconds`; returns whatever the assistant says on its own."""
        self._check_live()
        if self._session is not None:
            return await self._relay_exchange(f"silence {seconds:g}s", None, window=seconds, stop_on_last=False)
        gather = self._gather
        reply = Reply(action=f"silence {seconds:g}s")
        if gather.verb.action_on_empty_result:
            return self._record(await self._gather_post(reply, self._call_params()))
        # Without actionOnEmptyResult Twilio goes on with the document after the <Gather>.
        self._gather = None
        reply.notes.append("no speech and no actionOnEmptyResult: Twilio goes on after the <Gather>")
        step = await self._walk(gather.doc, gather.doc_url, reply, start=gather.index_after)
        await self._apply(step, reply)
        return self._record(reply)

    async def listen(self, seconds: float = 0.0) -> Reply:
        """Reads what the assistant said on its own since the last action (relay only; no Gather POST)."""
        self._check_live()
        if self._session is None:
            return self._record(Reply(action="listen"))
        return await self._relay_exchange("listen", None, window=seconds, stop_on_last=False)

    async def junk(self, kind: str) -> Reply:
        """Sends a frame Twilio never would (one of JUNK_KINDS); the channel should drop it and go on."""
        self._check_live()
        if kind not in JUNK_FRAMES:
            raise ValueError(f"unknown junk kind {kind!r}; one of: {', '.join(JUNK_KINDS)}")
        if self._session is None:
            return self._record(Reply(action=f"junk {kind}", notes=["no relay frames in Gather mode"]))
        return await self._relay_exchange(f"junk {kind}", JUNK_FRAMES[kind](), window=self.config.settle)

    async def hangup(self) -> Reply:
        """The caller hangs up (the relay closes), then Twilio POSTs the status callback. Idempotent."""
        reply = Reply(action="hangup")
        if self._finished:
            return reply
        self._finished = True
        try:
            if self._session is not None:
                session = self._session
                pending = self._drain_stale(session, reply)
                if pending is not None:  # the assistant had already ended (or dropped) the relay
                    try:
                        await self._relay_over(session, reply, pending)
                    except CallError as exc:
                        reply.notes.append(str(exc))
                        self.warnings.append(str(exc))
                if self._session is not None:
                    await self._session.close()
                    self._session = None
            if self._started_at is not None:
                if self.end is None:
                    self.end = "caller"
                self._gather = None
                await self._post_status(reply)
        finally:
            if self._own_http and self._http is not None:
                await self._http.aclose()
        return self._record(reply)

    # -- relay ---------------------------------------------------------------------------------

    async def _open_relay(self, step: _Next, reply: Reply) -> None:
        relay: Relay = step.verb
        self._after_connect = step
        target = local_url(relay.url, self.config.public, self.config.rasa_url)
        public_host, relay_host = urlsplit(self.config.public).netloc, urlsplit(relay.url).netloc
        if public_host != relay_host:
            self.warnings.append(f"the relay URL's host {relay_host} is not the public host {public_host}")
        headers = signature_headers(self.config.auth_token, relay.url)
        try:
            ws = await websockets.client.connect(
                target, extra_headers=headers, open_timeout=self.config.timeout,
                user_agent_header="TwilioCallSimulator/1.0", max_size=2 ** 22,
            )
        except InvalidStatusCode as exc:
            if exc.status_code == 403:
                raise CallRefused(
                    f"relay refused the signature (HTTP 403 on the WebSocket upgrade to {target}; "
                    f"signed over {relay.url})"
                ) from None
            raise CallError(f"the relay upgrade to {target} was answered HTTP {exc.status_code}") from None
        except (OSError, asyncio.TimeoutError) as exc:
            raise CallUnreachable(f"cannot open the relay WebSocket {target}: {exc or type(exc).__name__}") from None
        except InvalidHandshake as exc:
            raise CallError(f"cannot open the relay WebSocket {target}: {exc or type(exc).__name__}") from None
        session = _RelaySession(relay, ws, new_sid("VX"), self._on_idle_frame)
        self._session = session
        setup = {
            "type": "setup", "sessionId": session.session_id, "accountSid": self.account_sid,
            "parentCallSid": "", "callSid": self.call_sid, "from": self.config.caller, "to": self.config.called,
            "forwardedFrom": self.config.called, "callerName": "", "direction": "inbound", "callType": "PSTN",
            "callStatus": "RINGING", "customParameters": dict(relay.parameters),
        }
        if relay.welcome_greeting:
            # Twilio speaks the welcome greeting itself; the server may still add words of its own.
            reply.says.append(relay.welcome_greeting)
            reply.notes.append("welcomeGreeting spoken by Twilio")
            await self._exchange(session, reply, json.dumps(setup), window=self.config.settle)
            if not reply.tokens:
                reply.complete, reply.first_ms, reply.last_ms = True, 0.0, 0.0
        else:
            await self._exchange(session, reply, json.dumps(setup))

    async def _relay_exchange(self, action: str, frame: Optional[Union[str, bytes]], window: Optional[float] = None,
                              stop_on_last: bool = True) -> Reply:
        reply = Reply(action=action)
        await self._exchange(self._session, reply, frame, window=window, stop_on_last=stop_on_last)
        return self._record(reply)

    async def _exchange(self, session: _RelaySession, reply: Reply, frame: Optional[Union[str, bytes]],
                        window: Optional[float] = None, stop_on_last: bool = True) -> None:
        """Sends `frame` (None: nothing) and reads until `last: true`, or for `window` seconds."""
        pending = self._drain_stale(session, reply)
        if pending is not None:
            if frame is not None:
                reply.undelivered = "the assistant had already ended the relay before this was sent"
            await self._relay_over(session, reply, pending)
            return
        session.busy = True
        try:
            started = time.perf_counter()
            if frame is not None:
                try:
                    await session.ws.send(frame)
                except ConnectionClosed:
                    pass  # the reader queues the close; it is reported below
            outcome = await self._collect(session, reply, started, window, stop_on_last)
        finally:
            session.busy = False
        await self._relay_over(session, reply, outcome)

    async def _relay_over(self, session: _RelaySession, reply: Reply, outcome: Optional[str]) -> None:
        """Follows an `end` frame to the action URL, or reports a relay that dropped without one."""
        if outcome == "end":
            await self._relay_ended(session, reply)
        elif outcome == "closed":
            self._session = None
            self.end = reply.end = "dropped"
            reply.closed = f"the relay WebSocket closed without an end frame ({session.close_description})"

    async def _collect(self, session: _RelaySession, reply: Reply, started: float, window: Optional[float],
                       stop_on_last: bool) -> str:
        timeout = self.config.timeout
        window_end = started + window if window is not None else None
        reply_started: Optional[float] = None  # when a reply still under way began
        while True:
            now = time.perf_counter()
            if window_end is None:
                until = started + timeout
            elif reply_started is not None:
                until = max(window_end, reply_started + timeout)
            else:
                until = window_end
            if now >= until:
                if window_end is None or reply_started is not None:
                    reply.timed_out = True
                return "timeout"
            try:
                at, raw = await session.next(until - now)
            except asyncio.TimeoutError:
                continue
            if raw is _CLOSED:
                return "closed"
            outcome = self._take(reply, raw, (at - started) * 1000)
            if outcome == "text" and reply_started is None:
                reply_started = at
            elif outcome == "last":
                reply_started = None
                if stop_on_last:
                    return await self._end_follows(session, reply, started)
            elif outcome == "end":
                return "end"

    async def _end_follows(self, session: _RelaySession, reply: Reply, started: float) -> str:
        """After `last: true`, an `end` sent right behind it belongs to this reply (a goodbye, a transfer)."""
        try:
            at, raw = await session.next(END_GRACE_SECONDS)
        except asyncio.TimeoutError:
            return "last"
        data = _parse_frame(raw) if raw is not _CLOSED else None
        if data is not None and data.get("type") == "end":
            self._take(reply, raw, (at - started) * 1000)
            return "end"
        session.pushback.appendleft((at, raw))
        return "last"

    def _take(self, reply: Reply, raw: Union[str, bytes], at_ms: float) -> Optional[str]:
        """Files one received frame into the reply; says whether it was text, the last text, or the end."""
        frame = Frame(at_ms=at_ms, raw=raw, data=_parse_frame(raw))
        reply.frames.append(frame)
        data = frame.data
        if data is None:
            reply.invalid.append(f"not a JSON object: {_clip(raw)} (Twilio drops it, error 64107)")
            return None
        kind = data.get("type")
        if kind == "text":
            token = data.get("token")
            if not isinstance(token, str):
                reply.invalid.append(f"text frame without a string token: {_clip(raw)} (error 64107)")
                return None
            last = data.get("last", False)
            if not isinstance(last, bool):
                reply.invalid.append(f"text frame with a non-boolean last: {_clip(raw)}")
            reply.tokens.append(token)
            if token.strip() and reply.first_ms is None:
                reply.first_ms = at_ms
            if last is True:
                reply.complete = True
                reply.last_ms = at_ms
                if reply.first_ms is None:
                    reply.first_ms = at_ms
                return "last"
            return "text"
        if kind == "end":
            handoff = data.get("handoffData")
            if handoff is not None and not isinstance(handoff, str):
                reply.invalid.append("end frame whose handoffData is not a string (it must be a JSON string)")
                handoff = json.dumps(handoff)
            reply.handoff_data = handoff
            reply.ended_relay = True
            return "end"
        if kind in ("play", "sendDigits", "language"):
            reply.notes.append(f"{kind} frame: {_clip(raw)}")
            return None
        reply.invalid.append(f"unknown frame type {kind!r}: {_clip(raw)} (Twilio drops it, error 64107)")
        return None

    def _drain_stale(self, session: _RelaySession, reply: Reply) -> Optional[str]:
        """Frames that arrived between actions, kept as `stale` so nothing said goes unseen.

        Returns "end" or "closed" when the assistant ended or dropped the relay in the meantime.
        """
        stale = Reply(action="stale")
        outcome: Optional[str] = None
        for _, raw in session.pending():
            if raw is _CLOSED:
                outcome = outcome or "closed"
                break
            if self._take(stale, raw, 0.0) == "end":
                outcome = "end"
                break
        if stale.tokens:
            reply.stale.append(stale.relay_text)
        reply.invalid.extend(stale.invalid)
        if outcome == "end":
            reply.handoff_data, reply.ended_relay = stale.handoff_data, True
        return outcome

    async def _relay_ended(self, session: _RelaySession, reply: Reply) -> None:
        """The server sent `end`: Twilio closes the relay and asks the `<Connect action>` what next."""
        self._session = None
        duration = max(0, round(time.perf_counter() - session.started))
        await session.close()
        step = self._after_connect
        relay = session.relay
        if not relay.action:
            reply.notes.append("no <Connect action>: Twilio goes on with the document after <Connect>")
            next_step = await self._walk(step.doc, step.doc_url, reply, start=step.index_after)
        else:
            url = urljoin(step.doc_url, relay.action)
            params = dict(self._call_params(), SessionId=session.session_id, SessionStatus="ended",
                          SessionDuration=str(duration))
            if reply.handoff_data is not None:
                params["HandoffData"] = reply.handoff_data
            doc = await self._post_twiml(url, params, "POST <Connect action>")
            reply.twiml = doc
            next_step = await self._walk(doc, url, reply)
        await self._apply(next_step, reply)

    # -- TwiML ---------------------------------------------------------------------------------

    async def _walk(self, doc: Response, doc_url: str, reply: Reply, start: int = 0) -> _Next:
        """Plays a document as Twilio does until it needs the caller, connects, transfers or ends."""
        redirects = 0
        index = start
        while True:
            if index >= len(doc.verbs):
                return _Next("hangup", None, doc, doc_url, index)
            verb = doc.verbs[index]
            index += 1
            if isinstance(verb, twiml.Say):
                reply.says.append(verb.text)
            elif isinstance(verb, (twiml.Play, twiml.Pause)):
                reply.notes.append(twiml.describe(verb))
            elif isinstance(verb, Relay):
                return _Next("relay", verb, doc, doc_url, index)
            elif isinstance(verb, Gather):
                return _Next("gather", verb, doc, doc_url, index)
            elif isinstance(verb, Dial):
                return _Next("transfer", verb, doc, doc_url, index)
            elif isinstance(verb, (twiml.Hangup, twiml.Reject)):
                return _Next("hangup", verb, doc, doc_url, index)
            elif isinstance(verb, twiml.Redirect):
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise CallError(f"more than {MAX_REDIRECTS} <Redirect>s in a row")
                doc_url = urljoin(doc_url, verb.url)
                doc = await self._request_twiml(verb.method, doc_url, self._call_params(), "<Redirect>")
                reply.twiml = doc
                index = 0
            else:
                reply.notes.append(f"{twiml.describe(verb)} is not simulated; skipped")

    async def _apply(self, step: _Next, reply: Reply) -> None:
        """Moves the call on to where the document left it."""
        self._gather = None
        if step.kind == "relay":
            reply.resumed = Reply(action="relay again")
            await self._open_relay(step, reply.resumed)
            if reply.resumed.ended:
                reply.end = reply.resumed.end
                reply.dial = reply.resumed.dial
        elif step.kind == "gather":
            reply.says.extend(step.verb.says)
            self._gather = step
        elif step.kind == "transfer":
            self.end = reply.end = "transfer"
            self.dial = reply.dial = step.verb
        else:
            self.end = reply.end = "hangup"

    async def _twiml_turn(self, reply: Reply, url: str, params: Dict[str, str], what: str) -> None:
        started = time.perf_counter()
        doc = await self._post_twiml(url, params, what)
        reply.first_ms = reply.last_ms = _ms(started)
        reply.complete = True
        reply.twiml = doc
        step = await self._walk(doc, url, reply)
        await self._apply(step, reply)

    async def _gather_post(self, reply: Reply, params: Dict[str, str]) -> Reply:
        step = self._gather
        url = urljoin(step.doc_url, step.verb.action) if step.verb.action else step.doc_url
        await self._twiml_turn(reply, url, params, "POST <Gather action>")
        return reply

    # -- HTTP ----------------------------------------------------------------------------------

    def _call_params(self, status: str = "in-progress") -> Dict[str, str]:
        return {
            "AccountSid": self.account_sid, "CallSid": self.call_sid, "From": self.config.caller,
            "To": self.config.called, "Caller": self.config.caller, "Called": self.config.called,
            "CallStatus": status, "Direction": "inbound", "ApiVersion": API_VERSION,
        }

    async def _post_twiml(self, url: str, params: Dict[str, str], what: str) -> Response:
        return await self._request_twiml("POST", url, params, what)

    async def _request_twiml(self, method: str, url: str, params: Dict[str, str], what: str) -> Response:
        response = await self._request(method, url, params, what)
        try:
            doc = twiml.parse(response.text)
        except TwiMLError as exc:
            raise CallError(f"{what} answered TwiML Twilio would refuse: {exc}") from None
        content_type = response.headers.get("content-type", "")
        if "xml" not in content_type:
            self.warnings.append(f"{what} answered Content-Type {content_type!r}, not text/xml")
        self.warnings.extend(f"{what}: {warning}" for warning in doc.warnings)
        self.documents.append((what, doc))
        return doc

    async def _request(self, method: str, url: str, params: Dict[str, str], what: str) -> httpx.Response:
        """One signed request to the public `url`, sent to the local server."""
        assert self._http is not None
        if method == "GET":
            url = url + ("&" if "?" in url else "?") + urlencode(params)
            headers = signature_headers(self.config.auth_token, url)
            body: Optional[Dict[str, str]] = None
        else:
            headers = signature_headers(self.config.auth_token, url, params)
            body = params
        target = local_url(url, self.config.public, self.config.rasa_url)
        try:
            response = await self._http.request(method, target, data=body, headers=headers,
                                                 timeout=self.config.timeout)
        except httpx.ConnectTimeout:
            raise CallUnreachable(f"{what}: could not connect to {target} within {self.config.timeout:g} s") from None
        except httpx.TimeoutException:
            raise CallError(f"{what}: no answer from {target} within {self.config.timeout:g} s "
                            "(Twilio gives up after 15 s, error 11205)") from None
        except httpx.TransportError as exc:
            raise CallUnreachable(f"{what}: cannot reach {target} ({exc or type(exc).__name__}); is the Rasa "
                            "server with the twilio channel running?") from None
        except httpx.HTTPError as exc:
            raise CallError(f"{what}: {exc or type(exc).__name__}") from None
        if response.status_code == 403:
            raise CallRefused(f"{what}: HTTP 403, the channel refused the signature (signed over {url}; "
                            "check --auth-token and --public-base-url)")
        if response.status_code >= 400:
            raise CallError(f"{what}: HTTP {response.status_code} from {target}: {_clip(response.text)}")
        return response

    async def _post_status(self, reply: Reply) -> None:
        duration = max(1, round(time.perf_counter() - (self._started_at or time.perf_counter())))
        params = dict(self._call_params("completed"), CallDuration=str(duration))
        url = self.config.public + STATUS_PATH
        try:
            response = await self._request("POST", url, params, f"POST {STATUS_PATH}")
            self.status_callback = response.status_code
        except CallError as exc:
            self.status_callback = -1
            reply.notes.append(str(exc))
            self.warnings.append(str(exc))

    # -- bookkeeping ---------------------------------------------------------------------------

    def _check_live(self) -> None:
        if self._started_at is None:
            raise CallError("the call has not started: call start() first")
        if self._finished or self.ended:
            how = {"transfer": f"transferred to {self.dial.number if self.dial else '?'}",
                   "hangup": "hung up by the assistant", "dropped": "the relay dropped",
                   "caller": "hung up by the caller"}.get(self.end or "caller", self.end)
            raise CallEnded(f"the call is over ({how})")
        if self._session is None and self._gather is None:
            raise CallEnded("the call is over")

    def _record(self, reply: Reply) -> Reply:
        self.replies.append(reply)
        logger.debug("simulator.reply action=%s first_ms=%s last_ms=%s end=%s",
                     reply.action, reply.first_ms, reply.last_ms, reply.end)
        return reply


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _clip(raw: Union[str, bytes], limit: int = 120) -> str:
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[:limit]}... ({len(raw)} bytes)"
