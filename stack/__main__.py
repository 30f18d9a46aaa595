"""`python -m stack`: the whole system on local defaults, in the foreground (`make run`).

Starts the Rent Manager stand-in (unless RENT_MANAGER_BASE_URL points at a real one),
the action server and the Rasa server; prints their URLs; stops them all on Ctrl-C.
With --shell, also opens a terminal conversation as a chosen caller (`make shell`).
"""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

from urllib.parse import urlsplit

from stack.processes import Group, Process, port_in_use

logger = logging.getLogger("stack")
VENV_BIN = Path(sys.executable).parent
PROSPECT_NUMBER = "+13475550100"


def _port(env: Dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "") or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"error: {name}={raw!r} is not a port number (1-65535).")
    return int(raw)


def latest_model(models_dir: str = "models") -> Optional[str]:
    models = sorted(Path(models_dir).glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return str(models[-1]) if models else None


def plan(env: Dict[str, str], log_dir: Path, model: str) -> List[Process]:
    """The processes to start, in order, with their health URLs."""
    rasa_port = _port(env, "RASA_PORT", 5005)
    action_port = _port(env, "ACTION_PORT", 5055)
    processes: List[Process] = []
    child_env = {"ACTION_PORT": str(action_port), "RASA_PORT": str(rasa_port),
                 "RASA_TELEMETRY_ENABLED": env.get("RASA_TELEMETRY_ENABLED", "false"),
                 "RASA_URL": env.get("RASA_URL") or f"http://127.0.0.1:{rasa_port}",
                 # Shared by the action server (pushing LLM sentences) and the phone channel.
                 "ASSISTANT_PUSH_TOKEN": env.get("ASSISTANT_PUSH_TOKEN") or secrets.token_hex(16),
                 # One TensorFlow thread per server: a caller's turn is a batch of one, and on a small
                 # machine a second thread only competes with the other servers (bench.calls at 100
                 # calls: relay p95 75 ms with 1 thread against 91-117 ms with TensorFlow's default).
                 "TF_INTRA_OP_PARALLELISM_THREADS": os.environ.get("TF_INTRA_OP_PARALLELISM_THREADS", "1"),
                 "TF_INTER_OP_PARALLELISM_THREADS": os.environ.get("TF_INTER_OP_PARALLELISM_THREADS", "1")}
    if not env.get("RENT_MANAGER_BASE_URL"):
        standin_port = _port(env, "RENT_MANAGER_STANDIN_PORT", 5100)
        child_env["RENT_MANAGER_STANDIN_PORT"] = str(standin_port)
        processes.append(Process(
            "Rent Manager stand-in",
            [sys.executable, "-m", "standins.rentmanager", "--port", str(standin_port)],
            f"http://127.0.0.1:{standin_port}/_standin/health", child_env, str(log_dir / "standin.log"),
        ))
    if env.get("LLM", "").lower() == "standin" and not env.get("OPENAI_API_KEY"):
        openai_port = _port(env, "OPENAI_STANDIN_PORT", 5200)
        child_env.update({"OPENAI_API_KEY": "sk-standin", "OPENAI_BASE_URL": f"http://127.0.0.1:{openai_port}/v1"})
        processes.append(Process(
            "OpenAI stand-in", [sys.executable, "-m", "standins.openai", "--port", str(openai_port)],
            f"http://127.0.0.1:{openai_port}/_standin/health", child_env, str(log_dir / "openai.log"),
        ))
    processes.append(Process(
        "action server",
        [str(VENV_BIN / "rasa"), "run", "actions", "--port", str(action_port)],
        f"http://127.0.0.1:{action_port}/health", child_env, str(log_dir / "actions.log"),
    ))
    processes.append(Process(
        "Rasa server",
        [str(VENV_BIN / "rasa"), "run", "--model", model, "--port", str(rasa_port), "--enable-api",
         "--interface", env.get("RASA_HOST", "127.0.0.1"), "--credentials", "credentials.yml",
         "--endpoints", "endpoints.yml"],
        f"http://127.0.0.1:{rasa_port}/status", child_env, str(log_dir / "rasa.log"),
    ))
    return processes


def launch(env: Dict[str, str], log_dir: Path, model: str, extra_env: Optional[Dict[str, str]] = None,
           timeout: float = 180) -> Group:
    """Starts the planned processes with `extra_env` added (for tests and benchmarks)."""
    group = Group()
    try:
        for process in plan(env, log_dir, model):
            process.env = {**process.env, **(extra_env or {})}
            group.start(process, timeout=timeout)
    except BaseException:
        group.stop()
        raise
    return group


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    parser.add_argument("--shell", action="store_true", help="talk to the assistant in this terminal")
    parser.add_argument("--caller", default=os.environ.get("CALLER", "+17185550134"),
                        help=f'caller number for --shell ("prospect": {PROSPECT_NUMBER}, on file for no tenant)')
    parser.add_argument("--logs", default=".state/logs", help="where each process writes its log")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from actions.property import PropertyFileError, load_property

    try:
        load_property()
    except PropertyFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = latest_model()
    if not model:
        print("error: no trained model in models/; run `make train` first.", file=sys.stderr)
        return 2
    log_dir = Path(args.logs)
    log_dir.mkdir(parents=True, exist_ok=True)
    group = Group()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    processes = plan(dict(os.environ), log_dir, model)
    busy = [p for p in processes if port_in_use(urlsplit(p.health_url).port or 0)]
    if busy:
        for p in busy:
            print(f"error: port {urlsplit(p.health_url).port} for the {p.name} is already in use "
                  f"(another `make run`?). Stop it, or choose other ports with RASA_PORT, ACTION_PORT "
                  f"and RENT_MANAGER_STANDIN_PORT.", file=sys.stderr)
        return 2
    try:
        for process in processes:
            print(f"starting {process.name} (log: {process.log_path}) ...", flush=True)
            group.start(process, timeout=180)
        print("\nReady:")
        for process in group.processes:
            print(f"  {process.name:24} {process.base_url}")
        print(f"  {'REST webhook':24} {group.processes[-1].base_url}/webhooks/rest/webhook")
        if args.shell:
            from stack.shell import converse

            # "prospect": a number that is on file for no tenant, as an unknown caller's would be.
            caller = PROSPECT_NUMBER if args.caller == "prospect" else args.caller
            return converse(group.processes[-1].base_url, caller)
        print("\nPress Ctrl-C to stop everything.", flush=True)
        while all(p.popen and p.popen.poll() is None for p in group.processes):
            time.sleep(0.5)
        dead = [p.name for p in group.processes if p.popen and p.popen.poll() is not None]
        print(f"error: {', '.join(dead)} stopped; see the logs in {log_dir}. Stopping the rest.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping ...", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        group.stop()


if __name__ == "__main__":
    sys.exit(main())
