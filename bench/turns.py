"""`python -m bench.turns`: time for one caller turn through Rasa's REST channel, and training time.

Starts the whole stack (stand-in, action server, Rasa server) on free ports, plays
scripted calls until at least --turns caller turns have been timed, and prints
p50/p95/p99 of the turn time (request sent to the full reply back), the greeting (which
includes the Rent Manager lookup of the caller) separately, then the time of a forced
`rasa train` into a scratch folder. Goal: turn p95 under 50 ms on one 2-core machine.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import List

from bench.rentmanager import percentile
from bench.harness import bench_stack, model_name
from stack.shell import Conversation

CALLS = [
    ("+17185550134", ["my kitchen sink is leaking", "yes you can go in", "no pets", "this number", "yes",
                      "what are your hours", "thank you", "bye"]),
    ("+13475550188", ["do you have any apartments available", "do you allow dogs", "is there parking",
                      "yes", "my name is ana lopez", "this number", "where is your office", "goodbye"]),
    ("+17185550141", ["are you a real person", "no thanks", "what time do you close today",
                      "how do i pay my rent", "thanks bye"]),
]


def line(name: str, samples: List[float]) -> str:
    return (f"  {name:32} n={len(samples):4d}  p50={percentile(samples, 50):7.1f} ms  "
            f"p95={percentile(samples, 95):7.1f} ms  p99={percentile(samples, 99):7.1f} ms")


def play(rasa_url: str, turns: int) -> tuple:
    greetings: List[float] = []
    samples: List[float] = []
    call = 0
    while len(samples) < turns:
        number, lines = CALLS[call % len(CALLS)]
        conversation = Conversation(rasa_url, number)
        started = time.perf_counter()
        conversation.send("/greet")
        greetings.append((time.perf_counter() - started) * 1000)
        for text in lines:
            started = time.perf_counter()
            replies = conversation.send(text)
            samples.append((time.perf_counter() - started) * 1000)
            if not replies:
                raise SystemExit(f"error: no reply to {text!r}; see the logs in .state/logs/bench/")
        call += 1
    return greetings, samples


def train_time(out: Path) -> float:
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "rasa"), "train", "--force", "--quiet", "--num-threads", "1",
                    "--out", str(out)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.turns", description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--no-train", action="store_true", help="skip timing a full training run")
    args = parser.parse_args(argv)
    with bench_stack("bench-turns") as group:
        rasa_url = group.by_name()["Rasa server"].base_url
        play(rasa_url, 20)  # warm-up: first calls load the tenant index and the model's graph
        greetings, samples = play(rasa_url, args.turns)
    print(f"Caller turns through Rasa's REST channel (model {model_name()}, stand-in without delay):")
    print(line("caller turn", samples))
    print(line("greeting (incl. caller lookup)", greetings))
    print(f"  goal: turn p95 under 50 ms -> {'met' if percentile(samples, 95) < 50 else 'NOT met'}")
    if not args.no_train:
        with tempfile.TemporaryDirectory() as scratch:
            print(f"  training time (rasa train --force, 1 thread): {train_time(Path(scratch)):.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
