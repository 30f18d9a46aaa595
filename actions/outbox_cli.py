"""`python -m actions.outbox_cli`: see and mend the outbox without the action server.

  status            counts, and every parked write with its error
  requeue REF       put a parked write back in line after fixing its cause
  drain [SECONDS]   send what is pending now (e.g. after an outage), then exit
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from typing import List, Optional

from actions.api.rentmanager import RentManagerClient
from actions.config import OutboxSettings, RentManagerSettings
from actions.outbox import Outbox


def _outbox() -> Outbox:
    settings = OutboxSettings.from_env()
    client = RentManagerClient.from_settings(RentManagerSettings.from_env())
    return Outbox(settings.database_url, client, retry_base=settings.retry_base,
                  retry_max=settings.retry_max, lease=settings.lease)


async def _run(args: argparse.Namespace) -> int:
    outbox = _outbox()
    try:
        if args.command == "status":
            counts = outbox.counts()
            print(" ".join(f"{k}={v}" for k, v in counts.items()))
            for entry in outbox.entries("parked"):
                print(f"parked {entry.reference} {entry.kind}: {entry.last_error}")
            return 0
        if args.command == "requeue":
            if outbox.requeue(args.reference):
                print(f"{args.reference} is pending again")
                return 0
            print(f"{args.reference} is not a parked write", file=sys.stderr)
            return 1
        done = await outbox.drain(args.seconds)
        print(" ".join(f"{k}={v}" for k, v in outbox.counts().items()))
        return 0 if done else 1
    finally:
        await outbox.client.aclose()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m actions.outbox_cli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status")
    requeue = commands.add_parser("requeue")
    requeue.add_argument("reference")
    drain = commands.add_parser("drain")
    drain.add_argument("seconds", nargs="?", type=float, default=60.0)
    return asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
