"""Fault switches and pacing: make the stand-in fail, or slow down, the ways the real API does.

Why: the assistant must keep working when the LLM is out of quota, rate-limited, down, hanging or answering
garbage, and that can only be tested against failures that really happen on the wire.

A switch is a JSON object (POST /_standin/faults, or OPENAI_STANDIN_FAULTS at start):
    {"mode": "rate_limit", "count": 2}      two requests answer 429, then all is well again
    {"mode": "hang"}                         every request hangs until the switch is cleared
    {"first_token_ms": 800, "tokens_per_second": 20}   slower answers from now on
`count` (1 or more, or null = until cleared) says how many API requests the mode affects.
`retry_after` (seconds, default 1) is the `retry-after` header sent with mode "rate_limit".
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional

MODES = ("insufficient_quota", "rate_limit", "server_error", "hang", "malformed", "auth")
SWITCHES = ("mode", "count", "first_token_ms", "tokens_per_second", "retry_after")
EXAMPLE = '{"mode": "rate_limit", "count": 2}'


def parse_env(text: Optional[str]) -> Dict[str, Any]:
    """The JSON of OPENAI_STANDIN_FAULTS (empty: no faults)."""
    if not text or not text.strip():
        return {}
    try:
        spec = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"OPENAI_STANDIN_FAULTS is not JSON ({exc}); e.g. {EXAMPLE}") from None
    if not isinstance(spec, dict):
        raise ValueError(f"OPENAI_STANDIN_FAULTS must be a JSON object, e.g. {EXAMPLE}")
    return spec


def _number(spec: Mapping[str, Any], key: str) -> float:
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{key} must be a number, 0 or more")
    return float(value)


@dataclass
class Faults:
    """The fault mode now on and the pacing of answers. A count of None means: until cleared.

    `first_token_ms` is the wait before the first token; `tokens_per_second` paces the rest (0: at once).
    Clearing switches the mode off and puts the pacing back to what the stand-in was started with.
    """

    first_token_ms: float = 0
    tokens_per_second: float = 0
    mode: Optional[str] = None
    left: Optional[int] = None
    retry_after: float = 1
    start_first_token_ms: float = 0
    start_tokens_per_second: float = 0

    @classmethod
    def started(cls, first_token_ms: float = 0, tokens_per_second: float = 0) -> "Faults":
        return cls(first_token_ms=first_token_ms, tokens_per_second=tokens_per_second,
                   start_first_token_ms=first_token_ms, start_tokens_per_second=tokens_per_second)

    def apply(self, spec: Mapping[str, Any]) -> None:
        """Switches on what `spec` names, all or nothing; ValueError saying what is wrong."""
        unknown = sorted(set(spec) - set(SWITCHES))
        if unknown:
            raise ValueError(f"unknown fault switches {unknown}; known: {list(SWITCHES)}")
        mode = spec.get("mode")
        if mode is not None and mode not in MODES:
            raise ValueError(f"mode must be one of {list(MODES)}")
        count = spec.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ValueError("count must be a whole number of requests (1 or more) or null")
        if count is not None and mode is None:
            raise ValueError("count goes with a mode, e.g. " + EXAMPLE)
        first = _number(spec, "first_token_ms") if "first_token_ms" in spec else None
        tps = _number(spec, "tokens_per_second") if "tokens_per_second" in spec else None
        retry_after = _number(spec, "retry_after") if "retry_after" in spec else None
        if mode is not None:
            self.mode, self.left = mode, count
            self.retry_after = 1 if retry_after is None else retry_after
        elif retry_after is not None:
            self.retry_after = retry_after
        if first is not None:
            self.first_token_ms = first
        if tps is not None:
            self.tokens_per_second = tps

    def clear(self) -> None:
        self.mode = self.left = None
        self.retry_after = 1
        self.first_token_ms = self.start_first_token_ms
        self.tokens_per_second = self.start_tokens_per_second

    def take(self) -> Optional[str]:
        """The fault mode for this request, if any, using up one of its count."""
        mode = self.mode
        if mode is not None and self.left is not None:
            self.left -= 1
            if self.left <= 0:
                self.mode = self.left = None
        return mode

    def snapshot(self) -> Dict[str, Any]:
        return {
            "mode": self.mode,
            "count": self.left,
            "retry_after": self.retry_after,
            "first_token_ms": self.first_token_ms,
            "tokens_per_second": self.tokens_per_second,
        }
