"""Reading the TwiML the phone channel answers, including what Twilio would refuse."""
from __future__ import annotations

import re

import pytest
from twilio.twiml.voice_response import Connect, Dial, Gather, Parameter, VoiceResponse

from simulator import twiml
from simulator.twiml import TwiMLError


def test_conversation_relay_written_with_twilio_helpers() -> None:
    response = VoiceResponse()
    connect = Connect(action="https://a.example.com/webhooks/twilio/handoff")
    relay = connect.add_child("ConversationRelay", url="wss://a.example.com/webhooks/twilio/relay",
                              tts_provider="ElevenLabs", voice="abc-flash_v2_5-1.0_0.8_0.8",
                              dtmf_detection="true", interruptible="any", welcome_greeting="Hi there!")
    relay.append(Parameter(name="callerType", value="tenant"))
    response.append(connect)
    doc = twiml.parse(str(response))
    found = doc.relay
    assert found is not None and doc.verbs == (found,)
    assert found.url == "wss://a.example.com/webhooks/twilio/relay"
    assert found.action == "https://a.example.com/webhooks/twilio/handoff"
    assert found.attributes["ttsProvider"] == "ElevenLabs" and found.attributes["dtmfDetection"] == "true"
    assert found.parameters == {"callerType": "tenant"} and found.welcome_greeting == "Hi there!"
    assert "<ConversationRelay url=wss://a.example.com/webhooks/twilio/relay" in doc.summary()


def test_gather_with_say() -> None:
    response = VoiceResponse()
    response.say("One moment.")
    gather = Gather(input="speech", action="/webhooks/twilio/gather", speech_timeout="auto",
                    speech_model="phone_call", enhanced="true", action_on_empty_result="true")
    gather.say("Hi, this is <Sarah>. How can I help?", voice="Polly.Joanna-Neural")
    response.append(gather)
    doc = twiml.parse(str(response))
    say, found = doc.verbs
    assert say == twiml.Say(text="One moment.")
    assert isinstance(found, twiml.Gather) and found.action == "/webhooks/twilio/gather"
    assert found.says == ["Hi, this is <Sarah>. How can I help?"]
    assert found.accepts_speech and not found.accepts_dtmf and found.action_on_empty_result
    assert doc.warnings == ()


def test_ssml_inside_say_is_spoken_as_text() -> None:
    doc = twiml.parse('<Response><Say>Call <prosody rate="slow">nine one one</prosody> now.</Say></Response>')
    assert doc.verbs[0].text == "Call nine one one now."


def test_speech_timeout_auto_with_the_default_model_is_warning_13335() -> None:
    doc = twiml.parse('<Response><Gather input="speech" speechTimeout="auto"><Say>Hi</Say></Gather></Response>')
    assert doc.warnings and "13335" in doc.warnings[0]


def test_dial_with_number_caller_id_and_timeout() -> None:
    response = VoiceResponse()
    response.say("Connecting you.")
    response.dial("+17184146984", caller_id="+17185550134", timeout=25, action="/webhooks/twilio/dialed")
    doc = twiml.parse(str(response))
    dial = doc.dial
    assert (dial.number, dial.caller_id, dial.timeout, dial.action) == \
        ("+17184146984", "+17185550134", 25, "/webhooks/twilio/dialed")
    nested = Dial(caller_id="+17184146984")
    nested.number("+19175550911")
    wrapped = VoiceResponse()
    wrapped.append(nested)
    assert twiml.parse(str(wrapped)).dial.number == "+19175550911"


def test_hangup_redirect_and_empty() -> None:
    doc = twiml.parse("<Response><Say>Bye.</Say><Hangup/></Response>")
    assert doc.hangup and doc.verbs[1] == twiml.Hangup()
    assert twiml.parse("<Response><Redirect>/webhooks/twilio/gather</Redirect></Response>").verbs == \
        (twiml.Redirect(url="/webhooks/twilio/gather"),)
    empty = twiml.parse('<?xml version="1.0" encoding="UTF-8"?><Response/>')
    assert empty.verbs == () and "hangs up" in empty.summary()


@pytest.mark.parametrize("body, message", [
    ("", "empty"),
    ("Hello, this is not XML", "not well-formed"),
    ("<Response><Say>unclosed</Response>", "not well-formed"),
    ('{"type": "text"}', "not well-formed"),
    ("<Document><Say>x</Say></Document>", "root element is <Document>"),
    ("<Response><Speak>x</Speak></Response>", "<Speak> is not a TwiML voice verb"),
    ("<Response><say>lower case</say></Response>", "<say> is not a TwiML voice verb"),
    ("<Response><Connect/></Response>", "nothing to connect"),
    ("<Response><Connect><ConversationRelay/></Connect></Response>", "no url"),
    ('<Response><Connect><ConversationRelay url="https://a/relay"/></Connect></Response>', "must be wss://"),
    ('<Response><Connect><ConversationRelay url="wss://a/r"><Say>x</Say></ConversationRelay></Connect></Response>',
     "may only hold <Parameter>"),
    ("<Response><Dial></Dial></Response>", "no number"),
    ("<Response><Dial><Say>x</Say></Dial></Response>", "may not hold <Say>"),
    ('<Response><Dial timeout="soon">+1718</Dial></Response>', "Dial timeout 'soon'"),
    ('<Response><Gather input="voice"/></Response>', "is not speech, dtmf"),
    ("<Response><Gather><Dial>+1</Dial></Gather></Response>", "may only hold <Say>"),
    ("<Response><Redirect/></Response>", "no URL"),
])
def test_twiml_twilio_would_refuse(body: str, message: str) -> None:
    with pytest.raises(TwiMLError, match=re.escape(message)):
        twiml.parse(body)


def test_other_connect_targets_and_verbs_are_kept() -> None:
    doc = twiml.parse('<Response><Record maxLength="30"/><Connect><Stream url="wss://a/s"/></Connect></Response>')
    record, connect = doc.verbs
    assert isinstance(record, twiml.OtherVerb) and record.name == "Record"
    assert isinstance(connect, twiml.Connect) and connect.target == "Stream" and doc.relay is None
