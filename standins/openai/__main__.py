"""`python -m standins.openai`: run the OpenAI stand-in on one port, one worker.

Flags take their defaults from the environment, so `make run` and a developer's shell agree.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Mapping, Optional, Sequence

from standins.openai.app import create_app
from standins.openai.faults import Faults, parse_env
from standins.openai.script import DEFAULT_SCRIPT, load_rules

DEFAULT_PORT = 5200
DEFAULT_API_KEY = "sk-standin"
logger = logging.getLogger("standin.openai")


def parse_args(argv: Optional[Sequence[str]] = None, env: Mapping[str, str] = os.environ) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m standins.openai",
                                     description="A local OpenAI-compatible Chat Completions stand-in.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=env.get("OPENAI_STANDIN_PORT") or str(DEFAULT_PORT),
                        help=f"[OPENAI_STANDIN_PORT, {DEFAULT_PORT}]")
    parser.add_argument("--script", default=env.get("OPENAI_STANDIN_SCRIPT") or str(DEFAULT_SCRIPT),
                        help="YAML rules to answer from [OPENAI_STANDIN_SCRIPT, the packaged default_script.yml]")
    parser.add_argument("--first-token-ms", type=float, default=env.get("OPENAI_STANDIN_FIRST_TOKEN_MS") or "0",
                        help="wait before the first token [OPENAI_STANDIN_FIRST_TOKEN_MS, 0]")
    parser.add_argument("--tokens-per-second", type=float, default=env.get("OPENAI_STANDIN_TPS") or "0",
                        help="pace of the later tokens, 0 = instant [OPENAI_STANDIN_TPS, 0]")
    parser.add_argument("--api-key", default=env.get("OPENAI_STANDIN_API_KEY") or DEFAULT_API_KEY,
                        help=f"the one bearer key accepted [OPENAI_STANDIN_API_KEY, {DEFAULT_API_KEY}]")
    args = parser.parse_args(argv)
    if args.first_token_ms < 0 or args.tokens_per_second < 0:
        parser.error("--first-token-ms and --tokens-per-second must be 0 or more")
    try:
        load_rules(args.script)  # refuse a bad script here, with a usage message
        args.faults = parse_env(env.get("OPENAI_STANDIN_FAULTS"))
        Faults().apply(args.faults)
    except ValueError as exc:
        parser.error(str(exc))
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = parse_args(argv)
    app = create_app(api_key=args.api_key, script_path=args.script, first_token_ms=args.first_token_ms,
                     tokens_per_second=args.tokens_per_second, faults=args.faults)
    url = f"http://{args.host}:{args.port}/v1"
    logger.info("standin.openai.started url=%s script=%s first_token_ms=%g tokens_per_second=%g faults=%s", url,
                args.script, args.first_token_ms, args.tokens_per_second,
                json.dumps(args.faults) if args.faults else "none")
    logger.info("standin.openai.use OPENAI_BASE_URL=%s OPENAI_API_KEY=%s", url, args.api_key)
    sys.stdout.flush()
    app.run(host=args.host, port=args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
