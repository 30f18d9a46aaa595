"""Fault switches: make the stand-in fail the ways the real host does, on purpose.

Why: a client's retries, re-login and idempotency can only be tested against failures that
really happen on the wire (a 503, a slow answer, a connection closed before or after a write).
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

DROP_MODES = ("before", "after")
SWITCHES = ("status", "count", "delay_ms", "drop", "expire_tokens")


def parse_delay(text: str) -> Tuple[int, int]:
    """`"0"`, `"250"` or a range `"150-400"` (milliseconds) as (low, high)."""
    raw = (text or "0").strip()
    low, _, high = raw.partition("-")
    try:
        bounds = (int(low), int(high or low))
    except ValueError:
        raise ValueError(f"delay {text!r} is not a number of milliseconds or a range like 150-400") from None
    if bounds[0] < 0 or bounds[1] < bounds[0]:
        raise ValueError(f"delay {text!r} must be 0 or more, low before high")
    return bounds


def pick_delay(bounds: Tuple[int, int]) -> float:
    """Seconds to wait for one response."""
    low, high = bounds
    return (random.uniform(low, high) if high > low else low) / 1000.0


def parse_env(text: Optional[str]) -> Dict[str, Any]:
    """The JSON of RENT_MANAGER_STANDIN_FAULTS (empty: no faults)."""
    if not text or not text.strip():
        return {}
    spec = json.loads(text)
    if not isinstance(spec, dict):
        raise ValueError("RENT_MANAGER_STANDIN_FAULTS must be a JSON object, e.g. {\"status\": 503, \"count\": 5}")
    return spec


@dataclass
class Faults:
    """The switches now on. A count of None means: until cleared."""

    status: Optional[int] = None
    status_left: Optional[int] = None
    drop: Optional[str] = None
    drop_left: Optional[int] = None
    delay_ms: int = 0

    def apply(self, spec: Mapping[str, Any]) -> bool:
        """Switches on what `spec` names; returns whether tokens must be expired. ValueError if invalid."""
        unknown = sorted(set(spec) - set(SWITCHES))
        if unknown:
            raise ValueError(f"unknown fault switches {unknown}; known: {list(SWITCHES)}")
        count = spec.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ValueError("count must be a whole number of requests (1 or more) or null")
        if spec.get("status") is not None:
            status = spec["status"]
            if not isinstance(status, int) or not 400 <= status <= 599:
                raise ValueError("status must be an HTTP error status (400-599)")
            self.status, self.status_left = status, count
        if spec.get("drop") is not None:
            if spec["drop"] not in DROP_MODES:
                raise ValueError(f"drop must be one of {DROP_MODES}")
            self.drop, self.drop_left = spec["drop"], count
        if "delay_ms" in spec:
            delay = spec["delay_ms"]
            if not isinstance(delay, int) or delay < 0:
                raise ValueError("delay_ms must be a whole number of milliseconds, 0 or more")
            self.delay_ms = delay
        return bool(spec.get("expire_tokens"))

    def clear(self) -> None:
        self.status = self.status_left = self.drop = self.drop_left = None
        self.delay_ms = 0

    def take_status(self) -> Optional[int]:
        """The forced status for this request, if any, using up one of its count."""
        status = self.status
        if status is not None and self.status_left is not None:
            self.status_left -= 1
            if self.status_left <= 0:
                self.status = self.status_left = None
        return status

    def take_drop(self) -> Optional[str]:
        """"before" or "after" when this request's connection must be dropped."""
        mode = self.drop
        if mode is not None and self.drop_left is not None:
            self.drop_left -= 1
            if self.drop_left <= 0:
                self.drop = self.drop_left = None
        return mode

    def snapshot(self) -> Dict[str, Any]:
        return {
            "status": self.status,
            "status_count": self.status_left,
            "drop": self.drop,
            "drop_count": self.drop_left,
            "delay_ms": self.delay_ms,
        }
