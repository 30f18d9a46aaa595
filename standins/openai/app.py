"""The stand-in's Sanic app: OpenAI's Chat Completions API on `/v1`, fault switches on `/_standin`.

Why a factory: tests and `python -m standins.openai` build the same app; the script is read and the state
made only when `create_app` is called, never at import.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import deque
from typing import Any, Awaitable, Callable, Deque, Dict, Mapping, Optional

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from standins.openai.admin import add_admin_routes
from standins.openai.faults import Faults
from standins.openai.script import Script, load_rules
from standins.openai.wire import (
    DONE,
    MODELS,
    Chunks,
    Reply,
    api_headers,
    completion,
    error_body,
    masked_key,
    new_id,
    rate_limit_headers,
)

logger = logging.getLogger("standin.openai")
Headers = Callable[[], Dict[str, str]]
Handler = Callable[[Request, "Standin", Dict[str, Any], Headers, bool], Awaitable[Optional[HTTPResponse]]]
HANG_SECONDS = 3600  # "never" answers: long past any client's timeout
REQUEST_LOG_SIZE = 200
LOGGED_HEADERS = ("user-agent", "x-stainless-retry-count", "x-stainless-read-timeout")  # never the key
KEY_HELP = " You can find your API key at https://platform.openai.com/account/api-keys."
QUOTA_MESSAGE = ("You exceeded your current quota, please check your plan and billing details. For more information "
                 "on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.")
SERVER_ERROR_MESSAGE = ("The server had an error while processing your request. Sorry about that! You can retry "
                        "your request, or contact us through our help center at help.openai.com if the error persists.")


class Standin:
    """The stand-in's state: key, script (possibly replaced at run time), switches and the request log."""

    def __init__(self, api_key: Optional[str], script: Script, faults: Faults) -> None:
        self.api_key = api_key
        self.file_script = script
        self.script = script
        self.faults = faults
        self.requests: Deque[Dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self.seq = 0

    def record(self, request: Request) -> Dict[str, Any]:
        """A log entry for `request`, kept (last 200) and filled in as the answer goes out."""
        self.seq += 1
        raw = request.body.decode("utf-8", "replace")
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw[:2000]
        entry = {"seq": self.seq, "received_at": time.time(), "method": request.method, "path": request.path,
                 "headers": {name: request.headers[name] for name in LOGGED_HEADERS if name in request.headers},
                 "authorized": None, "body": body, "fault": None, "status": None, "outcome": "pending"}
        self.requests.append(entry)
        return entry

    def key_error(self, request: Request) -> Optional[Dict[str, Any]]:
        """OpenAI's 401 body when the bearer key is missing or wrong (None: no key is required, or it is right)."""
        given = _bearer(request)
        if self.api_key is None or given == self.api_key:
            return None
        if not given:
            return error_body("You didn't provide an API key. You need to provide your API key in an Authorization "
                              "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an "
                              "API key from https://platform.openai.com/account/api-keys.",
                              "invalid_request_error", "invalid_api_key")
        return error_body(f"Incorrect API key provided: {masked_key(given)}." + KEY_HELP,
                          "invalid_request_error", "invalid_api_key")


def create_app(
    *,
    api_key: Optional[str] = "sk-standin",
    script_path: Optional[str] = None,
    first_token_ms: float = 0,
    tokens_per_second: float = 0,
    faults: Optional[Mapping[str, Any]] = None,
) -> Sanic:
    """An OpenAI Chat Completions stand-in answering from the script at `script_path` (None: the default).

    `api_key` None accepts any key. `first_token_ms` and `tokens_per_second` (0: instant) pace every answer.
    `faults` switches faults on from the start, as POST /_standin/faults does.
    """
    switches = Faults.started(first_token_ms, tokens_per_second)
    if faults:
        switches.apply(faults)
    standin = Standin(api_key, Script(load_rules(script_path)), switches)
    # Sanic's loggers propagate to the process's own logging set-up (one format, no doubled lines).
    app = Sanic(f"openai_standin_{uuid.uuid4().hex[:12]}", configure_logging=False)
    app.config.KEEP_ALIVE_TIMEOUT = 60  # longer than httpx's keep-alive, so a pooled connection is never stale
    app.config.RESPONSE_TIMEOUT = HANG_SECONDS + 60
    app.config.GRACEFUL_SHUTDOWN_TIMEOUT = 1  # hung requests must not hold up a stop
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.standin = standin

    async def chat_completions(request: Request) -> Optional[HTTPResponse]:
        return await _serve(request, standin, _chat)

    async def models(request: Request) -> Optional[HTTPResponse]:
        return await _serve(request, standin, _models)

    async def unknown(request: Request, path: str) -> HTTPResponse:
        return json_response(error_body(f"Invalid URL ({request.method} {request.path})", "invalid_request_error"),
                             status=404)

    app.add_route(chat_completions, "/v1/chat/completions", methods=["POST"], name="chat_completions")
    app.add_route(models, "/v1/models", methods=["GET"], name="models")
    app.add_route(unknown, "/v1/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], name="unknown")
    add_admin_routes(app, standin)
    return app


async def _serve(request: Request, standin: Standin, handler: Handler) -> Optional[HTTPResponse]:
    """Auth, faults and the request log around one API call; `handler` gives the real answer."""
    started = time.monotonic()
    entry = standin.record(request)
    request_id = new_id("req_", 32)

    def headers() -> Dict[str, str]:
        # openai-processing-ms counts up to the moment of answering
        return {**api_headers(request_id, started), **rate_limit_headers()}

    try:
        problem = standin.key_error(request)
        entry["authorized"] = problem is None
        mode = standin.faults.take() if problem is None else None
        entry["fault"] = mode
        if mode == "auth":
            problem = error_body(f"Incorrect API key provided: {masked_key(_bearer(request))}." + KEY_HELP,
                                 "invalid_request_error", "invalid_api_key")
        if problem is not None:
            return _error(entry, headers, problem, 401)
        if mode is not None and mode != "malformed":
            return await _fault(request, entry, headers, mode, standin.faults.retry_after)
        response = await handler(request, standin, entry, headers, mode == "malformed")
        if entry["outcome"] == "pending":
            entry["outcome"] = "answered"
        return response
    except asyncio.CancelledError:
        entry["outcome"] = "client_closed"
        raise
    except Exception:  # a bug here must still answer the way the API does
        logger.exception("standin.openai.request.crashed path=%s", request.path)
        return _error(entry, headers, error_body(SERVER_ERROR_MESSAGE, "server_error"), 500)
    finally:
        entry["ms"] = round((time.monotonic() - started) * 1000, 1)
        # A request hit by a fault is news; the others are only worth a debug line (no caller words in either).
        logger.log(logging.INFO if entry["fault"] else logging.DEBUG,
                   "standin.openai.request path=%s status=%s outcome=%s fault=%s rule=%s ms=%.0f", request.path,
                   entry["status"], entry["outcome"], entry["fault"], entry.get("rule"), entry["ms"])


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else ""


def _error(entry: Dict[str, Any], headers: Headers, body: Dict[str, Any], status: int,
           extra: Optional[Mapping[str, str]] = None) -> HTTPResponse:
    entry["status"], entry["outcome"] = status, "error"
    return json_response(body, status=status, headers={**headers(), **(extra or {})})


async def _fault(request: Request, entry: Dict[str, Any], headers: Headers, mode: str,
                 retry_after: float) -> Optional[HTTPResponse]:
    if mode == "insufficient_quota":
        return _error(entry, headers, error_body(QUOTA_MESSAGE, "insufficient_quota", "insufficient_quota"), 429)
    if mode == "rate_limit":
        wait = f"{retry_after:g}"
        message = (f"Rate limit reached for requests on requests per min (RPM): Limit 10000, Used 10000, "
                   f"Requested 1. Please try again in {wait}s. Visit https://platform.openai.com/account/rate-limits "
                   f"to learn more.")
        extra = {**rate_limit_headers(0, f"{wait}s"), "retry-after": wait}
        return _error(entry, headers, error_body(message, "requests", "rate_limit_exceeded"), 429, extra)
    if mode == "server_error":
        return _error(entry, headers, error_body(SERVER_ERROR_MESSAGE, "server_error"), 500)
    # hang: take the request and say nothing; the client's timeout ends it (the task is cancelled then)
    entry["outcome"] = "hanging"
    await asyncio.sleep(HANG_SECONDS)
    entry["outcome"] = "dropped"
    request.transport.abort()
    return None


async def _models(request: Request, standin: Standin, entry: Dict[str, Any], headers: Headers,
                  malformed: bool) -> HTTPResponse:
    if malformed:
        return _malformed(entry, headers)
    entry["status"] = 200
    data = [{"id": name, "object": "model", "created": 1715367049, "owned_by": "system"} for name in MODELS]
    return json_response({"object": "list", "data": data}, headers=headers())


def _malformed(entry: Dict[str, Any], headers: Headers) -> HTTPResponse:
    """A 200 that claims to be JSON and is cut off half-way, as a broken proxy sends."""
    entry["status"], entry["outcome"] = 200, "malformed"
    body = '{"id": "chatcmpl-' + new_id("") + '", "object": "chat.completion", "choices": [{"index": 0, "mess'
    return HTTPResponse(body, status=200, headers=headers(), content_type="application/json")


async def _chat(request: Request, standin: Standin, entry: Dict[str, Any], headers: Headers,
                malformed: bool) -> Optional[HTTPResponse]:
    body = entry["body"]
    if not isinstance(body, dict):
        return _error(entry, headers, error_body(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
            "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            "invalid_request_error"), 400)
    if not body.get("model"):
        return _error(entry, headers, error_body("you must provide a model parameter", "invalid_request_error"), 400)
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        message = ("Missing required parameter: 'messages'." if "messages" not in body
                   else "Invalid 'messages': expected a non-empty array.")
        return _error(entry, headers, error_body(message, "invalid_request_error", "missing_required_parameter"
                                                 if "messages" not in body else "invalid_value", "messages"), 400)
    stream = bool(body.get("stream"))
    entry["stream"] = stream
    if malformed and not stream:
        return _malformed(entry, headers)
    answer = standin.script.answer(body)
    reply = Reply.build(answer, body)
    entry["rule"] = answer.rule
    entry["answer"] = ({"tool": answer.tool_name, "arguments": answer.tool_arguments} if answer.is_tool_call
                       else {"say": "".join(reply.pieces)})
    entry["finish_reason"] = reply.finish_reason
    first_wait = standin.faults.first_token_ms / 1000.0
    tps = standin.faults.tokens_per_second
    step = 1.0 / tps if tps > 0 else 0.0
    ids = dict(completion_id=new_id("chatcmpl-", 29), model=str(body["model"]), created=int(time.time()))
    if not stream:
        await asyncio.sleep(first_wait + step * max(0, len(reply.pieces) - 1))
        entry["status"] = 200
        return json_response(completion(reply, **ids), headers=headers())
    options = body.get("stream_options") or {}
    chunks = Chunks(**ids, include_usage=bool(isinstance(options, dict) and options.get("include_usage")))
    # The API sends its headers with the first token, so time-to-first-byte is the first-token delay.
    await asyncio.sleep(first_wait)
    response = await request.respond(headers=headers(),
                                     content_type="text/event-stream; charset=utf-8")
    entry["status"] = 200
    await response.send(chunks.first(reply))
    if malformed:
        entry["outcome"] = "malformed"
        await response.send('data: {"id":"' + ids["completion_id"] + '","object":"chat.completion.chunk","choices'
                            + '":[{"index":0,"delta":{"content":"Hel\n\n')
        await response.eof()
        return None
    for index, piece in enumerate(reply.pieces):
        if index and step:
            await asyncio.sleep(step)
        await response.send(chunks.piece(reply, piece))
    await response.send(chunks.last(reply))
    if chunks.include_usage:
        await response.send(chunks.usage(reply))
    await response.send(DONE)
    await response.eof()
    return None
