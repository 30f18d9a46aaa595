"""GPT-4o (or any OpenAI-compatible model) through the official SDK, with a circuit breaker.

The deterministic assistant must work exactly as before when the LLM is slow, failing or
out of quota, so every call has a hard time budget and every failure is sorted:
- `insufficient_quota`: stop calling for `quota_pause` seconds (15 minutes by default);
- a rate limit: back off for the server's retry-after (or `rate_pause`);
- a timeout, a connection error, a 5xx or a malformed answer: retried once within the
  budget; `failure_threshold` failures in a row open the breaker for `failure_pause`;
- a refused key: stop until the configuration changes (reported as auth_failed).
`status()` says which, for the dashboard.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

import openai

logger = logging.getLogger(__name__)

OK, RATE_LIMITED, QUOTA_EXHAUSTED, DISABLED, AUTH_FAILED, FAILING = (
    "ok", "rate_limited", "quota_exhausted", "disabled", "auth_failed", "failing")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")

SentenceSink = Callable[[str], Awaitable[None]]


class LLMUnavailable(Exception):
    """No answer from the LLM within the budget (or the breaker is open); `state` says why."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__(message)
        self.state = state


@dataclass
class ToolCall:
    name: str
    arguments: Dict[str, Any]


@dataclass
class LLMReply:
    text: str
    tool_call: Optional[ToolCall] = None
    first_sentence_ms: Optional[float] = None
    sentences: List[str] = field(default_factory=list)


@dataclass
class Breaker:
    """When the LLM may be called again, and why not now."""

    state: str = OK
    open_until: float = 0.0
    last_error: str = ""
    consecutive_failures: int = 0
    calls: int = 0
    failures: int = 0

    def is_open(self, now: float) -> bool:
        if self.state == AUTH_FAILED:
            return True
        if self.state in (RATE_LIMITED, QUOTA_EXHAUSTED, FAILING) and now >= self.open_until:
            self.state = OK
        return self.state != OK

    def trip(self, state: str, seconds: float, error: str) -> None:
        self.state = state
        self.open_until = time.monotonic() + seconds
        self.last_error = error[:300]
        logger.warning("llm.breaker.open state=%s seconds=%.0f", state, seconds)


