"""The Rent Manager client against the stand-in, over real HTTP."""
from __future__ import annotations

import time
from typing import AsyncIterator

import httpx
import pytest

from actions.api.directory import CallerDirectory
from actions.api.rentmanager import RentManagerClient, ServiceIssue
from actions.api.rentmanager_errors import (
    RentManagerAuthError,
    RentManagerNotFound,
    RentManagerRequestError,
    RentManagerUnavailable,
)
from tests.conftest import StandIn


def make_client(standin: StandIn, **kwargs) -> RentManagerClient:
    options = dict(timeout=3.0, retries=2, backoff=0.05)
    options.update(kwargs)
    password = options.pop("password", "standin")
    return RentManagerClient(standin.url, "api", password, 1, **options)


@pytest.fixture
async def client(standin: StandIn) -> AsyncIterator[RentManagerClient]:
    rm = make_client(standin)
    yield rm
    await rm.aclose()


async def test_login_and_list_tenants(client: RentManagerClient) -> None:
    tenants = await client.list_all("Tenants", embeds="Contacts.PhoneNumbers")
    assert len(tenants) >= 15
    assert all("TenantID" in t for t in tenants)
    assert any(t.get("Contacts") for t in tenants)


async def test_wrong_password_is_an_auth_error(standin: StandIn) -> None:
    rm = make_client(standin, password="wrong")
    with pytest.raises(RentManagerAuthError) as caught:
        await rm.list_all("Tenants")
    assert caught.value.status == 401
    assert "401" in str(caught.value)
    await rm.aclose()


async def test_expired_token_logs_in_again_once(standin: StandIn, client: RentManagerClient) -> None:
    await client.list_all("Properties")
    first_token = client._token
    standin.fault(expire_tokens=True)
    properties = await client.list_all("Properties")
    assert properties
    assert client._token and client._token != first_token


async def test_bad_filter_is_a_request_error_not_retried(standin: StandIn, client: RentManagerClient) -> None:
    started = time.monotonic()
    with pytest.raises(RentManagerRequestError) as caught:
        await client.list_all("Tenants", filters="NoSuchField,eq,1")
    assert caught.value.status == 400
    assert "filter" in str(caught.value).lower()
    assert time.monotonic() - started < 1.0


async def test_unknown_id_is_not_found(client: RentManagerClient) -> None:
    with pytest.raises(RentManagerNotFound):
        await client.get_record("Tenants", 999999)


async def test_empty_collection_is_an_empty_list(client: RentManagerClient) -> None:
    assert await client.list_all("Tenants", filters="LastName,eq,Nobodyhere") == []


async def test_503_is_retried_then_succeeds(standin: StandIn, client: RentManagerClient) -> None:
    await client.login()
    standin.fault(status=503, count=2)
    assert await client.list_all("Properties")


async def test_503_past_the_retries_is_unavailable(standin: StandIn, client: RentManagerClient) -> None:
    await client.login()
    standin.fault(status=503, count=None)
    with pytest.raises(RentManagerUnavailable) as caught:
        await client.list_all("Properties")
    assert caught.value.status == 503


async def test_connection_refused_is_unavailable() -> None:
    from stack.processes import free_port

    rm = RentManagerClient(f"http://127.0.0.1:{free_port()}", "api", "standin", retries=1, backoff=0.01)
    with pytest.raises(RentManagerUnavailable) as caught:
        await rm.list_all("Tenants")
    assert "cannot connect" in str(caught.value)
    await rm.aclose()


async def test_slow_answer_times_out_as_unavailable(standin: StandIn) -> None:
    rm = make_client(standin, timeout=0.3, retries=0)
    await rm.login()
    standin.fault(delay_ms=1500)
    with pytest.raises(RentManagerUnavailable):
        await rm.list_all("Properties")
    standin.clear_faults()
    await rm.aclose()


