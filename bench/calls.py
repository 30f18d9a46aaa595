"""`python -m bench.calls`: N simultaneous phone calls through the relay, against the REST floor.

Starts the whole stack (Rent Manager stand-in with 150-400 ms answers, action server, Rasa
with the Twilio channel), then for N = 1, 25 and 100 keeps N calls in progress at once (the
call simulator speaking Twilio's protocol), each caller speaking every 3 seconds, and prints
p50/p95/p99 of:
- greeting: setup frame to the first text frame (includes the Rent Manager caller lookup);
- relay turn: prompt frame sent to the first text frame back (what the caller waits for);
- relay whole turn: prompt frame sent to the `last: true` frame (Rasa has finished the turn);
- REST floor: the same lines sent by N concurrent conversations to Rasa's REST channel, which
  answers once Rasa has finished the turn; so the channel's overhead is the relay's whole turn
  over the floor. The floor is also shown inside Rasa (the `Server-Timing` header of each
  answer: request read to answer written), which leaves out HTTP and the client.
Goals: relay overhead over the floor under 10% at p50; relay p95 under 150 ms with 100
calls; greeting under 300 ms.

It measures a steady state, as an office line sees it: each of the N caller slots places one
call after another, and the slots start spread over the length of a call, so calls ring, talk
and hang up at all times rather than all at once. Only what is sent inside the measuring
window (after one call's length of ramp-up) counts.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import httpx

from bench.harness import bench_stack, model_name
from bench.rentmanager import percentile
from simulator.call import CallConfig, SimulatedCall

LINES = ["what are your hours", "where is your office", "do you allow dogs", "is there parking", "thank you"]
CALLERS = ["+17185550134", "+17185550141", "+13475550188", "+17185550172"]


@dataclass
class Window:
    """When the measuring starts and stops (time.monotonic()); what is sent in between counts."""

    start: float
    stop: float

    @classmethod
    def after(cls, ramp: float, seconds: float) -> "Window":
        start = time.monotonic() + ramp
        return cls(start, start + seconds)

    def counts(self, sent_at: float) -> bool:
        return self.start <= sent_at < self.stop


def ramp_seconds(gap: float) -> float:
    """One call's length: by then every caller slot has started its first call."""
    return gap * (len(LINES) + 1)


@dataclass
class Samples:
    greetings: List[float] = field(default_factory=list)
    turns: List[float] = field(default_factory=list)
    whole_turns: List[float] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)
    calls: int = 0


def stats(name: str, samples: List[float]) -> str:
    if not samples:
        return f"  {name:40} no samples"
    return (f"  {name:40} n={len(samples):4d}  p50={percentile(samples, 50):7.1f} ms  "
            f"p95={percentile(samples, 95):7.1f} ms  p99={percentile(samples, 99):7.1f} ms")


def twilio_client(n: int) -> httpx.AsyncClient:
    """One HTTP client for every call's webhooks, as Twilio is one client to the channel.

    A client per call would build a TLS context per call (~20 ms of CPU each) inside the load
    generator's event loop, and the stalls bunch the callers together: the benchmark would then
    measure its own queue. TCP_NODELAY: a webhook must not wait on Nagle's algorithm.
    """
    transport = httpx.AsyncHTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
                                         limits=httpx.Limits(max_connections=n + 5))
    return httpx.AsyncClient(timeout=30, transport=transport)


async def one_call(http: httpx.AsyncClient, rasa_url: str, caller: str, gap: float, window: Window,
                   out: Samples) -> None:
    """One whole call: greeting, the lines a gap apart, hang-up. A failure is counted, not fatal."""
    try:
        config = CallConfig(rasa_url=rasa_url, caller=caller, timeout=30, settle=0.2)
        async with SimulatedCall(config, http=http) as call:
            out.calls += 1
            sent = time.monotonic()
            greeting = await call.start()
            if greeting.first_ms is None:
                out.failures.append("no greeting")
                return
            if window.counts(sent):
                out.greetings.append(greeting.first_ms)
            for line in LINES:
                await asyncio.sleep(gap)
                if time.monotonic() >= window.stop:
                    break  # the window is over: hang up rather than talk on unmeasured
                sent = time.monotonic()
                reply = await call.say(line)
                if reply.first_ms is None:
                    out.failures.append(f"no reply to {line!r}")
                elif window.counts(sent):
                    out.turns.append(reply.first_ms)
                    if reply.last_ms is not None:
                        out.whole_turns.append(reply.last_ms)
            await call.hangup()
    except Exception as exc:
        out.failures.append(f"{type(exc).__name__}: {exc}")


