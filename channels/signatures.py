"""X-Twilio-Signature checks, with twilio's own RequestValidator.

Behind a proxy the request URL Sanic sees is not the one Twilio signed, so the URL is
rebuilt from PUBLIC_BASE_URL plus the path and the raw query string.
"""
from __future__ import annotations

import logging
from typing import Mapping, Optional

from twilio.request_validator import RequestValidator

from channels.settings import PhoneSettings

logger = logging.getLogger(__name__)


class SignatureChecker:
    def __init__(self, settings: PhoneSettings) -> None:
        self.settings = settings
        self._validator = RequestValidator(settings.auth_token) if settings.auth_token else None

    @property
    def enabled(self) -> bool:
        return self._validator is not None

    def check_http(self, request_url: str, path: str, query: str, params: Mapping[str, str],
                   signature: Optional[str]) -> bool:
        """True when the POST is Twilio's (or checking is off)."""
        if self._validator is None:
            return True
        url = self.settings.public_url(request_url, path, query)
        ok = bool(signature) and self._validator.validate(url, dict(params), signature)
        if not ok:
            logger.warning("twilio.signature.rejected path=%s", path)
        return ok

    def check_websocket(self, request_url: str, path: str, query: str, signature: Optional[str]) -> bool:
        """The relay upgrade is signed over the exact wss:// URL of the TwiML, with no parameters."""
        if self._validator is None:
            return True
        url = self.settings.ws_url(self.settings.public_url(request_url, path, query))
        ok = bool(signature) and self._validator.validate(url, {}, signature)
        if not ok:
            logger.warning("twilio.signature.rejected path=%s", path)
        return ok
