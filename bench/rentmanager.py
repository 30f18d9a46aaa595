"""`python -m bench.rentmanager`: caller lookup and service-issue write latency.

Starts the Rent Manager stand-in with 500 tenants, once answering at once and once with a
realistic 150-400 ms delay per request, and prints p50/p95 of:
- a caller lookup by phone number through the directory's index (after its one load),
- the same lookup done the naive way (fetch every tenant with phones, match locally),
- a service-issue write through the client, and through the outbox (record + send).
"""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable, List

from actions.api.directory import CallerDirectory, phone_keys
from actions.api.phones import e164, phone_key
from actions.api.rentmanager import RentManagerClient, ServiceIssue
from actions.outbox import Outbox
from stack.processes import Process, free_port


def percentile(samples: List[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


async def timed(n: int, call: Callable[[int], Awaitable[object]]) -> List[float]:
    samples = []
    for i in range(n):
        started = time.perf_counter()
        await call(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def line(name: str, samples: List[float]) -> str:
    return (f"  {name:44} n={len(samples):4d}  p50={percentile(samples, 50):9.3f} ms  "
            f"p95={percentile(samples, 95):9.3f} ms")


async def measure(url: str, tmp: Path, n: int) -> List[str]:
    client = RentManagerClient(url, "api", "standin", 1, timeout=10)
    directory = CallerDirectory(client)
    started = time.perf_counter()
    await directory.refresh()
    load_ms = (time.perf_counter() - started) * 1000
    tenants = await client.list_all("Tenants", filters="Status,eq,Current", embeds="Contacts.PhoneNumbers")
    numbers = [e164(key) or key for t in tenants for key in phone_keys(t)]
    rng = random.Random(7)

    async def indexed(_: int) -> None:
        assert await directory.find_tenant(rng.choice(numbers)) is not None

    async def naive(_: int) -> None:
        key = phone_key(rng.choice(numbers))
        rows = await client.list_all("Tenants", filters="Status,eq,Current", embeds="Contacts.PhoneNumbers,Leases")
        assert any(key in set(phone_keys(row)) for row in rows)

    lookups = await client.lookups()
    plumbing, normal = lookups.pick(lookups.categories, "Plumbing", "c"), lookups.pick(lookups.priorities, "Normal", "p")

    async def write(i: int) -> None:
        await client.create_service_issue(ServiceIssue(f"bench {i}", "benchmark write", plumbing, normal, tenant_id=1))

    outbox = Outbox(f"sqlite:///{tmp}/bench-outbox-{time.time_ns()}.sqlite3", client)

    async def recorded(i: int) -> None:
        entry = await outbox.submit("service_issue", {"title": f"bench outbox {i}", "description": "benchmark",
                                                      "category": "Plumbing", "priority": "Normal", "tenant_id": 1})
        assert entry.status == "sent"

    results = [
        f"  {'directory index load (once, then background)':44} tenants={len(tenants)}  {load_ms:8.2f} ms",
        line("caller lookup, indexed", await timed(n, indexed)),
        line("caller lookup, naive full fetch", await timed(max(5, n // 10), naive)),
        line("service issue write (client)", await timed(n, write)),
        line("service issue write (outbox: record + send)", await timed(n, recorded)),
    ]
    await client.aclose()
    return results


def run_standin(tmp: Path, tenants: int, delay: str) -> Process:
    port = free_port()
    process = Process(
        f"stand-in delay={delay}",
        [sys.executable, "-m", "standins.rentmanager", "--port", str(port), "--db", str(tmp / f"rm-{delay}.sqlite3"),
         "--tenants", str(tenants), "--delay-ms", delay, "--reset"],
        f"http://127.0.0.1:{port}/_standin/health", log_path=str(tmp / f"standin-{delay}.log"),
    )
    process.start()
    process.wait_healthy(60)
    return process


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rentmanager", description=__doc__)
    parser.add_argument("--tenants", type=int, default=500)
    parser.add_argument("-n", type=int, default=100, help="samples per measurement")
    args = parser.parse_args(argv)
    print(f"Rent Manager benchmark: stand-in with {args.tenants} tenants, {args.n} samples each")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        for delay in ("0", "150-400"):
            process = run_standin(tmp, args.tenants, delay)
            try:
                print(f"\nstand-in response delay {delay} ms:")
                for text in asyncio.run(measure(process.base_url, tmp, args.n)):
                    print(text, flush=True)
            finally:
                process.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
