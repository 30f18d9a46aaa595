"""The phone channel refuses unusable settings at start, naming the fix."""
from __future__ import annotations

import pytest

from channels.settings import ChannelConfigError, PhoneSettings


def test_defaults_and_environment() -> None:
    settings = PhoneSettings.from_sources({}, {"PUBLIC_BASE_URL": "https://phone.example.com/",
                                               "TWILIO_AUTH_TOKEN": "secret", "ELEVENLABS_VOICE_ID": "v1"})
    assert settings.public_base_url == "https://phone.example.com"
    assert settings.auth_token == "secret" and settings.voice == "v1"
    assert settings.transfer_number == "+17184146984"
    assert settings.public_url("http://10.0.0.5:5005/webhooks/twilio/incoming", "/webhooks/twilio/incoming", "a=1") \
        == "https://phone.example.com/webhooks/twilio/incoming?a=1"
    assert settings.ws_url("https://phone.example.com/webhooks/twilio/relay") == \
        "wss://phone.example.com/webhooks/twilio/relay"


def test_without_public_url_the_request_origin_is_used() -> None:
    settings = PhoneSettings.from_sources({}, {})
    assert settings.public_url("http://127.0.0.1:5005/webhooks/twilio/x?y", "/webhooks/twilio/x") == \
        "http://127.0.0.1:5005/webhooks/twilio/x"
    assert settings.auth_token is None


def test_gather_numbers_from_credentials_or_environment() -> None:
    assert PhoneSettings.from_sources({"gather_numbers": ["+17185550000"]}, {}).gather_numbers == {"+17185550000"}
    assert PhoneSettings.from_sources({}, {"TWILIO_GATHER_NUMBERS": "+1, +2"}).gather_numbers == {"+1", "+2"}


@pytest.mark.parametrize("credentials, env, message", [
    ({}, {"PUBLIC_BASE_URL": "phone.example.com"}, "https origin"),
    ({}, {"TRANSFER_NUMBER": "718-414-6984"}, "E.164"),
    ({"interruptible": "sometimes"}, {}, "none, dtmf, speech or any"),
    ({"silence_seconds": "soon"}, {}, "number of seconds"),
    ({"silence_seconds": 0}, {}, "greater than zero"),
])
def test_bad_settings(credentials, env, message) -> None:
    with pytest.raises(ChannelConfigError, match=message):
        PhoneSettings.from_sources(credentials, env)
