"""`python -m bench.calls`: N simultaneous phone calls through the relay, against the REST floor.

Starts the whole stack (Rent Manager stand-in with 150-400 ms answers, action server, Rasa
with the Twilio channel), then for N = 1, 25 and 100 plays N simulated calls at once (the
call simulator speaking Twilio's protocol), each caller speaking every 3 seconds, and
prints p50/p95/p99 of:
- greeting: setup frame to the first text frame (includes the Rent Manager caller lookup);
- relay turn: prompt frame sent to the first text frame back;
- REST floor: the same lines sent by N concurrent conversations to Rasa's REST channel.
Goals: relay overhead over the floor under 10% at p50; relay p95 under 150 ms with 100
calls; greeting under 300 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from typing import List, Tuple

import httpx

from bench.rentmanager import percentile
from simulator.call import CallConfig, SimulatedCall
from bench.harness import bench_stack, model_name

LINES = ["what are your hours", "where is your office", "do you allow dogs", "is there parking", "thank you"]
CALLERS = ["+17185550134", "+17185550141", "+13475550188", "+17185550172"]


def stats(name: str, samples: List[float]) -> str:
    if not samples:
        return f"  {name:34} no samples"
    return (f"  {name:34} n={len(samples):4d}  p50={percentile(samples, 50):7.1f} ms  "
            f"p95={percentile(samples, 95):7.1f} ms  p99={percentile(samples, 99):7.1f} ms")


async def one_call(rasa_url: str, caller: str, gap: float, greetings: List[float], turns: List[float],
                   failures: List[str]) -> None:
    await asyncio.sleep(random.uniform(0, gap))  # callers do not all ring at the same instant
    try:
        async with SimulatedCall(CallConfig(rasa_url=rasa_url, caller=caller, timeout=30, settle=0.2)) as call:
            greeting = await call.start()
            if greeting.first_ms is None:
                failures.append("no greeting")
                return
            greetings.append(greeting.first_ms)
            for line in LINES:
                await asyncio.sleep(gap)
                reply = await call.say(line)
                if reply.first_ms is None:
                    failures.append(f"no reply to {line!r}")
                else:
                    turns.append(reply.first_ms)
            await call.hangup()
    except Exception as exc:  # a failed call is counted, not fatal to the benchmark
        failures.append(f"{type(exc).__name__}: {exc}")


async def one_rest(client: httpx.AsyncClient, rasa_url: str, caller: str, gap: float,
                   samples: List[float]) -> None:
    await asyncio.sleep(random.uniform(0, gap))
    sender = f"floor-{uuid.uuid4().hex[:10]}"
    body = {"sender": sender, "metadata": {"caller_number": caller}}
    await client.post(f"{rasa_url}/webhooks/rest/webhook", json={**body, "message": "/greet"})
    for line in LINES:
        await asyncio.sleep(gap)
        started = time.perf_counter()
        response = await client.post(f"{rasa_url}/webhooks/rest/webhook", json={**body, "message": line})
        if response.status_code == 200 and response.json():
            samples.append((time.perf_counter() - started) * 1000)


async def measure(rasa_url: str, n: int, gap: float) -> Tuple[List[float], List[float], List[float], List[str]]:
    greetings: List[float] = []
    turns: List[float] = []
    failures: List[str] = []
    await asyncio.gather(*(one_call(rasa_url, CALLERS[i % len(CALLERS)], gap, greetings, turns, failures)
                           for i in range(n)))
    floor: List[float] = []
    limits = httpx.Limits(max_connections=n + 5)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await asyncio.gather(*(one_rest(client, rasa_url, CALLERS[i % len(CALLERS)], gap, floor) for i in range(n)))
    return greetings, turns, floor, failures


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calls", description=__doc__)
    parser.add_argument("--calls", default="1,25,100", help="comma-separated numbers of simultaneous calls")
    parser.add_argument("--gap", type=float, default=3.0, help="seconds between a caller's lines")
    parser.add_argument("--rm-delay", default="150-400", help="Rent Manager stand-in delay in ms")
    args = parser.parse_args(argv)
    with bench_stack("bench-calls", {"RENT_MANAGER_STANDIN_DELAY_MS": args.rm_delay}) as group:
        rasa_url = group.by_name()["Rasa server"].base_url
        asyncio.run(measure(rasa_url, 2, 0.2))  # warm-up: the tenant index and the model's graph
        print(f"Simultaneous calls through ConversationRelay (model {model_name()}, "
              f"Rent Manager stand-in delay {args.rm_delay} ms, a line every {args.gap:g} s):")
        for n in (int(x) for x in args.calls.split(",")):
            greetings, turns, floor, failures = asyncio.run(measure(rasa_url, n, args.gap))
            print(f"\nN = {n} calls")
            print(stats("greeting (setup to first text)", greetings))
            print(stats("relay turn (prompt to first text)", turns))
            print(stats("REST floor (same lines)", floor))
            if turns and floor:
                overhead = percentile(turns, 50) / percentile(floor, 50) - 1
                print(f"  relay overhead over the floor at p50: {overhead:+.0%}")
            if failures:
                print(f"  failed: {len(failures)} ({failures[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
