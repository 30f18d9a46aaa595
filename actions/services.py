"""The action server's long-lived objects: one Rent Manager client, caller directory and outbox.

Built on first use inside the running event loop (never at import), and started with the
action server by the rasa-sdk plugin in `rasa_sdk_plugins/`, which also runs the outbox
worker and the directory refresher in the background and closes everything on shutdown.
"""
from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from typing import List, Mapping, Optional

from actions.api.directory import CallerDirectory
from actions.api.llm import LLMClient
from actions.api.push import CallPusher
from actions.api.rentmanager import RentManagerClient
from actions.config import LLMSettings, OutboxSettings, RentManagerSettings
from actions.outbox import Outbox

logger = logging.getLogger(__name__)


@dataclass
class Services:
    rentmanager: RentManagerClient
    directory: CallerDirectory
    outbox: Outbox
    settings: RentManagerSettings
    llm: LLMClient
    pusher: CallPusher
    tasks: List[asyncio.Task] = field(default_factory=list)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Services":
        # httpx logs every URL at INFO; Rent Manager query strings are not for production logs.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        rm_settings = RentManagerSettings.from_env(env)
        outbox_settings = OutboxSettings.from_env(env)
        client = RentManagerClient.from_settings(rm_settings)
        llm = LLMSettings.from_env(env)
        return cls(
            rentmanager=client,
            directory=CallerDirectory(client, ttl=rm_settings.phone_index_ttl),
            outbox=Outbox(
                outbox_settings.database_url,
                client,
                retry_base=outbox_settings.retry_base,
                retry_max=outbox_settings.retry_max,
                lease=outbox_settings.lease,
            ),
            settings=rm_settings,
            # OPENAI_BASE_URL is read by the SDK itself.
            llm=LLMClient(llm.api_key, llm.model, budget=llm.budget, quota_pause=llm.quota_pause),
            pusher=CallPusher(llm.rasa_url, llm.push_token),
        )

    def start_background(self) -> None:
        """Outbox worker and directory refresher, for as long as the process runs."""
        if not self.tasks:
            self.tasks = [
                asyncio.ensure_future(self.outbox.run_worker()),
                asyncio.ensure_future(self.directory.run_refresher()),
            ]
            logger.info(
                "actions.services.started rentmanager=%s standin=%s",
                self.settings.base_url, self.settings.is_standin,
            )

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks = []
        await self.rentmanager.aclose()
        await self.llm.aclose()
        await self.pusher.aclose()


_services: Optional[Services] = None


def get_services() -> Services:
    """The process's services, created on first call."""
    global _services
    if _services is None:
        _services = Services.from_env()
    return _services


async def shutdown_services() -> None:
    global _services
    if _services is not None:
        await _services.close()
        _services = None