class LLMClient:
    """Streams chat completions, sentence by sentence, inside a time budget."""

    def __init__(
        self,
        api_key: Optional[str],
        model: str = "gpt-4o",
        *,
        base_url: Optional[str] = None,
        budget: float = 4.0,
        quota_pause: float = 900.0,
        rate_pause: float = 30.0,
        failure_threshold: int = 3,
        failure_pause: float = 60.0,
    ) -> None:
        self.model = model
        self.budget = budget
        self.quota_pause = quota_pause
        self.rate_pause = rate_pause
        self.failure_threshold = failure_threshold
        self.failure_pause = failure_pause
        self.breaker = Breaker(state=OK if api_key else DISABLED)
        self._client = (
            openai.AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=budget)
            if api_key else None
        )

    def available(self) -> bool:
        return self._client is not None and not self.breaker.is_open(time.monotonic())

    def status(self) -> Dict[str, Any]:
        now = time.monotonic()
        self.breaker.is_open(now)
        return {
            "state": self.breaker.state,
            "model": self.model,
            "retry_in_seconds": _seconds_left(self.breaker, now),
            "last_error": self.breaker.last_error,
            "calls": self.breaker.calls,
            "failures": self.breaker.failures,
        }

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()

    async def reply(self, messages: List[Dict[str, Any]], tools: Optional[List[Dict[str, Any]]] = None,
                    on_sentence: Optional[SentenceSink] = None, budget: Optional[float] = None) -> LLMReply:
        """The model's answer, each finished sentence handed to `on_sentence` as it streams.

        Raises LLMUnavailable when the breaker is open or no answer came within the budget.
        """
        if not self.available():
            raise LLMUnavailable(self.breaker.state, f"LLM not called: {self.breaker.state}")
        deadline = time.monotonic() + (budget or self.budget)
        spoke = False

        async def sink(sentence: str) -> None:
            nonlocal spoke
            spoke = True
            if on_sentence is not None:
                await on_sentence(sentence)

        attempt = 0
        while True:
            attempt += 1
            self.breaker.calls += 1
            remaining = deadline - time.monotonic()
            try:
                reply = await asyncio.wait_for(self._stream(messages, tools, sink, remaining), remaining)
                self.breaker.consecutive_failures = 0
                return reply
            except openai.AuthenticationError as exc:
                self._failed(exc)
                self.breaker.trip(AUTH_FAILED, float("inf"), str(exc))
                raise LLMUnavailable(AUTH_FAILED, "the OpenAI key was refused") from exc
            except openai.PermissionDeniedError as exc:
                self._failed(exc)
                self.breaker.trip(AUTH_FAILED, float("inf"), str(exc))
                raise LLMUnavailable(AUTH_FAILED, "the OpenAI key may not use this model") from exc
            except openai.RateLimitError as exc:
                self._failed(exc)
                if _error_code(exc) == "insufficient_quota":
                    self.breaker.trip(QUOTA_EXHAUSTED, self.quota_pause, str(exc))
                    raise LLMUnavailable(QUOTA_EXHAUSTED, "OpenAI quota exhausted") from exc
                self.breaker.trip(RATE_LIMITED, _retry_after(exc, self.rate_pause), str(exc))
                raise LLMUnavailable(RATE_LIMITED, "OpenAI rate limit") from exc
            except (asyncio.TimeoutError, openai.APITimeoutError, openai.APIConnectionError,
                    openai.InternalServerError, openai.APIResponseValidationError, json.JSONDecodeError,
                    openai.APIStatusError) as exc:
                self._failed(exc)
                self.breaker.consecutive_failures += 1
                if self.breaker.consecutive_failures >= self.failure_threshold:
                    self.breaker.trip(FAILING, self.failure_pause, repr(exc))
                # Retry once, if time remains and the caller has not already heard part of it.
                retry = (attempt == 1 and not spoke and deadline - time.monotonic() > 0.3
                         and not self.breaker.is_open(time.monotonic()))
                if not retry:
                    raise LLMUnavailable(FAILING, f"no answer from the LLM: {type(exc).__name__}") from exc
                logger.info("llm.retry error=%s", type(exc).__name__)

    def _failed(self, exc: BaseException) -> None:
        self.breaker.failures += 1
        self.breaker.last_error = f"{type(exc).__name__}: {exc}"[:300]
        logger.warning("llm.request.failed error=%s", type(exc).__name__)

    async def _stream(self, messages: List[Dict[str, Any]], tools: Optional[List[Dict[str, Any]]],
                      on_sentence: SentenceSink, timeout: float) -> LLMReply:
        started = time.monotonic()
        kwargs: Dict[str, Any] = {"model": self.model, "messages": messages, "stream": True,
                                  "temperature": 0.3, "max_tokens": 200, "timeout": timeout}
        if tools:
            kwargs["tools"] = tools
        stream = await self._client.chat.completions.create(**kwargs)
        reply = LLMReply(text="")
        pending = ""
        tool_name, tool_args = "", ""
        async for chunk in stream:
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            for call in delta.tool_calls or []:
                if call.function and call.function.name:
                    tool_name = call.function.name
                if call.function and call.function.arguments:
                    tool_args += call.function.arguments
            if delta.content:
                pending += delta.content
                *done, pending = _SENTENCE_END.split(pending)
                for sentence in done:
                    await self._emit(reply, sentence, on_sentence, started)
        if pending.strip():
            await self._emit(reply, pending, on_sentence, started)
        if tool_name:
            try:
                arguments = json.loads(tool_args or "{}")
            except ValueError:
                arguments = {}
            reply.tool_call = ToolCall(tool_name, arguments if isinstance(arguments, dict) else {})
        reply.text = " ".join(reply.sentences)
        return reply

    @staticmethod
    async def _emit(reply: LLMReply, sentence: str, sink: SentenceSink, started: float) -> None:
        sentence = sentence.strip()
        if not sentence:
            return
        if reply.first_sentence_ms is None:
            reply.first_sentence_ms = (time.monotonic() - started) * 1000
        reply.sentences.append(sentence)
        await sink(sentence)


def _seconds_left(breaker: Breaker, now: float) -> Optional[int]:
    """Seconds until the LLM is tried again; None when only a configuration change helps."""
    if breaker.state == OK:
        return 0
    if breaker.open_until == float("inf") or breaker.state in (AUTH_FAILED, DISABLED):
        return None
    return max(0, round(breaker.open_until - now))


def _error_code(exc: openai.APIStatusError) -> str:
    code = getattr(exc, "code", None)
    if code:
        return str(code)
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        return str((body.get("error") or body).get("code") or (body.get("error") or body).get("type") or "")
    return ""


def _retry_after(exc: openai.APIStatusError, default: float) -> float:
    try:
        return max(1.0, float(exc.response.headers.get("retry-after", default)))
    except (TypeError, ValueError, AttributeError):
        return default
