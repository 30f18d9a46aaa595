"""`/_standin/...`: the stand-in's own controls, not part of the OpenAI API, and needing no key.

Why: tests switch faults and pacing, read what prompt the client really sent, and swap in a script of
their own, all over the same HTTP the client uses, while the process keeps running.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from standins.openai.script import Script, parse_rules

if TYPE_CHECKING:
    from standins.openai.app import Standin

logger = logging.getLogger("standin.openai")


def _bad(exc: Exception) -> HTTPResponse:
    """A bad switch or script is the caller's mistake: say which."""
    return json({"error": str(exc)}, status=400)


def add_admin_routes(app: Sanic, standin: "Standin") -> None:
    async def health(request: Request) -> HTTPResponse:
        return json({"status": "ok", "service": "openai-standin", "rules": len(standin.script.rules),
                     "script": "replaced" if standin.script is not standin.file_script else "file",
                     "requests": len(standin.requests), "faults": standin.faults.snapshot()})

    async def get_faults(request: Request) -> HTTPResponse:
        return json(standin.faults.snapshot())

    async def set_faults(request: Request) -> HTTPResponse:
        try:
            spec = request.json
            if not isinstance(spec, dict):
                raise ValueError('send a JSON object, e.g. {"mode": "rate_limit", "count": 2}')
            standin.faults.apply(spec)  # all or nothing: a bad switch changes none
        except Exception as exc:
            return _bad(exc)
        logger.info("standin.openai.fault.set %s", standin.faults.snapshot())
        return json(standin.faults.snapshot())

    async def clear_faults(request: Request) -> HTTPResponse:
        before = standin.faults.snapshot()
        standin.faults.clear()
        if standin.faults.snapshot() != before:
            logger.info("standin.openai.fault.cleared")
        return json(standin.faults.snapshot())

    async def get_requests(request: Request) -> HTTPResponse:
        """The last 200 API requests, oldest first, with the body as the client sent it."""
        return json({"requests": list(standin.requests)})

    async def clear_requests(request: Request) -> HTTPResponse:
        standin.requests.clear()
        return json({"requests": []})

    async def get_script(request: Request) -> HTTPResponse:
        return json({"rules": standin.script.as_list()})

    async def put_script(request: Request) -> HTTPResponse:
        """Replaces the rules until DELETE (same format as the YAML file, as JSON)."""
        try:
            standin.script = Script(parse_rules(request.json))
        except Exception as exc:
            return _bad(exc)
        logger.info("standin.openai.script.replaced rules=%d", len(standin.script.rules))
        return json({"rules": standin.script.as_list()})

    async def reset_script(request: Request) -> HTTPResponse:
        standin.script = standin.file_script
        return json({"rules": standin.script.as_list()})

    for handler, path, method in (
        (health, "/_standin/health", "GET"),
        (get_faults, "/_standin/faults", "GET"),
        (set_faults, "/_standin/faults", "POST"),
        (clear_faults, "/_standin/faults", "DELETE"),
        (get_requests, "/_standin/requests", "GET"),
        (clear_requests, "/_standin/requests", "DELETE"),
        (get_script, "/_standin/script", "GET"),
        (put_script, "/_standin/script", "PUT"),
        (reset_script, "/_standin/script", "DELETE"),
    ):
        app.add_route(handler, path, methods=[method], name=f"standin_{handler.__name__}")
