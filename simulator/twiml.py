"""Reading TwiML answers the way Twilio reads them: verbs in document order, unknown verbs refused.

Why a parser of our own rather than twilio's TwiML classes: those only write TwiML. Here each verb
the phone channel may answer becomes a small typed value (`Relay`, `Gather`, `Dial`, `Say`,
`Hangup`...), and anything Twilio itself would refuse (not XML, no `<Response>`, an unknown verb, a
`<ConversationRelay>` without a `wss://` url, a `<Dial>` with nobody to call) raises `TwiMLError`
with a message naming the problem. Combinations Twilio accepts but warns about are kept in
`Response.warnings` (e.g. warning 13335, `speechTimeout="auto"` with `speechModel="default"`).
"""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import List, Mapping, Optional, Tuple, Type, TypeVar, Union

# Verbs allowed directly under <Response> in voice TwiML.
VOICE_VERBS = frozenset(
    "Connect Dial Echo Enqueue Gather Hangup Leave Pause Pay Play Record Redirect Refer Reject Say Sms Start Stop"
    .split()
)
DIAL_NOUNS = frozenset("Number Client Sip Conference Queue Application Sim".split())
GATHER_INPUTS = frozenset({"speech", "dtmf", "dtmf speech", "speech dtmf"})


class TwiMLError(ValueError):
    """An answer Twilio would not accept, or not the TwiML the simulator expected at that point."""


@dataclass(frozen=True)
class Say:
    text: str
    voice: Optional[str] = None
    language: Optional[str] = None


@dataclass(frozen=True)
class Play:
    url: str
    digits: Optional[str] = None


@dataclass(frozen=True)
class Pause:
    length: float = 1.0


@dataclass(frozen=True)
class Relay:
    """`<Connect action><ConversationRelay url .../></Connect>`: hand the call to the relay WebSocket."""

    url: str
    action: Optional[str]
    attributes: Mapping[str, str]
    parameters: Mapping[str, str]

    @property
    def welcome_greeting(self) -> Optional[str]:
        return self.attributes.get("welcomeGreeting") or None


@dataclass(frozen=True)
class Connect:
    """A `<Connect>` to something other than a ConversationRelay (Stream, VirtualAgent...)."""

    action: Optional[str]
    target: str
    attributes: Mapping[str, str]


@dataclass(frozen=True)
class Gather:
    """`<Gather>`: the Says inside it are played while Twilio listens, then it POSTs `action`."""

    action: Optional[str]
    method: str
    input: str
    attributes: Mapping[str, str]
    prompts: Tuple[Union[Say, Play, Pause], ...]

    @property
    def action_on_empty_result(self) -> bool:
        return self.attributes.get("actionOnEmptyResult", "false").lower() == "true"

    @property
    def accepts_speech(self) -> bool:
        return "speech" in self.input.split()

    @property
    def accepts_dtmf(self) -> bool:
        return "dtmf" in self.input.split()

    @property
    def says(self) -> List[str]:
        return [p.text for p in self.prompts if isinstance(p, Say) and p.text]


@dataclass(frozen=True)
class Dial:
    """`<Dial>`: a transfer. `number` is the first number dialled (text or a `<Number>` child)."""

    number: Optional[str]
    caller_id: Optional[str]
    timeout: Optional[int]
    action: Optional[str]
    attributes: Mapping[str, str]
    targets: Tuple[Tuple[str, str], ...]  # (noun, value) for each thing dialled, in order


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class Reject:
    reason: Optional[str] = None


@dataclass(frozen=True)
class Redirect:
    url: str
    method: str = "POST"


@dataclass(frozen=True)
class OtherVerb:
    """A valid verb the simulator does not act on (Record, Enqueue, Pay...)."""

    name: str
    attributes: Mapping[str, str]


Verb = Union[Say, Play, Pause, Relay, Connect, Gather, Dial, Hangup, Reject, Redirect, OtherVerb]
V = TypeVar("V")


