"""rasa-sdk's plugin hook: starts our background work with the action server.

rasa-sdk imports the package `rasa_sdk_plugins` (if importable) and calls `init_hooks`;
our hook adds Sanic listeners that start the outbox worker and the caller directory
refresher after the server starts, and close them before it stops. It also adds
`GET /outbox` (the outbox counts and parked writes) and `GET /status` (the LLM's state,
the outbox, Rent Manager), for the dashboard and for people.
"""
from __future__ import annotations

import asyncio
import logging

import pluggy
from sanic import Sanic, response
from sanic.request import Request

hookimpl = pluggy.HookimplMarker("rasa_sdk")
logger = logging.getLogger(__name__)


def warm_up() -> None:
    from actions.emergency import hazard_kind

    try:
        hazard_kind("warm up")
    except Exception:
        logger.exception("actions.warm_up.failed")


class _OurPlugin:
    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        from actions.property import PropertyFileError
        from actions.services import get_services, shutdown_services
        from actions.voice import property_file
        from stack.heap import freeze_startup_heap

        try:
            property_file()  # a wrong property file stops start-up, naming the field and the fix
        except PropertyFileError as exc:
            logger.error("actions.property_file.invalid %s", exc)
            raise SystemExit(f"error: {exc}")

        async def start(_app: Sanic, _loop: object) -> None:
            get_services().start_background()
            # Load spaCy's tokenizer now, not during a caller's emergency; then keep the
            # collector off everything loaded so far.
            warming = asyncio.get_event_loop().run_in_executor(None, warm_up)
            warming.add_done_callback(lambda _: freeze_startup_heap())

        async def stop(_app: Sanic, _loop: object) -> None:
            await shutdown_services()

        async def outbox_status(_request: Request) -> response.HTTPResponse:
            outbox = get_services().outbox
            parked = [
                {"reference": e.reference, "kind": e.kind, "error": e.last_error, "attempts": e.attempts}
                for e in outbox.entries("parked")
            ]
            return response.json({"counts": outbox.counts(), "parked": parked})

        async def status(_request: Request) -> response.HTTPResponse:
            """Health of what the actions depend on, for the dashboard."""
            services = get_services()
            return response.json({
                "llm": services.llm.status(),
                "outbox": services.outbox.counts(),
                "rentmanager": {"base_url": services.settings.base_url, "standin": services.settings.is_standin,
                                "tenants_indexed": services.directory.size},
            })

        app.register_listener(start, "after_server_start")
        app.add_route(status, "/status", methods=["GET"])
        app.register_listener(stop, "before_server_stop")
        app.add_route(outbox_status, "/outbox", methods=["GET"])


def init_hooks(manager: pluggy.PluginManager) -> None:
    manager.register(_OurPlugin())