async def caller_slot(http: httpx.AsyncClient, rasa_url: str, caller: str, gap: float, ramp: float,
                      window: Window, out: Samples) -> None:
    await asyncio.sleep(random.uniform(0, ramp))  # slots start spread over a call's length
    while time.monotonic() < window.stop:
        await one_call(http, rasa_url, caller, gap, window, out)


@dataclass
class Floor:
    turns: List[float] = field(default_factory=list)
    inside: List[float] = field(default_factory=list)  # the same turns, Rasa's own time


def server_time(response: httpx.Response) -> Optional[float]:
    """The `app;dur=` of a Server-Timing header, in ms."""
    for part in response.headers.get("server-timing", "").split(";"):
        if part.strip().startswith("dur="):
            return float(part.strip()[4:])
    return None


async def rest_slot(client: httpx.AsyncClient, rasa_url: str, caller: str, gap: float, ramp: float,
                    window: Window, floor: Floor) -> None:
    await asyncio.sleep(random.uniform(0, ramp))
    while time.monotonic() < window.stop:
        body = {"sender": f"floor-{uuid.uuid4().hex[:10]}", "metadata": {"caller_number": caller}}
        await client.post(f"{rasa_url}/webhooks/rest/webhook", json={**body, "message": "/greet"})
        for line in LINES:
            await asyncio.sleep(gap)
            if time.monotonic() >= window.stop:
                break
            sent = time.monotonic()
            started = time.perf_counter()
            response = await client.post(f"{rasa_url}/webhooks/rest/webhook", json={**body, "message": line})
            if response.status_code == 200 and response.json() and window.counts(sent):
                floor.turns.append((time.perf_counter() - started) * 1000)
                inside = server_time(response)
                if inside is not None:
                    floor.inside.append(inside)


async def measure(rasa_url: str, n: int, gap: float, seconds: float) -> Tuple[Samples, Floor]:
    """N relay calls kept going, then N REST conversations kept going, each measured for `seconds`."""
    ramp = ramp_seconds(gap)
    relay = Samples()
    window = Window.after(ramp, seconds)
    async with twilio_client(n) as http:
        await asyncio.gather(*(caller_slot(http, rasa_url, CALLERS[i % len(CALLERS)], gap, ramp, window, relay)
                               for i in range(n)))
    floor = Floor()
    window = Window.after(ramp, seconds)
    async with twilio_client(n) as client:
        await asyncio.gather(*(rest_slot(client, rasa_url, CALLERS[i % len(CALLERS)], gap, ramp, window, floor)
                               for i in range(n)))
    return relay, floor


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calls", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", default="1,25,100", help="comma-separated numbers of simultaneous calls")
    parser.add_argument("--gap", type=float, default=3.0, help="seconds between a caller's lines")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each measuring window")
    parser.add_argument("--rm-delay", default="150-400", help="Rent Manager stand-in delay in ms")
    args = parser.parse_args(argv)
    counts = [int(x) for x in args.calls.split(",")]
    ramp = ramp_seconds(args.gap)
    print(f"About {len(counts) * 2 * (ramp + args.seconds + args.gap) / 60:.0f} minutes: for each N, "
          f"{ramp:g} s of ramp-up and {args.seconds:g} s of measuring, on the relay and then on REST.", flush=True)
    with bench_stack("bench-calls", {"RENT_MANAGER_STANDIN_DELAY_MS": args.rm_delay}) as group:
        rasa_url = group.by_name()["Rasa server"].base_url
        asyncio.run(measure(rasa_url, 2, 0.2, 1.0))  # warm-up: the tenant index and the model's graph
        print(f"Simultaneous calls through ConversationRelay (model {model_name()}, "
              f"Rent Manager stand-in delay {args.rm_delay} ms, a line every {args.gap:g} s):", flush=True)
        for n in counts:
            relay, floor = asyncio.run(measure(rasa_url, n, args.gap, args.seconds))
            print(f"\nN = {n} calls ({relay.calls} calls placed)")
            print(stats("greeting (setup to first text)", relay.greetings))
            print(stats("relay turn (prompt to first text)", relay.turns))
            print(stats("relay whole turn (prompt to last)", relay.whole_turns))
            print(stats("REST floor (same lines, whole turn)", floor.turns))
            print(stats("REST floor inside Rasa (Server-Timing)", floor.inside))
            for name, base in (("the floor", floor.turns), ("the floor inside Rasa", floor.inside)):
                if relay.whole_turns and base:
                    overhead = percentile(relay.whole_turns, 50) / percentile(base, 50) - 1
                    print(f"  relay whole turn over {name} at p50: {overhead:+.0%}")
            if relay.failures:
                print(f"  failed: {len(relay.failures)} ({relay.failures[0]})")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
