"""The outbox: nothing lost, nothing filed twice, bad data parked for a person."""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import AsyncIterator, List

import pytest

from actions.api.rentmanager import RentManagerClient
from actions.outbox import PARKED, PENDING, SENT, Outbox
from tests.actions.outbox_writer import issue_payload
from tests.conftest import StandIn


def issues_with(standin: StandIn, marker: str) -> List[dict]:
    token = standin.login()
    return standin.get("/ServiceManagerIssues", token, filters=f"Description,ct,{marker}")


def reference_counts(standin: StandIn, prefix: str) -> Counter:
    counts: Counter = Counter()
    for issue in issues_with(standin, prefix):
        for line in issue["Description"].splitlines():
            if line.startswith("[Ref "):
                counts[line[5:-1]] += 1
    return counts


@pytest.fixture
async def outbox(standin: StandIn, tmp_path: Path) -> AsyncIterator[Outbox]:
    client = RentManagerClient(standin.url, "api", "standin", 1, timeout=2, retries=1, backoff=0.05)
    box = Outbox(f"sqlite:///{tmp_path}/outbox.sqlite3", client, retry_base=0.05, retry_max=0.3, lease=5)
    yield box
    await client.aclose()


async def test_a_write_goes_straight_through_when_rent_manager_is_up(standin: StandIn, outbox: Outbox) -> None:
    entry = await outbox.submit("service_issue", issue_payload("Leaking faucet"), reference="PA-UP-1")
    assert entry.status == SENT
    assert entry.record_id and entry.record_id > 0
    found = issues_with(standin, "PA-UP-1")
    assert [issue["ServiceManagerIssueID"] for issue in found] == [entry.record_id]


async def test_the_same_reference_is_recorded_once(standin: StandIn, outbox: Outbox) -> None:
    first = await outbox.submit("service_issue", issue_payload("Twice"), reference="PA-TWICE-1")
    second = await outbox.submit("service_issue", issue_payload("Twice"), reference="PA-TWICE-1")
    assert first.record_id == second.record_id
    assert len(issues_with(standin, "PA-TWICE-1")) == 1


async def test_fifty_concurrent_writes_survive_an_outage_exactly_once(standin: StandIn, outbox: Outbox) -> None:
    standin.fault(status=503, count=None)
    entries = await asyncio.gather(*(
        outbox.submit("service_issue", issue_payload(f"outage {i}"), reference=f"PA-OUTAGE-{i:03d}", wait=0.5)
        for i in range(50)
    ))
    assert all(entry.status == PENDING for entry in entries)
    assert outbox.counts()[PENDING] == 50
    await asyncio.sleep(0.5)
    await outbox.deliver_due()  # still down: nothing goes, nothing is lost
    assert outbox.counts()[PENDING] == 50
    standin.clear_faults()
    assert await outbox.drain(timeout=30)
    assert outbox.counts() == {PENDING: 0, SENT: 50, PARKED: 0}
    counts = reference_counts(standin, "PA-OUTAGE-")
    assert len(counts) == 50 and set(counts.values()) == {1}


async def test_lost_answers_do_not_file_duplicates(standin: StandIn, outbox: Outbox) -> None:
    await outbox.client.lookups()
    standin.fault(drop="after", count=10)  # committed, then the connection is cut
    await asyncio.gather(*(
        outbox.submit("service_issue", issue_payload(f"dropped {i}"), reference=f"PA-DROP-{i:03d}", wait=2)
        for i in range(10)
    ))
    assert await outbox.drain(timeout=30)
    counts = reference_counts(standin, "PA-DROP-")
    assert len(counts) == 10 and set(counts.values()) == {1}
    assert any(entry.attempts > 1 for entry in outbox.entries(SENT))


async def test_bad_data_is_parked_not_retried(standin: StandIn, outbox: Outbox) -> None:
    payload = issue_payload("No such tenant")
    payload["tenant_id"] = 987654
    entry = await outbox.submit("service_issue", payload, reference="PA-BAD-1")
    assert entry.status == PARKED
    assert "400" in (entry.last_error or "")
    await asyncio.sleep(0.4)
    await outbox.deliver_due()
    assert outbox.get("PA-BAD-1").attempts == 1
    assert issues_with(standin, "PA-BAD-1") == []


async def test_unknown_category_name_is_parked_with_the_known_names(outbox: Outbox) -> None:
    payload = issue_payload("Odd category")
    payload["category"] = "Teleportation"
    entry = await outbox.submit("service_issue", payload, reference="PA-CAT-1")
    assert entry.status == PARKED and "Plumbing" in (entry.last_error or "")
    assert outbox.requeue("PA-CAT-1")
    assert outbox.get("PA-CAT-1").status == PENDING


async def test_note_for_a_new_prospect_waits_for_the_prospect(standin: StandIn, outbox: Outbox) -> None:
    standin.fault(status=503, count=None)
    prospect = await outbox.submit(
        "prospect", {"property_id": 1, "first_name": "Ines", "last_name": "Mora", "phone": "(917) 555-0101",
                     "comment": "two bedroom"}, reference="PA-PROS-1", wait=0.2)
    note = await outbox.submit(
        "history_note", {"entity": "Prospects", "note": "Call log: asked about availability",
                         "category": None}, reference="PA-PROS-NOTE-1", depends_on=prospect.reference, wait=0.2)
    assert note.status == PENDING
    standin.clear_faults()
    assert await outbox.drain(timeout=20)
    prospect_id = outbox.get("PA-PROS-1").record_id
    notes = standin.get(f"/Prospects/{prospect_id}/HistoryNotes", standin.login())
    assert [n for n in notes if "PA-PROS-NOTE-1" in n["Note"]]


async def test_a_restart_in_the_middle_loses_nothing(standin: StandIn, tmp_path: Path, outbox: Outbox) -> None:
    database_url = f"sqlite:///{tmp_path}/restart.sqlite3"
    standin.fault(delay_ms=400)
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.actions.outbox_writer", database_url, standin.url, "50"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "recorded 50"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not reference_counts(standin, "PA-RESTART-"):
            await asyncio.sleep(0.2)
        assert reference_counts(standin, "PA-RESTART-"), "the writer sent nothing before the kill"
    finally:
        writer.kill()  # SIGKILL: no clean shutdown, some sends in flight
        writer.wait()
    standin.clear_faults()
    sent_before = sum(reference_counts(standin, "PA-RESTART-").values())
    assert sent_before < 50, "kill came too late to test a restart"
    restarted = Outbox(database_url, outbox.client, retry_base=0.05, retry_max=0.3, lease=1.0)
    assert await restarted.drain(timeout=30)
    counts = reference_counts(standin, "PA-RESTART-")
    assert len(counts) == 50 and set(counts.values()) == {1}
