"""API tokens and per-login rate counting, with Rent Manager's limits (reference §1 and §9).

Why in memory: a token is a session, not data. A restart of the stand-in ends every session,
as a password change does on the real host, and the client's one re-login covers it.
"""
from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Deque, Dict, Optional

DAY_SECONDS = 24 * 60 * 60
MAX_TOKENS_PER_USER = 10
RATE_WINDOW_SECONDS = 60


class TooManySessions(Exception):
    """The user already holds the maximum number of live tokens."""


@dataclass
class Session:
    user: str
    location_id: int
    created: float
    last_used: float


class TokenStore:
    """Live tokens: 24 h at most, ended after `idle_seconds` without use, ten per user."""

    def __init__(
        self,
        idle_seconds: float = 900,
        lifetime_seconds: float = DAY_SECONDS,
        max_per_user: int = MAX_TOKENS_PER_USER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.lifetime_seconds = lifetime_seconds
        self.max_per_user = max_per_user
        self._clock = clock
        self._sessions: Dict[str, Session] = {}

    def _alive(self, session: Session, now: float) -> bool:
        return now - session.created < self.lifetime_seconds and now - session.last_used < self.idle_seconds

    def _purge(self) -> None:
        now = self._clock()
        self._sessions = {t: s for t, s in self._sessions.items() if self._alive(s, now)}

    def issue(self, user: str, location_id: int) -> str:
        self._purge()
        if sum(1 for s in self._sessions.values() if s.user == user) >= self.max_per_user:
            raise TooManySessions(user)
        token = secrets.token_hex(20)
        now = self._clock()
        self._sessions[token] = Session(user, location_id, now, now)
        return token

    def check(self, token: str) -> Optional[Session]:
        """The live session of a token, marked as used now; None when unknown or expired."""
        session = self._sessions.get(token)
        now = self._clock()
        if session is None or not self._alive(session, now):
            self._sessions.pop(token, None)
            return None
        session.last_used = now
        return session

    def revoke(self, token: str) -> bool:
        return self._sessions.pop(token, None) is not None

    def revoke_all(self) -> int:
        count = len(self._sessions)
        self._sessions.clear()
        return count

    def live(self) -> int:
        self._purge()
        return len(self._sessions)


class RateCounter:
    """Requests per rolling minute per login; `enforce` past which 429 is due (None: never)."""

    def __init__(self, limit: int = 500, enforce: bool = False, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.enforce = enforce
        self._clock = clock
        self._hits: Dict[str, Deque[float]] = {}

    def hit(self, key: str) -> Dict[str, str]:
        """Counts one request and answers the x-ratelimit-* headers for it."""
        now = self._clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - RATE_WINDOW_SECONDS:
            hits.popleft()
        hits.append(now)
        reset = int(hits[0] + RATE_WINDOW_SECONDS)
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(max(0, self.limit - len(hits))),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resettime": datetime.fromtimestamp(reset, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def exceeded(self, key: str) -> bool:
        return self.enforce and len(self._hits.get(key, ())) > self.limit