async def test_dropped_write_is_uncertain_and_not_replayed(standin: StandIn, client: RentManagerClient) -> None:
    lookups = await client.lookups()
    standin.fault(drop="after", count=1)
    marker = f"uncertain-{time.time_ns()}"
    issue = ServiceIssue(
        title="Drop test", description=marker,
        category_id=next(iter(lookups.categories.values())), priority_id=next(iter(lookups.priorities.values())),
    )
    with pytest.raises(RentManagerUnavailable) as caught:
        await client.create_service_issue(issue)
    assert caught.value.uncertain
    # The stand-in committed it before dropping: exactly one exists, found by its marker.
    found = await client.list_all("ServiceManagerIssues", filters=f"Description,ct,{marker}")
    assert len(found) == 1


async def test_create_service_issue_links_tenant_unit_property(standin: StandIn, client: RentManagerClient) -> None:
    directory = CallerDirectory(client)
    maria = await directory.find_tenant("+17185550134")
    assert maria is not None
    lookups = await client.lookups()
    issue = ServiceIssue(
        title="Kitchen sink leaking",
        description="Caller says the kitchen sink drips. Permission to enter: yes.",
        category_id=lookups.pick(lookups.categories, "plumbing", "category"),
        priority_id=lookups.pick(lookups.priorities, "Normal", "priority"),
        tenant_id=maria.tenant_id, unit_id=maria.unit_id, property_id=maria.property_id,
    )
    saved = await client.create_service_issue(issue)
    assert saved["ServiceManagerIssueID"] > 0
    assert saved["Title"] == "Kitchen sink leaking"
    stored = await client.get_record("ServiceManagerIssues", saved["ServiceManagerIssueID"], "Tenants,Units,Properties")
    assert stored["CategoryID"] == issue.category_id and stored["PriorityID"] == issue.priority_id
    text = str(stored)
    assert str(maria.tenant_id) in text and str(maria.unit_id) in text


async def test_unknown_category_name_lists_the_known_ones(client: RentManagerClient) -> None:
    lookups = await client.lookups()
    with pytest.raises(RentManagerRequestError) as caught:
        lookups.pick(lookups.categories, "Teleportation", "service issue category")
    assert "Plumbing" in str(caught.value)


async def test_priorities_include_emergency_and_normal(client: RentManagerClient) -> None:
    lookups = await client.lookups()
    names = {name.lower() for name in lookups.priorities}
    assert {"emergency", "normal"} <= names


async def test_history_note_on_tenant_and_prospect(standin: StandIn, client: RentManagerClient) -> None:
    lookups = await client.lookups()
    category = next(iter(lookups.history_categories.values()))
    note = await client.add_history_note("Tenants", 1, "Call log: asked for office hours.", category)
    assert note["HistoryID"] > 0
    prospect = await client.create_prospect(1, "Okafor", "Chidi", "(347) 555-0199", "Asked about two bedrooms")
    assert prospect["ProspectID"] > 0
    note2 = await client.add_history_note("Prospects", prospect["ProspectID"], "Call log: wants a tour.", category)
    assert note2["HistoryID"] > 0
    notes = await client.list_all("Prospects/%d/HistoryNotes" % prospect["ProspectID"])
    assert any("wants a tour" in n["Note"] for n in notes)


async def test_history_note_on_unknown_tenant_is_refused(client: RentManagerClient) -> None:
    with pytest.raises(RentManagerRequestError):
        await client.add_history_note("Tenants", 987654, "nobody")


async def test_vacant_units_exist_for_prospects(client: RentManagerClient) -> None:
    vacant = await client.vacant_units()
    assert len(vacant) >= 4
    assert all(unit["IsVacant"] for unit in vacant)


async def test_base_url_is_required() -> None:
    with pytest.raises(ValueError):
        RentManagerClient("", "u", "p")


def test_stand_in_really_speaks_http(standin: StandIn) -> None:
    """The fixture is a real server: an unauthenticated call gets Rent Manager's 401 shape."""
    response = httpx.get(f"{standin.url}/Tenants", timeout=5)
    assert response.status_code == 401
    assert "DeveloperMessage" in response.json()
