"""The Chat Completions wire format: the exact JSON the `openai` SDK parses, built from a scripted Answer.

Why a module of its own: the shapes (completion, stream chunks, errors, headers) are the contract with the
SDK; keeping them apart from the server code makes them easy to compare with openai/types/chat/*.py.
"""
from __future__ import annotations

import json
import re
import secrets
import string
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from standins.openai.script import Answer

SYSTEM_FINGERPRINT = "fp_standin"
_ALPHABET = string.ascii_letters + string.digits
_TEXT_PIECE = re.compile(r"\s*\S+|\s+")  # about one word per chunk, leading space kept, as the API sends
_JSON_PIECE = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")
MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4o-2024-08-06", "gpt-4.1", "gpt-4.1-mini")


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def text_pieces(text: str) -> List[str]:
    """Stream pieces whose concatenation is exactly `text`."""
    return _TEXT_PIECE.findall(text)


def json_pieces(text: str) -> List[str]:
    return _JSON_PIECE.findall(text)


def rough_tokens(text: str) -> int:
    """About four characters a token, as OpenAI's rule of thumb says."""
    return max(1, round(len(text) / 4)) if text else 0


def prompt_tokens(body: Mapping[str, Any]) -> int:
    total = 3
    for message in body.get("messages") or []:
        total += 4 + rough_tokens(json.dumps(message.get("content") or "") if isinstance(message, Mapping) else "")
        if isinstance(message, Mapping) and message.get("tool_calls"):
            total += rough_tokens(json.dumps(message["tool_calls"]))
    if body.get("tools"):
        total += rough_tokens(json.dumps(body["tools"]))
    return total


@dataclass
class Reply:
    """One answer cut into stream pieces, truncated to max_tokens (finish_reason "length") if asked."""

    answer: Answer
    pieces: List[str]
    finish_reason: str
    prompt_tokens: int

    @classmethod
    def build(cls, answer: Answer, body: Mapping[str, Any]) -> "Reply":
        if answer.is_tool_call:
            return cls(answer, json_pieces(answer.tool_arguments or ""), "tool_calls", prompt_tokens(body))
        pieces, finish = text_pieces(answer.text or ""), "stop"
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < len(pieces):
            pieces, finish = pieces[:limit], "length"
        return cls(answer, pieces, finish, prompt_tokens(body))

    @property
    def completion_tokens(self) -> int:
        return len(self.pieces) + (1 if self.answer.is_tool_call else 0)

    def usage(self) -> Dict[str, Any]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
        }


def completion(reply: Reply, *, completion_id: str, model: str, created: int) -> Dict[str, Any]:
    """A non-streaming `chat.completion` object."""
    message: Dict[str, Any] = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
    if reply.answer.is_tool_call:
        message["tool_calls"] = [{
            "id": new_id("call_"),
            "type": "function",
            "function": {"name": reply.answer.tool_name, "arguments": "".join(reply.pieces)},
        }]
    else:
        message["content"] = "".join(reply.pieces)
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}],
        "usage": reply.usage(),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


class Chunks:
    """`chat.completion.chunk` objects of one stream, as `data: ...` SSE lines."""

    def __init__(self, *, completion_id: str, model: str, created: int, include_usage: bool) -> None:
        self.base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                     "service_tier": "default", "system_fingerprint": SYSTEM_FINGERPRINT}
        self.include_usage = include_usage

    def event(self, delta: Mapping[str, Any], finish_reason: Optional[str] = None) -> str:
        chunk = dict(self.base, choices=[{"index": 0, "delta": delta, "logprobs": None,
                                          "finish_reason": finish_reason}])
        if self.include_usage:
            chunk["usage"] = None
        return sse(chunk)

    def first(self, reply: Reply) -> str:
        """The role chunk; for a tool call it also names the call (id, type, function name)."""
        if reply.answer.is_tool_call:
            call = {"index": 0, "id": new_id("call_"), "type": "function",
                    "function": {"name": reply.answer.tool_name, "arguments": ""}}
            return self.event({"role": "assistant", "content": None, "tool_calls": [call], "refusal": None})
        return self.event({"role": "assistant", "content": "", "refusal": None})

    def piece(self, reply: Reply, text: str) -> str:
        if reply.answer.is_tool_call:
            return self.event({"tool_calls": [{"index": 0, "function": {"arguments": text}}]})
        return self.event({"content": text})

    def last(self, reply: Reply) -> str:
        return self.event({}, reply.finish_reason)

    def usage(self, reply: Reply) -> str:
        return sse(dict(self.base, choices=[], usage=reply.usage()))


def sse(data: Any) -> str:
    return "data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n\n"


DONE = "data: [DONE]\n\n"


def error_body(message: str, type_: str, code: Optional[str] = None, param: Optional[str] = None) -> Dict[str, Any]:
    """OpenAI's error shape, which the SDK turns into `exc.message`, `.type`, `.code` and `.param`."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def masked_key(key: str) -> str:
    """The key as OpenAI quotes it back: the ends kept, the middle starred."""
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}{'*' * (len(key) - 7)}{key[-4:]}"


def rate_limit_headers(remaining_requests: int = 9999, reset: str = "6ms") -> Dict[str, str]:
    return {
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-remaining-requests": str(remaining_requests),
        "x-ratelimit-reset-requests": reset,
        "x-ratelimit-limit-tokens": "30000000",
        "x-ratelimit-remaining-tokens": "29999000" if remaining_requests else "0",
        "x-ratelimit-reset-tokens": "0s" if remaining_requests else reset,
    }


def api_headers(request_id: str, started: float) -> Dict[str, str]:
    """What every API answer carries (the SDK exposes x-request-id as `_request_id`)."""
    return {
        "x-request-id": request_id,
        "openai-version": "2020-10-01",
        "openai-organization": "user-standin",
        "openai-processing-ms": str(int((time.monotonic() - started) * 1000)),
    }
