"""The stand-in's Sanic app: the Rent Manager 12 API on one side, fault switches on the other.

Why a factory: tests and `python -m standins.rentmanager` build the same app; nothing is opened
or seeded until `create_app` is called.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any, Dict, Mapping, Optional, Tuple

from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse, json

from standins.rentmanager.auth import RateCounter, TokenStore
from standins.rentmanager.errors import ApiError, error_model, error_response
from standins.rentmanager.faults import Faults, pick_delay
from standins.rentmanager.routes import Standin, build_routes, dispatch, new_call
from standins.rentmanager.seed import DEMO_TENANT_COUNT, seed
from standins.rentmanager.store import Store

logger = logging.getLogger("standin.rentmanager")
API_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
DEFAULT_RATE_LIMIT = 500
_FAULT_MESSAGES = {
    429: "Too many requests.",
    500: "An error has occurred.",
    502: "Bad Gateway.",
    503: "The service is unavailable.",
    504: "Gateway Timeout.",
}


def open_store(db_path: str, seed_tenants: int, location_id: int, reset: bool) -> Store:
    """Opens the database, seeding it only when it is new (or on reset), so data survives restarts."""
    store = Store(db_path)
    if reset:
        store.wipe()
    seeded = store.meta("seeded_tenants")
    if seeded is None:
        seed(store, seed_tenants, location_id)
        logger.info("standin.rentmanager.seeded tenants=%d db=%s", seed_tenants, db_path)
    elif int(seeded) != seed_tenants:
        logger.warning("standin.rentmanager.seed.kept seeded_tenants=%s asked=%d (use --reset to reseed)",
                       seeded, seed_tenants)
    return store


def create_app(
    db_path: str,
    *,
    seed_tenants: int = DEMO_TENANT_COUNT,
    delay_ms: Tuple[int, int] = (0, 0),
    username: str = "api",
    password: str = "standin",
    location_id: int = 1,
    token_idle_seconds: float = 900,
    rate_limit: Optional[int] = None,
    faults: Optional[Mapping[str, Any]] = None,
    reset: bool = False,
) -> Sanic:
    """A Rent Manager 12 API stand-in over the SQLite file `db_path`.

    `rate_limit` enforces 429 past that many requests per minute per login (None: headers only,
    at Rent Manager's 500). `faults` switches faults on from the start, as POST /_standin/faults does.
    """
    # Sanic's loggers propagate to the process's own logging set-up (one format, no doubled lines).
    app = Sanic(f"rentmanager_standin_{uuid.uuid4().hex[:12]}", configure_logging=False)
    app.config.KEEP_ALIVE_TIMEOUT = 60
    app.config.FALLBACK_ERROR_FORMAT = "json"
    standin = Standin(
        store=open_store(db_path, seed_tenants, location_id, reset),
        tokens=TokenStore(idle_seconds=token_idle_seconds),
        rates=RateCounter(rate_limit or DEFAULT_RATE_LIMIT, enforce=bool(rate_limit)),
        username=username,
        password=password,
    )
    switches = Faults()
    if faults:
        _apply_faults(switches, standin, faults)
    routes = build_routes()
    app.ctx.standin = standin
    app.ctx.faults = switches

    async def api(request: Request, path: str = "") -> HTTPResponse:
        drop = switches.take_drop()
        if drop == "before":
            logger.info("standin.rentmanager.fault.drop when=before")
            request.transport.abort()
            return HTTPResponse(status=204)  # never sent: the connection is gone
        started = time.monotonic()
        call = new_call(request, standin)
        status = switches.take_status()
        try:
            if status is not None:
                raise error_model(status, _FAULT_MESSAGES.get(status, "An error has occurred."),
                                  f"Fault injected by the stand-in (status {status}).")
            response = dispatch(routes, call, path)
        except ApiError as error:
            response = error_response(error)
        except Exception:  # a bug here must still answer like the API does
            logger.exception("standin.rentmanager.request.crashed path=%s", request.path)
            response = error_response(error_model(500, "An error has occurred.", "Unhandled stand-in error."))
        rate = call.rate_headers or standin.rates.hit(call.session.user if call.session else "anonymous")
        response.headers.update(rate)
        # The delay comes after the work, so a client that times out leaves a committed write behind,
        # as a slow host does.
        wait = pick_delay(delay_ms) + switches.delay_ms / 1000.0
        if wait > 0:
            await asyncio.sleep(wait)
        logger.debug("standin.rentmanager.request method=%s path=%s status=%d ms=%.1f", request.method,
                     request.path, response.status, (time.monotonic() - started) * 1000)
        if drop == "after":
            logger.info("standin.rentmanager.fault.drop when=after status=%d", response.status)
            request.transport.abort()
        return response

    app.add_route(api, "/", methods=API_METHODS, name="api_root")
    app.add_route(api, "/<path:path>", methods=API_METHODS, name="api")
    _add_admin_routes(app, standin, switches)

    @app.after_server_stop
    async def _close(app: Sanic, _loop: Any) -> None:
        standin.store.close()

    return app


def _apply_faults(switches: Faults, standin: Standin, spec: Mapping[str, Any]) -> Dict[str, Any]:
    expire = switches.apply(spec)
    state = switches.snapshot()
    if expire:
        state["expired_tokens"] = standin.tokens.revoke_all()
    logger.info("standin.rentmanager.fault.set %s", {k: v for k, v in state.items() if v})
    return state


def _add_admin_routes(app: Sanic, standin: Standin, switches: Faults) -> None:
    """`/_standin/...`: not part of the Rent Manager API, and needs no token."""

    async def health(request: Request) -> HTTPResponse:
        store = standin.store
        counts = {name: store.count(kind) for name, kind in (
            ("properties", "Properties"), ("units", "Units"), ("tenants", "Tenants"), ("prospects", "Prospects"),
            ("service_issues", "ServiceManagerIssues"), ("history_notes", "HistoryNotes"))}
        return json({"status": "ok", "service": "rentmanager-standin", **counts, "live_tokens": standin.tokens.live(),
                     "faults": switches.snapshot()})

    async def get_faults(request: Request) -> HTTPResponse:
        return json(switches.snapshot())

    async def set_faults(request: Request) -> HTTPResponse:
        try:
            spec = request.json
            if not isinstance(spec, dict):
                raise ValueError("send a JSON object, e.g. {\"status\": 503, \"count\": 5}")
            return json(_apply_faults(switches, standin, spec))
        except Exception as exc:  # a bad switch is the caller's mistake: say which
            return json({"error": str(exc)}, status=400)

    async def clear_faults(request: Request) -> HTTPResponse:
        if switches != Faults():
            logger.info("standin.rentmanager.fault.cleared")
        switches.clear()
        return json(switches.snapshot())

    app.add_route(health, "/_standin/health", methods=["GET"], name="standin_health")
    app.add_route(get_faults, "/_standin/faults", methods=["GET"], name="standin_faults_get")
    app.add_route(set_faults, "/_standin/faults", methods=["POST"], name="standin_faults_set")
    app.add_route(clear_faults, "/_standin/faults", methods=["DELETE"], name="standin_faults_clear")
