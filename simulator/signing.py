"""X-Twilio-Signature, computed the way Twilio computes it, so the channel's check is exercised for real.

Twilio signs what it requested: the full public URL (query string included) followed by each POST
parameter's name and value, names sorted, HMAC-SHA1 keyed with the account's Auth Token, base64.
The relay WebSocket upgrade is signed over the exact `wss://` URL from the TwiML with no
parameters. twilio's own `RequestValidator.compute_signature` does the arithmetic; this module only
decides what goes into it.
"""
from __future__ import annotations

from typing import Dict, Mapping, Optional

from twilio.request_validator import RequestValidator

SIGNATURE_HEADER = "X-Twilio-Signature"


def compute_signature(auth_token: str, url: str, params: Optional[Mapping[str, str]] = None) -> str:
    """The signature Twilio would send for a request to `url` with these form parameters."""
    return RequestValidator(auth_token).compute_signature(url, dict(params or {}))


def signature_headers(
    auth_token: Optional[str], url: str, params: Optional[Mapping[str, str]] = None
) -> Dict[str, str]:
    """`{"X-Twilio-Signature": ...}`, or no header at all when no token is set (an unsigned request)."""
    if not auth_token:
        return {}
    return {SIGNATURE_HEADER: compute_signature(auth_token, url, params)}
