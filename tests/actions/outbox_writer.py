"""A process that records N service issues and works the outbox: the tests kill it mid-way.

Usage: python -m tests.actions.outbox_writer DB_URL RENT_MANAGER_URL N
Prints "recorded N" once every write is durable, then sends until killed.
"""
from __future__ import annotations

import asyncio
import sys

from actions.api.rentmanager import RentManagerClient
from actions.outbox import Outbox


async def main(database_url: str, base_url: str, count: int) -> None:
    client = RentManagerClient(base_url, "api", "standin", 1, timeout=5, retries=0)
    outbox = Outbox(database_url, client, retry_base=0.1, retry_max=0.5, lease=1.0)
    for i in range(count):
        await outbox.submit("service_issue", issue_payload(f"restart-{i}"), reference=f"PA-RESTART-{i:03d}", wait=0)
    print(f"recorded {count}", flush=True)
    await outbox.run_worker(poll=0.1)


def issue_payload(title: str) -> dict:
    return {"title": title, "description": "outbox test", "category": "Plumbing", "priority": "Normal",
            "tenant_id": 1}


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
