"""Typed Rent Manager errors, so callers decide by kind: retry, park, or give up."""
from __future__ import annotations

from typing import Any, Optional


class RentManagerError(Exception):
    """Base of every Rent Manager failure the client reports."""

    def __init__(self, message: str, *, status: Optional[int] = None, path: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.path = path


class RentManagerAuthError(RentManagerError):
    """The login was refused (wrong credentials, too many sessions, no access to the location).

    Retrying will not help; a person must fix the configuration.
    """


class RentManagerUnavailable(RentManagerError):
    """Rent Manager could not be reached or answered 5xx/429 after our retries.

    `uncertain` is True when a write was sent but no answer came back (timeout, dropped
    connection): it may or may not have been applied, so a retry must check first.
    """

    def __init__(self, message: str, *, status: Optional[int] = None, path: str = "", uncertain: bool = False) -> None:
        super().__init__(message, status=status, path=path)
        self.uncertain = uncertain


class RentManagerRequestError(RentManagerError):
    """Rent Manager refused the request itself (4xx): bad data or a bad query. Never retried."""


class RentManagerNotFound(RentManagerRequestError):
    """The record (or route) does not exist."""


def error_message(body: Any) -> str:
    """The most useful text of a Rent Manager error body (ErrorModel or ModelState)."""
    if isinstance(body, dict):
        for key in ("DeveloperMessage", "UserMessage", "Message"):
            text = body.get(key)
            if text:
                state = body.get("ModelState")
                if isinstance(state, dict) and state:
                    details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in state.items())
                    return f"{text} ({details})"
                return str(text)
    if isinstance(body, str) and body.strip():
        return body.strip()[:300]
    return "no error message in the response"
