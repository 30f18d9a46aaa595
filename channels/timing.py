"""`Server-Timing` on every HTTP answer of the Rasa server: how long Rasa itself took.

The standard header (W3C Server Timing) lets a client split a slow answer into the server's
own time and everything outside it (the network, queueing before the request was read, the
client). `bench.calls` reads it from Rasa's REST channel to show the floor inside Rasa.
"""
from __future__ import annotations

import time
from typing import Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse


async def _started(request: Request) -> None:
    request.ctx.timing_started = time.perf_counter()


async def _finished(request: Request, response: HTTPResponse) -> None:
    started = getattr(request.ctx, "timing_started", None)
    if started is not None and response is not None and hasattr(response, "headers"):
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"


def add_server_timing(app: Sanic, *_: Any) -> None:
    """App-wide middleware (a blueprint's own middleware would only see the blueprint's routes)."""
    app.register_middleware(_started, "request")
    app.register_middleware(_finished, "response")
