"""The phone channel's settings: credentials.yml for behaviour, the environment for secrets.

Checked at construction, so a wrong value stops Rasa at start with a message naming the
setting and the fix, rather than failing on the first call.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Mapping, Optional

DEFAULT_HINTS = (
    "Port Richmond Avenue,Richmond Terrace,Castleton Avenue,Staten Island,apartment,unit,"
    "four B,one A,two B,three C,superintendent,radiator,boiler,carbon monoxide"
)


class ChannelConfigError(ValueError):
    """A phone channel setting is unusable; the message says which and how to fix it."""


@dataclass(frozen=True)
class PhoneSettings:
    public_base_url: str  # https origin Twilio reaches; "" = rebuilt from the request (dev only)
    auth_token: Optional[str]  # None: signatures are not checked (a warning says so at start)
    transfer_number: str
    tts_provider: str = "ElevenLabs"
    voice: str = "UgBBYS2sOqTuMpoF3BR0"  # an ElevenLabs voice id; ELEVENLABS_VOICE_ID overrides
    language: str = "en-US"
    interruptible: str = "any"
    hints: str = DEFAULT_HINTS
    gather_voice: str = "Polly.Joanna-Neural"
    gather_numbers: FrozenSet[str] = field(default_factory=frozenset)  # numbers answered with <Gather>
    silence_seconds: float = 8.0
    dial_timeout: int = 25
    turn_timeout: float = 20.0
    max_frame_bytes: int = 65536
    push_token: Optional[str] = None  # ASSISTANT_PUSH_TOKEN: the action server's pushes to live calls

    @classmethod
    def from_sources(cls, credentials: Optional[Mapping[str, Any]], env: Mapping[str, str] = os.environ
                     ) -> "PhoneSettings":
        creds: Dict[str, Any] = dict(credentials or {})
        public = (env.get("PUBLIC_BASE_URL") or creds.get("public_base_url") or "").strip().rstrip("/")
        if public and not public.startswith(("https://", "http://")):
            raise ChannelConfigError(
                f"PUBLIC_BASE_URL={public!r} must be the https origin Twilio reaches, e.g. https://phone.example.com"
            )
        transfer = (env.get("TRANSFER_NUMBER") or "+17184146984").strip()
        if not transfer.startswith("+"):
            raise ChannelConfigError(f"TRANSFER_NUMBER={transfer!r} must be E.164, like +17184146984")
        interruptible = str(creds.get("interruptible", "any"))
        if interruptible not in ("none", "dtmf", "speech", "any"):
            raise ChannelConfigError(f"twilio.interruptible={interruptible!r}: use none, dtmf, speech or any")
        numbers = creds.get("gather_numbers") or env.get("TWILIO_GATHER_NUMBERS", "")
        if isinstance(numbers, str):
            numbers = [n for n in numbers.replace(" ", "").split(",") if n]
        try:
            silence = float(env.get("TWILIO_SILENCE_SECONDS") or creds.get("silence_seconds", 8.0))
        except (TypeError, ValueError):
            raise ChannelConfigError("twilio.silence_seconds must be a number of seconds, e.g. 8")
        if silence <= 0:
            raise ChannelConfigError("twilio.silence_seconds must be greater than zero")
        return cls(
            public_base_url=public,
            auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            transfer_number=transfer,
            tts_provider=str(creds.get("tts_provider", "ElevenLabs")),
            voice=env.get("ELEVENLABS_VOICE_ID") or str(creds.get("voice", cls.voice)),
            language=str(creds.get("language", "en-US")),
            interruptible=interruptible,
            hints=str(creds.get("hints", DEFAULT_HINTS)),
            gather_voice=str(creds.get("gather_voice", "Polly.Joanna-Neural")),
            gather_numbers=frozenset(str(n) for n in numbers),
            silence_seconds=silence,
            dial_timeout=int(creds.get("dial_timeout", 25)),
            turn_timeout=float(creds.get("turn_timeout", 20.0)),
            push_token=env.get("ASSISTANT_PUSH_TOKEN") or None,
        )

    def public_url(self, request_url: str, path: str, query: str = "") -> str:
        """The URL Twilio used: PUBLIC_BASE_URL + path (+ query), else the request's own origin."""
        base = self.public_base_url or _origin(request_url)
        return f"{base}{path}" + (f"?{query}" if query else "")

    def ws_url(self, http_url: str) -> str:
        return "wss://" + http_url.split("://", 1)[1] if http_url.startswith("https://") else \
            "ws://" + http_url.split("://", 1)[1]


def _origin(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}"
