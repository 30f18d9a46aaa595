"""X-Twilio-Signature as the simulator computes it, checked by twilio's own validator."""
from __future__ import annotations

import base64
import hashlib
import hmac

from twilio.request_validator import RequestValidator

from simulator.signing import SIGNATURE_HEADER, compute_signature, signature_headers

TOKEN = "12345678901234567890123456789012"
PARAMS = {"CallSid": "CA" + "1" * 32, "From": "+17185550134", "To": "+17184146984", "CallStatus": "ringing"}


def test_webhook_signature_validates() -> None:
    url = "https://assistant.example.com/webhooks/twilio/incoming"
    signature = compute_signature(TOKEN, url, PARAMS)
    validator = RequestValidator(TOKEN)
    assert validator.validate(url, PARAMS, signature)
    assert not validator.validate(url, dict(PARAMS, From="+19995550000"), signature)
    assert not validator.validate(url.replace("incoming", "gather"), PARAMS, signature)
    assert not RequestValidator("another-token").validate(url, PARAMS, signature)


def test_the_query_string_is_signed() -> None:
    url = "https://assistant.example.com/webhooks/twilio/gather?turn=2&mode=speech"
    signature = compute_signature(TOKEN, url, PARAMS)
    assert RequestValidator(TOKEN).validate(url, PARAMS, signature)
    assert not RequestValidator(TOKEN).validate(url.split("?")[0], PARAMS, signature)


def test_relay_upgrade_is_signed_over_the_wss_url_with_no_parameters() -> None:
    url = "wss://assistant.example.com/webhooks/twilio/relay"
    signature = compute_signature(TOKEN, url)
    assert RequestValidator(TOKEN).validate(url, {}, signature)
    assert not RequestValidator(TOKEN).validate(url.replace("wss", "https", 1), {}, signature)
    # The arithmetic itself: HMAC-SHA1 of the bare URL, base64.
    expected = base64.b64encode(hmac.new(TOKEN.encode(), url.encode(), hashlib.sha1).digest()).decode()
    assert signature == expected


def test_the_digest_is_url_then_sorted_name_value_pairs() -> None:
    url = "https://x.example.com/webhooks/twilio/status"
    params = {"b": "2", "a": "1", "CallSid": "CA1"}
    payload = url + "CallSid" + "CA1" + "a1" + "b2"
    expected = base64.b64encode(hmac.new(TOKEN.encode(), payload.encode(), hashlib.sha1).digest()).decode()
    assert compute_signature(TOKEN, url, params) == expected


def test_no_token_means_no_header() -> None:
    assert signature_headers(None, "https://x.example.com/a", PARAMS) == {}
    assert signature_headers("", "https://x.example.com/a", PARAMS) == {}
    headers = signature_headers(TOKEN, "https://x.example.com/a", PARAMS)
    assert list(headers) == [SIGNATURE_HEADER] and headers[SIGNATURE_HEADER] == \
        compute_signature(TOKEN, "https://x.example.com/a", PARAMS)
