"""Caller identification by phone number, in every format it arrives in."""
from __future__ import annotations

import pytest

from actions.api.directory import CallerDirectory, open_lease
from actions.api.phones import e164, phone_key, spoken_digits
from actions.api.rentmanager import RentManagerClient
from tests.conftest import StandIn


@pytest.mark.parametrize(
    "raw, key",
    [
        ("+17185550134", "7185550134"),
        ("(718) 555-0134", "7185550134"),
        ("718.555.0134", "7185550134"),
        ("1-718-555-0134", "7185550134"),
        ("+1 718 555 0134", "7185550134"),
        ("ext 12", None),
        ("", None),
        (None, None),
        ("+447700900123", "447700900123"),
    ],
)
def test_phone_key(raw, key) -> None:
    assert phone_key(raw) == key


def test_spoken_and_e164() -> None:
    assert spoken_digits("(718) 414-6984") == "7 1 8, 4 1 4, 6 9 8 4"
    assert e164("718.414.6984") == "+17184146984"
    assert e164("12345") is None


def test_open_lease_prefers_the_one_without_move_out() -> None:
    leases = [
        {"LeaseID": 1, "UnitID": 5, "MoveInDate": "2019-01-01", "MoveOutDate": "2021-01-01"},
        {"LeaseID": 2, "UnitID": 7, "MoveInDate": "2021-02-01"},
    ]
    assert open_lease(leases)["UnitID"] == 7
    assert open_lease([]) is None


@pytest.fixture
async def directory(standin: StandIn):
    client = RentManagerClient(standin.url, "api", "standin", 1, timeout=3, backoff=0.05)
    yield CallerDirectory(client, ttl=300)
    await client.aclose()


async def test_every_seeded_format_is_found_from_twilio_e164(standin: StandIn, directory: CallerDirectory) -> None:
    token = standin.login()
    tenants = standin.get("/Tenants", token, filters="Status,eq,Current", embeds="Contacts.PhoneNumbers")
    stored = [
        (t["TenantID"], n["PhoneNumber"])
        for t in tenants for c in t.get("Contacts", []) for n in c.get("PhoneNumbers", [])
    ]
    formats = {"".join("9" if ch.isdigit() else ch for ch in number) for _, number in stored}
    assert len(formats) >= 3, f"the demo data should mix phone formats, got {formats}"
    for tenant_id, number in stored:
        caller = await directory.find_tenant(e164(number) or number)
        assert caller is not None, number
        assert caller.tenant_id == tenant_id


async def test_known_tenant_has_name_unit_and_property(directory: CallerDirectory) -> None:
    caller = await directory.find_tenant("+17185550134")
    assert caller is not None
    assert caller.first_name == "Maria"
    assert caller.unit_name == "4B"
    assert caller.property_id == 1 and caller.property_name


async def test_unknown_number_is_not_a_tenant(directory: CallerDirectory) -> None:
    assert await directory.find_tenant("+13475550000") is None
    assert await directory.find_tenant("anonymous") is None


async def test_past_tenant_is_not_a_current_caller(standin: StandIn, directory: CallerDirectory) -> None:
    token = standin.login()
    past = standin.get("/Tenants", token, filters="Status,eq,Past", embeds="Contacts.PhoneNumbers")
    assert past, "the demo data should include a past tenant"
    number = past[0]["Contacts"][0]["PhoneNumbers"][0]["PhoneNumber"]
    assert await directory.find_tenant(number) is None


async def test_lookup_is_served_from_the_index(standin: StandIn, directory: CallerDirectory) -> None:
    await directory.find_tenant("+17185550134")
    assert directory.size >= 15
    standin.fault(status=503, count=None)  # Rent Manager down: the index still answers
    caller = await directory.find_tenant("7185550134")
    assert caller is not None and caller.first_name == "Maria"


async def test_refresh_failure_keeps_the_old_index(standin: StandIn, directory: CallerDirectory) -> None:
    await directory.refresh()
    size = directory.size
    standin.fault(status=503, count=None)
    await directory._refresh_quietly()
    assert directory.size == size


async def test_prospect_lookup(standin: StandIn, directory: CallerDirectory) -> None:
    created = await directory.client.create_prospect(1, "Lindqvist", "Astrid", "646.555.0177", "wants a studio")
    found = await directory.find_prospect("+16465550177")
    assert found is not None and found.prospect_id == created["ProspectID"]
    assert await directory.find_prospect("+19995550000") is None
