"""The Rent Manager stand-in: pure query parsing, then the real server over real HTTP."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List

import httpx
import pytest

from standins.rentmanager.__main__ import parse_args
from standins.rentmanager.auth import TokenStore, TooManySessions
from standins.rentmanager.faults import Faults, parse_delay
from standins.rentmanager.listing import resolve_field
from standins.rentmanager.query import (
    MAX_PAGE_SIZE,
    Filter,
    Page,
    QueryError,
    matches,
    paging_headers,
    parse_filters,
    parse_paging,
    parse_tree,
    query_params,
    select_fields,
)
from standins.rentmanager.schema import RESOURCES
from standins.rentmanager.seed import seed
from standins.rentmanager.store import Store
from tests.conftest import StandIn
from tests.standins.conftest import client, health, login, running

TENANTS = RESOURCES["Tenants"]
BAD_TOKEN = "Unable to authenticate - Invalid API Token."
ERROR_MODEL_KEYS = {"UserMessage", "DeveloperMessage", "ErrorCode", "Exception", "MoreInfoUri"}


def tenant_filters(text: str) -> List[Filter]:
    return parse_filters(text, lambda path: resolve_field(TENANTS, path))


def rels(link: str) -> Dict[str, str]:
    """rel -> URL of a Link header."""
    out = {}
    for part in link.split(", "):
        url, rel = part.split("; ")
        out[rel.split('"')[1]] = url.strip("<>")
    return out


# -- query.py, without a server ------------------------------------------------------------


def test_filters_are_typed_by_the_field_and_case_insensitive_in_names() -> None:
    (term,) = tenant_filters("tenantid,EQ,7")
    assert term == Filter(("TenantID",), "eq", (7,))
    status, prop = tenant_filters("Status,eq,Current;PropertyID,in,(1,3)")
    assert status.values == ("current",) and prop.values == (1, 3)
    assert tenant_filters("UpdateDate,bt,(2024-01-01,2024-02-01)")[0].values == (
        "2024-01-01T00:00:00", "2024-02-01T00:00:00")


@pytest.mark.parametrize("text, reason", [
    ("NoSuchField,eq,1", "not a valid field"),
    ("TenantID,zz,1", "not a valid operation"),
    ("TenantID,eq,abc", "not a valid int"),
    ("TenantID,bt,(1,2,3)", "two values"),
    ("TenantID", "Field,Operation,Value"),
    ("Contacts.Nope,eq,1", "not a valid field"),
])
def test_bad_filters_name_the_filter(text: str, reason: str) -> None:
    with pytest.raises(QueryError) as caught:
        tenant_filters(text)
    assert caught.value.param == "filters"
    assert caught.value.message.startswith("Error parsing filter") and reason in caught.value.message


def test_dotted_filter_field_resolves_into_embeds() -> None:
    (term,) = tenant_filters("contacts.phonenumbers.strippedphonenumber,eq,7185550134")
    assert term.path == ("Contacts", "PhoneNumbers", "StrippedPhoneNumber")
    record = {"Contacts": [{"PhoneNumbers": [{"StrippedPhoneNumber": "1"}]},
                           {"PhoneNumbers": [{"StrippedPhoneNumber": "7185550134"}]}]}
    assert matches(record, term)
    assert not matches({"Contacts": []}, term)


@pytest.mark.parametrize("text, value, expected", [
    ("Name,ct,GONZ", "Maria Gonzalez", True),
    ("Name,sw,maria", "Maria Gonzalez", True),
    ("Name,ew,LEZ", "Maria Gonzalez", True),
    ("Name,ct,smith", "Maria Gonzalez", False),
    ("Name,eq,maria gonzalez", "Maria Gonzalez", True),
    ("RentDueDay,ni,(1,2)", 1, False),
    ("RentDueDay,bt,(1,5)", 5, True),
    ("RentDueDay,gt,5", None, False),
    ("RentDueDay,gtn,5", None, True),
    ("RentDueDay,len,5", 6, False),
    ("Comment,hv,true", None, False),
    ("Comment,hv,false", None, True),
    ("Comment,eq,null", None, True),
])
def test_operators(text: str, value: Any, expected: bool) -> None:
    (term,) = tenant_filters(text)
    assert matches({term.path[0]: value}, term) is expected


def test_embeds_and_fields_trees_and_selection() -> None:
    assert parse_tree("Contacts.PhoneNumbers, Leases", "embeds") == {"Contacts": {"PhoneNumbers": {}}, "Leases": {}}
    with pytest.raises(QueryError):
        parse_tree("Contacts..PhoneNumbers", "embeds")
    record = {"TenantID": 1, "Name": "A", "Contacts": [{"ContactID": 2, "FirstName": "A"}]}
    assert select_fields(record, {"TenantID": {}}) == {"TenantID": 1}
    assert select_fields(record, {"Contacts": {"ContactID": {}}}) == {"Contacts": [{"ContactID": 2}]}
    assert select_fields(record, {}) == record


def test_paging_defaults_clamp_and_any_case() -> None:
    assert parse_paging({}) == Page(MAX_PAGE_SIZE, 1)
    assert parse_paging(query_params([("PageSize", "5000"), ("PAGENUMBER", "3")])) == Page(1000, 3)
    for bad in ({"pagesize": "x"}, {"pagenumber": "0"}):
        with pytest.raises(QueryError):
            parse_paging(bad)


def test_link_header_has_first_previous_next_last() -> None:
    headers = paging_headers("http://h/Tenants", [("filters", "A,eq,1"), ("PageSize", "5")], Page(5, 2), 18, 5)
    assert headers["X-Total-Results"] == "18" and headers["X-Results"] == "5"
    links = rels(headers["Link"])
    assert set(links) == {"first", "previous", "next", "last"}
    assert links["last"].endswith("pagesize=5&pagenumber=4") and "filters=A%2Ceq%2C1" in links["next"]
    assert set(rels(paging_headers("http://h/T", [], Page(5, 1), 3, 3)["Link"])) == {"first", "last"}


def test_delay_ranges_and_fault_counts() -> None:
    assert parse_delay("0") == (0, 0) and parse_delay("150-400") == (150, 400) and parse_delay("200") == (200, 200)
    with pytest.raises(ValueError):
        parse_delay("400-150")
    faults = Faults()
    faults.apply({"status": 503, "count": 2})
    assert [faults.take_status() for _ in range(3)] == [503, 503, None]
    faults.apply({"drop": "after", "count": None})
    assert faults.take_drop() == "after" and faults.take_drop() == "after"
    with pytest.raises(ValueError):
        faults.apply({"drop": "sometimes"})


def test_cli_flags_default_from_the_environment() -> None:
    args = parse_args([], env={})
    assert (args.host, args.port, args.db, args.tenants, args.delay, args.faults) == (
        "127.0.0.1", 5100, ".standin/rentmanager.sqlite3", 18, (0, 0), {})
    env = {"RENT_MANAGER_STANDIN_PORT": "5200", "RENT_MANAGER_STANDIN_DB": "/tmp/x.db",
           "RENT_MANAGER_STANDIN_TENANTS": "500", "RENT_MANAGER_STANDIN_DELAY_MS": "150-400",
           "RENT_MANAGER_STANDIN_FAULTS": '{"status": 503, "count": 5}'}
    args = parse_args(["--reset"], env=env)
    assert (args.port, args.db, args.tenants, args.delay, args.reset) == (5200, "/tmp/x.db", 500, (150, 400), True)
    assert args.faults == {"status": 503, "count": 5}
    assert parse_args(["--port", "5300"], env=env).port == 5300
    with pytest.raises(SystemExit):
        parse_args([], env={"RENT_MANAGER_STANDIN_FAULTS": '{"drop": "sometimes"}'})


def test_tokens_idle_lifetime_and_ten_per_user() -> None:
    now = [0.0]
    tokens = TokenStore(idle_seconds=900, clock=lambda: now[0])
    first = tokens.issue("api", 1)
    now[0] = 899
    assert tokens.check(first) is not None  # use resets the idle clock
    now[0] = 899 + 900
    assert tokens.check(first) is None
    for _ in range(10):
        tokens.issue("api", 1)
    with pytest.raises(TooManySessions):
        tokens.issue("api", 1)
    now[0] += 24 * 3600
    tokens.issue("api", 1)  # the old ones died


def test_seed_is_deterministic_and_phones_are_unique() -> None:
    def dump(tenants: int) -> Dict[str, Any]:
        store = Store(":memory:")
        seed(store, tenants)
        return {kind: store.all(kind) for kind in ("Tenants", "Units", "Contacts", "PhoneNumbers", "Leases")}

    assert dump(40) == dump(40)
    big = dump(500)
    assert len(big["Tenants"]) == 500
    phones = [p["StrippedPhoneNumber"][-10:] for p in big["PhoneNumbers"] if p["ParentType"] == "Contact"]
    assert len(phones) == len(set(phones))
    maria = big["Tenants"][0]
    assert (maria["TenantID"], maria["Name"], maria["PropertyID"]) == (1, "Maria Gonzalez", 1)


# -- authentication ------------------------------------------------------------------------


def test_login_answers_a_json_string_token(rm: StandIn) -> None:
    response = httpx.post(f"{rm.url}/Authentication/AuthorizeUser",
                          json={"userName": "api", "password": "standin", "locationId": 1})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    token = response.json()
    assert isinstance(token, str) and len(token) >= 32
    with client(rm, token) as session:
        assert session.get("/Locations").json() == [{"LocationID": 1, "Name": "Port Richmond Office",
                                                    "ShortName": "PRO", "IsActive": True}]


def test_wrong_password_is_401_error_model(rm: StandIn) -> None:
    response = httpx.post(f"{rm.url}/Authentication/AuthorizeUser", json={"Username": "api", "Password": "x"})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == ERROR_MODEL_KEYS
    assert body["UserMessage"] == "Authentication Failed." and body["DeveloperMessage"] == "Invalid username or password"


@pytest.mark.parametrize("headers", [{}, {"X-RM12Api-ApiToken": "not-a-token"}])
def test_missing_or_invalid_token_is_401(rm: StandIn, headers: Dict[str, str]) -> None:
    response = httpx.get(f"{rm.url}/Tenants", headers=headers)
    assert response.status_code == 401
    assert response.json()["DeveloperMessage"] == BAD_TOKEN
    assert response.headers["x-ratelimit-limit"] == "500"


def test_location_header_must_be_a_known_location(rm: StandIn, api: httpx.Client) -> None:
    assert api.get("/Properties", headers={"X-RM12Api-LocationID": "1"}).status_code == 200
    refused = api.get("/Properties", headers={"X-RM12Api-LocationID": "7"})
    assert refused.status_code == 403 and "location 7" in refused.json()["DeveloperMessage"]
    elsewhere = httpx.post(f"{rm.url}/Authentication/AuthorizeUser",
                           json={"Username": "api", "Password": "standin", "LocationID": 9})
    assert elsewhere.status_code == 403


def test_eleventh_login_fails_until_one_is_freed(rm: StandIn) -> None:
    rm.fault(expire_tokens=True)
    tokens = [login(rm) for _ in range(10)]
    eleventh = httpx.post(f"{rm.url}/Authentication/AuthorizeUser", json={"Username": "api", "Password": "standin"})
    assert eleventh.status_code == 401
    assert eleventh.json()["DeveloperMessage"] == "User is already logged in maximum number of times"
    freed = httpx.post(f"{rm.url}/Authentication/DeAuthorize", params={"token": tokens[0]})
    assert freed.status_code == 204
    with client(rm, tokens[0]) as session:
        assert session.get("/Tenants").status_code == 401
    login(rm)
    rm.fault(expire_tokens=True)


def test_expire_tokens_fault_ends_live_sessions(rm: StandIn, api: httpx.Client) -> None:
    assert api.get("/Properties").status_code == 200
    rm.fault(expire_tokens=True)
    assert health(rm)["live_tokens"] == 0
    after = api.get("/Properties")
    assert after.status_code == 401 and after.json()["DeveloperMessage"] == BAD_TOKEN


def test_idle_token_dies(tmp_path: Path) -> None:
    with running(tmp_path, "--token-idle-seconds", "0.5") as standin, client(standin, login(standin)) as session:
        assert session.get("/Units").status_code == 200
        time.sleep(0.7)
        assert session.get("/Units").status_code == 401


# -- list queries --------------------------------------------------------------------------


def test_filters_in_bt_ct_and_primary_key_order(api: httpx.Client) -> None:
    current = api.get("/Tenants", params={"filters": "Status,eq,Current"}).json()
    assert len(current) >= 15 and all(t["Status"] == "Current" for t in current)
    ids = [t["TenantID"] for t in current]
    assert ids == sorted(ids)
    assert [t["TenantID"] for t in api.get("/Tenants", params={"filters": "TenantID,in,(3,1,5)"}).json()] == [1, 3, 5]
    assert [u["UnitID"] for u in api.get("/Units", params={"filters": "UnitID,bt,(2,4)"}).json()] == [2, 3, 4]
    assert [t["Name"] for t in api.get("/Tenants", params={"filters": "Name,ct,GONZ"}).json()] == ["Maria Gonzalez"]
    past = api.get("/Tenants", params={"filters": "Status,eq,Past"}).json()
    assert [t["Name"] for t in past] == ["Helen Murphy"]


def test_bad_filter_is_400_model_state(api: httpx.Client) -> None:
    response = api.get("/Tenants", params={"filters": "Nope,eq,1"})
    assert response.status_code == 400
    body = response.json()
    assert body["Message"] == "The request is invalid."
    assert body["ModelState"]["filters"][0].startswith("Error parsing filter")


@pytest.mark.parametrize("resource, phone, name", [
    ("Tenants", "7185550134", "Maria Gonzalez"),
    ("Tenants", "17185550172", "Giuseppe Russo"),
    ("Tenants", "7185550166", "Wei Chen"),
    ("Prospects", "7185550192", "Jordan Reyes"),
])
def test_dotted_phone_filter(api: httpx.Client, resource: str, phone: str, name: str) -> None:
    params = {"filters": f"Contacts.PhoneNumbers.StrippedPhoneNumber,eq,{phone}"}
    found = api.get(f"/{resource}", params=params).json()
    assert [row["Name"] for row in found] == [name]
    assert "Contacts" not in found[0]  # filtering on an embed does not embed it


def test_tenant_with_contacts_phone_numbers_and_leases(api: httpx.Client) -> None:
    maria = api.get("/Tenants/1", params={"embeds": "Contacts.PhoneNumbers,Leases"}).json()
    phone = maria["Contacts"][0]["PhoneNumbers"][0]
    assert phone["PhoneNumber"] == "(718) 555-0134" and phone["StrippedPhoneNumber"] == "7185550134"
    assert phone["ParentID"] == maria["Contacts"][0]["ContactID"] and phone["ParentType"] == "Contact"
    (lease,) = maria["Leases"]
    assert (lease["UnitID"], lease["PropertyID"]) == (8, 1) and "MoveOutDate" not in lease
    assert api.get("/Units/8").json()["Name"] == "4B"
    assert not {"UnitID", "PhoneNumbers", "Comment"} & set(maria)  # no UnitID, no phones, nulls omitted


def test_unknown_embed_is_404_and_singular_embed_is_ignored(api: httpx.Client) -> None:
    assert api.get("/Tenants", params={"embeds": "PhoneNumbers"}).status_code == 404
    plain = api.get("/Tenants/1", params={"embed": "Contacts"}).json()
    assert "Contacts" not in plain


def test_fields_select_and_drop_unnamed_embeds(api: httpx.Client) -> None:
    rows = api.get("/Tenants", params={"fields": "TenantID,Name", "embeds": "Contacts"}).json()
    assert set(rows[0]) == {"TenantID", "Name"}
    rows = api.get("/Tenants", params={"fields": "TenantID,Contacts", "embeds": "Contacts"}).json()
    assert set(rows[0]) == {"TenantID", "Contacts"}
    assert api.get("/Tenants", params={"fields": "Nope"}).status_code == 400


def test_paging_headers_clamp_and_204(api: httpx.Client) -> None:
    page = api.get("/Tenants", params={"PageSize": "5", "PageNumber": "2"})
    assert page.headers["X-Total-Results"] == "18" and page.headers["X-Results"] == "5"
    assert [t["TenantID"] for t in page.json()] == [6, 7, 8, 9, 10]
    links = rels(page.headers["Link"])
    assert set(links) == {"first", "previous", "next", "last"} and links["last"].endswith("pagenumber=4")
    clamped = api.get("/Tenants", params={"pagesize": "5000"})
    assert clamped.headers["X-Results"] == "18" and "pagesize=1000" in clamped.headers["Link"]
    for params in ({"filters": "LastName,eq,Nobody"}, {"pagesize": "5", "pagenumber": "9"}):
        empty = api.get("/Tenants", params=params)
        assert empty.status_code == 204 and empty.content == b""


def test_unknown_id_route_and_verbs(rm: StandIn, api: httpx.Client) -> None:
    missing = api.get("/Tenants/999999")
    assert missing.status_code == 404 and set(missing.json()) == ERROR_MODEL_KEYS
    for path in ("/NoSuchThing", "/Tenants/abc"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json() == {
            "Message": f"No HTTP resource was found that matches the request URI '{rm.url}{path}'."}
    for method in ("PUT", "PATCH"):
        refused = api.request(method, "/Tenants/1", json={"Name": "X"})
        assert refused.status_code == 405 and "does not support http method" in refused.json()["Message"]
    assert api.get("/tenants/1").json()["TenantID"] == 1  # routes ignore case


def test_vacant_units_and_occupants(api: httpx.Client) -> None:
    units = api.get("/Units", params={"embeds": "IsVacant"}).json()
    vacant = [(u["PropertyID"], u["Name"]) for u in units if u["IsVacant"]]
    assert vacant == [(1, "4A"), (2, "2C"), (2, "3B"), (3, "1B"), (3, "3B")]
    assert all(isinstance(u["Bedrooms"], int) and "UnitTypeID" in u for u in units)
    occupied = api.get("/Units/8", params={"embeds": "CurrentOccupants"}).json()
    assert [t["Name"] for t in occupied["CurrentOccupants"]] == ["Maria Gonzalez"]


def test_properties_embed_addresses_phones_units(api: httpx.Client) -> None:
    home = api.get("/Properties/1", params={"embeds": "Addresses,PhoneNumbers,Units"}).json()
    assert home["Name"] == "Port Richmond Commons"
    address = home["Addresses"][0]
    assert (address["Street"], address["City"], address["State"], address["PostalCode"]) == (
        "31 Port Richmond Ave", "Staten Island", "NY", "10302")
    assert home["PhoneNumbers"][0]["PhoneNumber"] == "(718) 414-6984" and len(home["Units"]) == 8


def test_lookups(api: httpx.Client) -> None:
    def names(path: str, key: str) -> Dict[str, int]:
        return {row["Name"]: row[key] for row in api.get(path).json()}

    assert {"Plumbing", "Electrical", "Heating/HVAC", "Emergency"} <= set(
        names("/ServiceManagerCategories", "ServiceManagerCategoryID"))
    assert names("/ServiceManagerPriorities", "ServiceManagerPriorityID") == {
        "Emergency": 1, "High": 2, "Normal": 3, "Low": 4}
    assert {"Open", "In Progress", "Closed"} <= set(names("/ServiceManagerStatuses", "ServiceManagerStatusID"))
    assert {"Phone Call", "General", "Maintenance"} <= set(names("/HistoryCategories", "HistoryCategoryID"))


# -- writes --------------------------------------------------------------------------------


def test_issue_with_links_reads_back_with_embeds(api: httpx.Client) -> None:
    marker = f"ref-{time.time_ns()}"
    body = [{"Title": "Kitchen sink leaking", "Description": f"Caller says it drips. [{marker}]", "CategoryID": 1,
             "PriorityID": 2, "IsCustomerInitiated": True, "LinkedUnits": [{"UnitID": 8}],
             "LinkedTenants": [{"TenantID": 1}], "LinkedProperties": [{"PropertyID": 1}]}]
    response = api.post("/ServiceManagerIssues", json=body)
    assert response.status_code == 200, response.text
    (saved,) = response.json()
    assert saved["ServiceManagerIssueID"] > 5341 and saved["StatusID"] == 1 and saved["IsClosed"] is False
    assert not {"TenantID", "UnitID", "PropertyID", "LinkedUnits"} & set(saved)
    issue_id = saved["ServiceManagerIssueID"]
    read = api.get(f"/ServiceManagerIssues/{issue_id}", params={"embeds": "Tenants,Units,Properties"}).json()
    assert [t["TenantID"] for t in read["Tenants"]] == [1]
    assert [u["Name"] for u in read["Units"]] == ["4B"] and [p["PropertyID"] for p in read["Properties"]] == [1]
    found = api.get("/ServiceManagerIssues", params={"filters": f"Description,ct,{marker.upper()}"}).json()
    assert [i["ServiceManagerIssueID"] for i in found] == [issue_id]
    closed = api.post("/ServiceManagerIssues", json=[{"ServiceManagerIssueID": issue_id, "Title": "Kitchen sink leaking",
                                                      "IsClosed": True}]).json()[0]
    assert closed["IsClosed"] is True and closed["StatusID"] == 4 and "CloseDate" in closed
    assert api.post(f"/ServiceManagerIssues/{issue_id}/LinkUnit", params={"unitID": "7"}).status_code == 200
    units = api.get(f"/ServiceManagerIssues/{issue_id}", params={"embeds": "Units"}).json()["Units"]
    assert [u["UnitID"] for u in units] == [7, 8]


@pytest.mark.parametrize("item, message", [
    ({"Description": "no title"}, "Issue cannot be blank."),
    ({"Title": "  "}, "Issue cannot be blank."),
    ({"Title": "x", "CategoryID": 999}, "CategoryID"),
    ({"Title": "x", "PriorityID": 999}, "PriorityID"),
    ({"Title": "x", "LinkedTenants": [{"TenantID": 999}]}, "TenantID"),
    ({"Title": "x", "LinkedUnits": [{"UnitID": 999}]}, "UnitID"),
])
def test_issue_validation_is_400(api: httpx.Client, item: Dict[str, Any], message: str) -> None:
    before = int(api.get("/ServiceManagerIssues").headers["X-Total-Results"])
    response = api.post("/ServiceManagerIssues", json=[{"Title": "valid first"}, item])
    assert response.status_code == 400 and message in response.json()["UserMessage"]
    assert int(api.get("/ServiceManagerIssues").headers["X-Total-Results"]) == before  # all or nothing


def test_body_with_bom_is_accepted(api: httpx.Client) -> None:
    raw = b"\xef\xbb\xbf" + json.dumps([{"Title": "BOM test", "CategoryID": 7}]).encode()
    response = api.post("/ServiceManagerIssues", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 200 and response.json()[0]["Title"] == "BOM test"


@pytest.mark.parametrize("entity, parent_id", [("Tenants", 1), ("Prospects", 1)])
def test_history_notes(api: httpx.Client, entity: str, parent_id: int) -> None:
    marker = f"call-{time.time_ns()}"
    body = [{"HistoryCategoryID": 4, "HistoryDate": "2024-05-01", "Note": f"Caller asked about hours. [{marker}]"}]
    response = api.post(f"/{entity}/{parent_id}/HistoryNotes", json=body)
    assert response.status_code == 200, response.text
    (note,) = response.json()
    entity_type = entity[:-1]
    assert note["HistoryID"] > 0 and note["HistoryDate"] == "2024-05-01T00:00:00"
    assert (note["ParentID"], note["EntityType"]) == (parent_id, entity_type)
    listed = api.get(f"/{entity}/{parent_id}/HistoryNotes", params={"filters": f"Note,ct,{marker}"}).json()
    assert [n["HistoryID"] for n in listed] == [note["HistoryID"]]
    everywhere = api.get("/HistoryNotes", params={"filters": f"ParentID,eq,{parent_id};EntityType,eq,{entity_type}"})
    assert note["HistoryID"] in [n["HistoryID"] for n in everywhere.json()]
    assert all(n["EntityType"] == entity_type for n in everywhere.json())
    assert api.post(f"/{entity}/999999/HistoryNotes", json=body).status_code == 404
    assert api.post(f"/{entity}/{parent_id}/HistoryNotes", json=[{"Note": " "}]).status_code == 400


def test_create_prospect_with_phone(api: httpx.Client) -> None:
    marker = f"ref-{time.time_ns()}"
    body = [{"PropertyID": 2, "FirstName": "Dana", "LastName": "Whitfield", "Comment": f"Wants a studio. [{marker}]",
             "Contacts": [{"IsPrimary": True, "PhoneNumbers": [{"PhoneNumberTypeID": 3, "PhoneNumber": "+1 917 555 0111"}]}]}]
    response = api.post("/Prospects", json=body)
    assert response.status_code == 200, response.text
    (saved,) = response.json()
    assert saved["ProspectID"] > 2 and saved["Name"] == "Dana Whitfield"
    found = api.get("/Prospects", params={"filters": "Contacts.PhoneNumbers.StrippedPhoneNumber,eq,19175550111",
                                          "embeds": "Contacts.PhoneNumbers"}).json()
    assert [p["ProspectID"] for p in found] == [saved["ProspectID"]]
    assert found[0]["Contacts"][0]["PhoneNumbers"][0]["PhoneNumber"] == "+1 917 555 0111"
    by_comment = api.get("/Prospects", params={"filters": f"Comment,ct,{marker}"}).json()
    assert [p["ProspectID"] for p in by_comment] == [saved["ProspectID"]]


@pytest.mark.parametrize("item, message", [
    ({"PropertyID": 1, "FirstName": "No"}, "LastName is required."),
    ({"LastName": "Nobody"}, "PropertyID is required."),
    ({"PropertyID": 99, "LastName": "Nobody"}, "PropertyID"),
])
def test_prospect_validation_is_400(api: httpx.Client, item: Dict[str, Any], message: str) -> None:
    response = api.post("/Prospects", json=[item])
    assert response.status_code == 400 and message in response.json()["UserMessage"]


# -- faults, rate limits, restarts ----------------------------------------------------------


def test_status_fault_with_count_then_until_cleared(rm: StandIn, api: httpx.Client) -> None:
    rm.fault(status=503, count=2)
    failed = [api.get("/Properties") for _ in range(2)]
    assert [r.status_code for r in failed] == [503, 503] and set(failed[0].json()) == ERROR_MODEL_KEYS
    assert api.get("/Properties").status_code == 200
    rm.fault(status=500, count=None)
    assert [api.get("/Units").status_code for _ in range(3)] == [500, 500, 500]
    assert httpx.get(f"{rm.url}/_standin/faults").json()["status"] == 500
    rm.clear_faults()
    assert api.get("/Units").status_code == 200


def test_bad_fault_switch_is_refused(rm: StandIn) -> None:
    response = httpx.post(f"{rm.url}/_standin/faults", json={"status": 200})
    assert response.status_code == 400 and "status" in response.json()["error"]
    assert httpx.get(f"{rm.url}/_standin/faults").json()["status"] is None


def test_delay_fault_slows_every_response(rm: StandIn, api: httpx.Client) -> None:
    rm.fault(delay_ms=300)
    started = time.monotonic()
    assert api.get("/Locations").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_drop_before_writes_nothing(rm: StandIn, api: httpx.Client) -> None:
    marker = f"drop-before-{time.time_ns()}"
    rm.fault(drop="before", count=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.post("/ServiceManagerIssues", json=[{"Title": "Dropped", "Description": marker}])
    assert api.get("/ServiceManagerIssues", params={"filters": f"Description,ct,{marker}"}).status_code == 204


def test_drop_after_commits_the_write(rm: StandIn, api: httpx.Client) -> None:
    marker = f"drop-after-{time.time_ns()}"
    rm.fault(drop="after", count=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        api.post("/ServiceManagerIssues", json=[{"Title": "Committed", "Description": marker}])
    found = api.get("/ServiceManagerIssues", params={"filters": f"Description,ct,{marker}"}).json()
    assert [i["Title"] for i in found] == ["Committed"]


def test_rate_limit_headers_on_every_response(rm: StandIn, api: httpx.Client) -> None:
    for response in (api.get("/Tenants"), api.get("/Nope"), httpx.get(f"{rm.url}/Tenants")):
        assert response.headers["x-ratelimit-limit"] == "500"
        assert int(response.headers["x-ratelimit-remaining"]) < 500
        assert int(response.headers["x-ratelimit-reset"]) >= int(time.time())


def test_startup_flags_env_faults_delay_and_rate_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENT_MANAGER_STANDIN_FAULTS", json.dumps({"status": 503, "count": 1}))
    with running(tmp_path, "--delay-ms", "150-200", "--rate-limit", "3") as standin:
        with client(standin) as anonymous:
            assert anonymous.post("/Authentication/AuthorizeUser", json={}).status_code == 503
        with client(standin, login(standin)) as session:
            started = time.monotonic()
            statuses = [session.get("/Locations").status_code for _ in range(4)]
            assert time.monotonic() - started >= 4 * 0.15
            assert statuses == [200, 200, 200, 429]


def test_data_persists_across_restart_and_reset_reseeds(tmp_path: Path) -> None:
    with running(tmp_path) as standin:
        token = login(standin)
        with client(standin, token) as session:
            saved = session.post("/ServiceManagerIssues", json=[{"Title": "Survives"}]).json()[0]
    issue_id = saved["ServiceManagerIssueID"]
    with running(tmp_path) as standin:
        assert health(standin)["tenants"] == 18
        with client(standin, token) as stale:
            assert stale.get("/Tenants").status_code == 401  # a restart ends sessions, not data
        with client(standin, login(standin)) as session:
            assert session.get(f"/ServiceManagerIssues/{issue_id}").json()["Title"] == "Survives"
    with running(tmp_path, "--reset") as standin, client(standin, login(standin)) as session:
        assert session.get(f"/ServiceManagerIssues/{issue_id}").status_code == 404


def test_generated_portfolio_for_benchmarks(tmp_path: Path) -> None:
    with running(tmp_path, "--tenants", "500") as standin, client(standin, login(standin)) as session:
        assert health(standin)["tenants"] == 500
        tenants = session.get("/Tenants", params={"embeds": "Contacts.PhoneNumbers"}).json()
        assert len(tenants) == 500 and tenants[0]["Name"] == "Maria Gonzalez"
        vacant = [u for u in session.get("/Units", params={"embeds": "IsVacant"}).json() if u["IsVacant"]]
        assert len(vacant) >= 4
