"""`python -m standins.rentmanager`: run the Rent Manager stand-in on one port, one worker.

Flags take their defaults from the environment, so `make run` and a developer's shell agree.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Mapping, Optional, Sequence

from standins.rentmanager.app import create_app
from standins.rentmanager.faults import Faults, parse_delay, parse_env
from standins.rentmanager.seed import DEMO_TENANT_COUNT

DEFAULT_PORT = 5100
DEFAULT_DB = ".standin/rentmanager.sqlite3"
logger = logging.getLogger("standin.rentmanager")


def parse_args(argv: Optional[Sequence[str]] = None, env: Mapping[str, str] = os.environ) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m standins.rentmanager",
                                     description="A local Rent Manager 12 Web API stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=env.get("RENT_MANAGER_STANDIN_PORT") or str(DEFAULT_PORT),
                        help="[RENT_MANAGER_STANDIN_PORT, 5100]")
    parser.add_argument("--db", default=env.get("RENT_MANAGER_STANDIN_DB") or DEFAULT_DB,
                        help=f"SQLite file [RENT_MANAGER_STANDIN_DB, {DEFAULT_DB}]")
    parser.add_argument("--tenants", type=int,
                        default=env.get("RENT_MANAGER_STANDIN_TENANTS") or str(DEMO_TENANT_COUNT),
                        help="tenants to seed; more than 18 adds generated ones [RENT_MANAGER_STANDIN_TENANTS, 18]")
    parser.add_argument("--delay-ms", default=env.get("RENT_MANAGER_STANDIN_DELAY_MS") or "0",
                        help='delay of every API response: "0" or a range "150-400" [RENT_MANAGER_STANDIN_DELAY_MS]')
    parser.add_argument("--reset", action="store_true", help="wipe the database and seed it again")
    parser.add_argument("--token-idle-seconds", type=float,
                        default=env.get("RENT_MANAGER_STANDIN_TOKEN_IDLE_SECONDS") or "900",
                        help="a token dies after this long unused [RENT_MANAGER_STANDIN_TOKEN_IDLE_SECONDS, 900]")
    parser.add_argument("--rate-limit", type=int, default=env.get("RENT_MANAGER_STANDIN_RATE_LIMIT") or "0",
                        help="answer 429 past this many requests a minute per login; 0 = headers only "
                             "[RENT_MANAGER_STANDIN_RATE_LIMIT, 0]")
    args = parser.parse_args(argv)
    try:
        args.delay = parse_delay(args.delay_ms)
        args.faults = parse_env(env.get("RENT_MANAGER_STANDIN_FAULTS"))
        Faults().apply(args.faults)  # refuse a bad switch here, with a usage message
    except ValueError as exc:
        parser.error(str(exc))
    if args.tenants < 0:
        parser.error("--tenants must be 0 or more")
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = parse_args(argv)
    app = create_app(args.db, seed_tenants=args.tenants, delay_ms=args.delay, faults=args.faults, reset=args.reset,
                     token_idle_seconds=args.token_idle_seconds, rate_limit=args.rate_limit or None)
    url = f"http://{args.host}:{args.port}"
    logger.info("standin.rentmanager.started url=%s db=%s delay_ms=%s faults=%s", url, args.db, args.delay_ms,
                json.dumps(args.faults) if args.faults else "none")
    logger.info('standin.rentmanager.login POST %s/Authentication/AuthorizeUser {"Username": "api", '
                '"Password": "standin", "LocationID": 1}', url)
    sys.stdout.flush()
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