@dataclass(frozen=True)
class Response:
    """A parsed TwiML document: its verbs in order, the XML as received, and Twilio's warnings."""

    verbs: Tuple[Verb, ...]
    xml: str
    warnings: Tuple[str, ...] = field(default=())

    def first(self, kind: Type[V]) -> Optional[V]:
        for verb in self.verbs:
            if isinstance(verb, kind):
                return verb
        return None

    @property
    def relay(self) -> Optional[Relay]:
        return self.first(Relay)

    @property
    def gather(self) -> Optional[Gather]:
        return self.first(Gather)

    @property
    def dial(self) -> Optional[Dial]:
        return self.first(Dial)

    @property
    def hangup(self) -> bool:
        return any(isinstance(verb, (Hangup, Reject)) for verb in self.verbs)

    def summary(self) -> str:
        """One line per verb, for a person reading the simulator's output."""
        return "\n".join(describe(verb) for verb in self.verbs) or "(empty <Response/>: Twilio hangs up)"


def describe(verb: Verb) -> str:
    if isinstance(verb, Say):
        return f'<Say> "{verb.text}"'
    if isinstance(verb, Play):
        return f"<Play> {verb.url or verb.digits}"
    if isinstance(verb, Pause):
        return f"<Pause length={verb.length:g}>"
    if isinstance(verb, Relay):
        params = f" parameters={dict(verb.parameters)}" if verb.parameters else ""
        return f"<Connect action={verb.action}><ConversationRelay url={verb.url}{params}>"
    if isinstance(verb, Connect):
        return f"<Connect action={verb.action}><{verb.target}>"
    if isinstance(verb, Gather):
        says = " ".join(f'"{text}"' for text in verb.says)
        return f"<Gather input={verb.input} action={verb.action}> {says}".rstrip()
    if isinstance(verb, Dial):
        return f"<Dial> {verb.number} callerId={verb.caller_id} timeout={verb.timeout}"
    if isinstance(verb, Hangup):
        return "<Hangup/>"
    if isinstance(verb, Reject):
        return f"<Reject reason={verb.reason}/>"
    if isinstance(verb, Redirect):
        return f"<Redirect> {verb.url}"
    return f"<{verb.name}>"


def parse(xml: Union[str, bytes]) -> Response:
    """Parses a TwiML document; TwiMLError when Twilio would refuse it."""
    text = xml.decode("utf-8", errors="replace") if isinstance(xml, bytes) else xml
    if not text.strip():
        raise TwiMLError("the answer is empty, not TwiML")
    try:
        root = ElementTree.fromstring(text.strip())
    except ElementTree.ParseError as exc:
        raise TwiMLError(f"the answer is not well-formed XML ({exc}): {_clip(text)}") from None
    if root.tag != "Response":
        raise TwiMLError(f"the root element is <{root.tag}>, not <Response>: {_clip(text)}")
    warnings: List[str] = []
    verbs = tuple(_verb(element, warnings) for element in root)
    return Response(verbs=verbs, xml=text, warnings=tuple(warnings))


def _verb(element: ElementTree.Element, warnings: List[str]) -> Verb:
    name, attrs = element.tag, dict(element.attrib)
    if name not in VOICE_VERBS:
        raise TwiMLError(f"<{name}> is not a TwiML voice verb (Twilio error 12100)")
    if name == "Say":
        return _say(element)
    if name == "Play":
        return Play(url=(element.text or "").strip(), digits=attrs.get("digits"))
    if name == "Pause":
        return Pause(length=_number(attrs.get("length", "1"), "Pause length"))
    if name == "Connect":
        return _connect(element)
    if name == "Gather":
        return _gather(element, warnings)
    if name == "Dial":
        return _dial(element)
    if name == "Hangup":
        return Hangup()
    if name == "Reject":
        return Reject(reason=attrs.get("reason"))
    if name == "Redirect":
        url = (element.text or "").strip()
        if not url:
            raise TwiMLError("<Redirect> has no URL")
        return Redirect(url=url, method=attrs.get("method", "POST").upper())
    return OtherVerb(name=name, attributes=attrs)


