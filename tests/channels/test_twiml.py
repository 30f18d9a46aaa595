"""Exact TwiML from each builder."""
from __future__ import annotations

from channels import twiml

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def test_relay() -> None:
    xml = twiml.relay("wss://phone.example.com/webhooks/twilio/relay", "https://phone.example.com/webhooks/twilio/handoff",
                      tts_provider="ElevenLabs", voice="VOICE", language="en-US", interruptible="any",
                      hints="Port Richmond Avenue,four B")
    assert xml == (
        HEAD + '<Response><Connect action="https://phone.example.com/webhooks/twilio/handoff">'
        '<ConversationRelay dtmfDetection="true" hints="Port Richmond Avenue,four B" interruptible="any" '
        'language="en-US" ttsProvider="ElevenLabs" url="wss://phone.example.com/webhooks/twilio/relay" '
        'voice="VOICE" /></Connect></Response>'
    )


def test_relay_with_parameters() -> None:
    xml = twiml.relay("wss://h/r", "https://h/a", tts_provider="Google", voice="en-US-Journey-O", language="en-US",
                      interruptible="speech", hints="", parameters={"transfer_failed": "1"})
    assert xml == (
        HEAD + '<Response><Connect action="https://h/a"><ConversationRelay dtmfDetection="true" hints="" '
        'interruptible="speech" language="en-US" ttsProvider="Google" url="wss://h/r" voice="en-US-Journey-O">'
        '<Parameter name="transfer_failed" value="1" /></ConversationRelay></Connect></Response>'
    )


def test_gather() -> None:
    xml = twiml.gather(["Hi Maria.", "How can I help?"], "https://h/webhooks/twilio/gather",
                       voice="Polly.Joanna-Neural", hints="four B")
    assert xml == (
        HEAD + '<Response><Gather action="https://h/webhooks/twilio/gather" actionOnEmptyResult="true" '
        'enhanced="true" hints="four B" input="speech" language="en-US" method="POST" speechModel="phone_call" '
        'speechTimeout="auto"><Say voice="Polly.Joanna-Neural">Hi Maria.</Say>'
        '<Say voice="Polly.Joanna-Neural">How can I help?</Say></Gather></Response>'
    )


def test_dial() -> None:
    xml = twiml.dial("+19175550911", caller_id="+17184146984", timeout=25, action_url="https://h/dial-result",
                     say_first=["Connecting you now."])
    assert xml == (
        HEAD + '<Response><Say voice="Polly.Joanna-Neural">Connecting you now.</Say>'
        '<Dial action="https://h/dial-result" callerId="+17184146984" method="POST" timeout="25">'
        '+19175550911</Dial></Response>'
    )


def test_hangup_and_empty() -> None:
    assert twiml.hangup(["Goodbye!"]) == (
        HEAD + '<Response><Say voice="Polly.Joanna-Neural">Goodbye!</Say><Hangup /></Response>'
    )
    assert twiml.hangup() == HEAD + "<Response><Hangup /></Response>"
    assert twiml.empty() == HEAD + "<Response />"


def test_text_is_escaped() -> None:
    assert "Tom &amp; Jerry &lt;3" in twiml.hangup(["Tom & Jerry <3"])
