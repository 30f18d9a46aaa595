"""The whole stack on free ports with scratch databases, for one benchmark run."""
from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path
from typing import Dict, Iterator, Optional

from stack.__main__ import latest_model, launch
from stack.processes import Group, free_port

# Office open, and the silence prompt far away: benchmarks measure answers, not timeouts.
QUIET_ENV = {"ASSISTANT_CLOCK": "2026-11-24T11:00", "TWILIO_SILENCE_SECONDS": "60"}


@contextlib.contextmanager
def bench_stack(name: str, extra_env: Optional[Dict[str, str]] = None) -> Iterator[Group]:
    """Starts stand-in, action server and Rasa (logs in .state/logs/<name>/); stops them after."""
    model = latest_model()
    if not model:
        raise SystemExit("error: no trained model; run `make train` first.")
    log_dir = Path(".state/logs") / name
    log_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"RASA_PORT": str(free_port()), "ACTION_PORT": str(free_port()),
               "RENT_MANAGER_STANDIN_PORT": str(free_port())}
        extra = {"OUTBOX_DB_URL": f"sqlite:///{tmp}/outbox.sqlite3", "RENT_MANAGER_STANDIN_DB": f"{tmp}/rm.sqlite3",
                 **QUIET_ENV, **(extra_env or {})}
        group = launch(env, log_dir, model, extra)
        try:
            yield group
        finally:
            group.stop()


def model_name() -> str:
    return Path(latest_model() or "none").name