def _say(element: ElementTree.Element) -> Say:
    # SSML children (<prosody>, <break>, <emphasis>...) are spoken as their text.
    text = " ".join("".join(element.itertext()).split())
    return Say(text=text, voice=element.attrib.get("voice"), language=element.attrib.get("language"))


def _connect(element: ElementTree.Element) -> Union[Relay, Connect]:
    action = element.attrib.get("action")
    children = list(element)
    if not children:
        raise TwiMLError("<Connect> has nothing to connect to (no child element)")
    child = children[0]
    if child.tag != "ConversationRelay":
        return Connect(action=action, target=child.tag, attributes=dict(child.attrib))
    url = child.attrib.get("url", "")
    if not url:
        raise TwiMLError("<ConversationRelay> has no url attribute")
    if not url.startswith("wss://") and not _local_dev_url(url):
        raise TwiMLError(f"<ConversationRelay url> must be wss://, got {url!r}")
    parameters = {}
    for param in child:
        if param.tag == "Language":
            continue
        if param.tag != "Parameter":
            raise TwiMLError(f"<ConversationRelay> may only hold <Parameter> and <Language>, found <{param.tag}>")
        if "name" not in param.attrib:
            raise TwiMLError("<Parameter> inside <ConversationRelay> has no name")
        parameters[param.attrib["name"]] = param.attrib.get("value", "")
    return Relay(url=url, action=action, attributes=dict(child.attrib), parameters=parameters)


def _gather(element: ElementTree.Element, warnings: List[str]) -> Gather:
    attrs = dict(element.attrib)
    input_kind = " ".join(attrs.get("input", "dtmf").split())
    if input_kind not in GATHER_INPUTS:
        raise TwiMLError(f"<Gather input={input_kind!r}> is not speech, dtmf or 'dtmf speech'")
    if attrs.get("speechTimeout") == "auto" and attrs.get("speechModel", "default") == "default" \
            and "speech" in input_kind:
        warnings.append('warning 13335: speechTimeout="auto" is not valid with speechModel="default"')
    prompts: List[Union[Say, Play, Pause]] = []
    for child in element:
        if child.tag == "Say":
            prompts.append(_say(child))
        elif child.tag == "Play":
            prompts.append(Play(url=(child.text or "").strip(), digits=child.attrib.get("digits")))
        elif child.tag == "Pause":
            prompts.append(Pause(length=_number(child.attrib.get("length", "1"), "Pause length")))
        else:
            raise TwiMLError(f"<Gather> may only hold <Say>, <Play> and <Pause>, found <{child.tag}>")
    return Gather(
        action=attrs.get("action"), method=attrs.get("method", "POST").upper(), input=input_kind,
        attributes=attrs, prompts=tuple(prompts),
    )


def _dial(element: ElementTree.Element) -> Dial:
    attrs = dict(element.attrib)
    targets: List[Tuple[str, str]] = []
    direct = (element.text or "").strip()
    if direct:
        targets.append(("Number", direct))
    for child in element:
        if child.tag not in DIAL_NOUNS:
            raise TwiMLError(f"<Dial> may not hold <{child.tag}>")
        targets.append((child.tag, (child.text or "").strip() or child.attrib.get("name", "")))
    if not targets or not any(value for _, value in targets):
        raise TwiMLError("<Dial> has no number or other target: Twilio would have nobody to call")
    number = next((value for noun, value in targets if noun == "Number"), None)
    timeout = attrs.get("timeout")
    return Dial(
        number=number, caller_id=attrs.get("callerId"),
        timeout=int(_number(timeout, "Dial timeout")) if timeout is not None else None,
        action=attrs.get("action"), attributes=attrs, targets=tuple(targets),
    )


def _number(raw: str, what: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise TwiMLError(f"{what} {raw!r} is not a number") from None


def _clip(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "..."


def _local_dev_url(url: str) -> bool:
    """ws:// to this machine: a local stack with no PUBLIC_BASE_URL, which Twilio never sees."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme == "ws" and parts.hostname in ("127.0.0.1", "localhost", "::1")
