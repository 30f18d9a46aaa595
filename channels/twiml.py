"""TwiML answers, built with twilio's own classes: pure functions, tested against exact XML.

twilio 8.2 (the version Rasa 3.6 allows) has no ConversationRelay helper, so that element
is written with `add_child`, whose snake_case attributes become camelCase.
"""
from __future__ import annotations

from typing import Dict, Iterable, Optional

from twilio.twiml.voice_response import Connect, Parameter, VoiceResponse


def relay(relay_url: str, action_url: str, *, tts_provider: str, voice: str, language: str,
          interruptible: str, hints: str, parameters: Optional[Dict[str, str]] = None) -> str:
    """Connects the call to ConversationRelay; Twilio POSTs `action_url` when the relay ends."""
    response = VoiceResponse()
    connect = Connect(action=action_url)
    element = connect.add_child(
        "ConversationRelay", url=relay_url, tts_provider=tts_provider, voice=voice, language=language,
        interruptible=interruptible, dtmf_detection="true", hints=hints,
    )
    for name, value in (parameters or {}).items():
        element.append(Parameter(name=name, value=value))
    response.append(connect)
    return str(response)


def gather(texts: Iterable[str], action_url: str, *, voice: str, hints: str, language: str = "en-US") -> str:
    """Says the assistant's words inside a speech <Gather> that posts the answer to `action_url`."""
    response = VoiceResponse()
    ask = response.gather(input="speech", action=action_url, method="POST", speech_timeout="auto",
                          speech_model="phone_call", enhanced=True, action_on_empty_result=True,
                          hints=hints, language=language)
    for text in texts:
        ask.say(text, voice=voice)
    return str(response)


def dial(number: str, *, caller_id: str, timeout: int, action_url: str, say_first: Iterable[str] = (),
         voice: str = "Polly.Joanna-Neural") -> str:
    """Transfers the call; Twilio POSTs `action_url` with DialCallStatus when the dial ends."""
    response = VoiceResponse()
    for text in say_first:
        response.say(text, voice=voice)
    response.dial(number, caller_id=caller_id, timeout=timeout, action=action_url, method="POST")
    return str(response)


def hangup(say_first: Iterable[str] = (), voice: str = "Polly.Joanna-Neural") -> str:
    response = VoiceResponse()
    for text in say_first:
        response.say(text, voice=voice)
    response.hangup()
    return str(response)


def empty() -> str:
    """Nothing more to do (e.g. after a completed transfer)."""
    return str(VoiceResponse())
