"""The API's resources: their fields with types, and their embeds (relations between records).

Why one table: filters, `fields` and `embeds` all resolve names against the same facts
(reference §3-§7), so each resource is described once here and every query feature follows.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Callable, Dict, List, Mapping, Optional

from standins.rentmanager.store import Record, Store

Loader = Callable[[Store, List[Record]], List[Any]]
ISSUE_LINKS = "ServiceManagerIssueLinks"  # internal kind: one row per issue-to-record link


@dataclass(frozen=True)
class Relation:
    """An embed: `target` names the embedded resource ('' for a computed value)."""

    target: str
    load: Loader
    many: bool = True


@dataclass(frozen=True)
class Resource:
    name: str
    key: str
    label: str
    fields: Mapping[str, str]
    relations: Mapping[str, Relation] = field(default_factory=dict)
    routed: bool = True


def _fields(spec: str) -> Dict[str, str]:
    """`"TenantID:int Name"` -> {"TenantID": "int", "Name": "str"}."""
    pairs = (item.partition(":") for item in spec.split())
    return {name: kind or "str" for name, _, kind in pairs}


def _index(store: Store, kind: str) -> Dict[Any, Record]:
    key = RESOURCES[kind].key
    return {row[key]: row for row in store.all(kind)}


def children(kind: str, foreign: str, local: str, **where: Any) -> Loader:
    """Rows of `kind` whose `foreign` field equals the parent's `local` field."""

    def load(store: Store, parents: List[Record]) -> List[Any]:
        groups: Dict[Any, List[Record]] = defaultdict(list)
        for row in store.all(kind):
            if all(row.get(k) == v for k, v in where.items()):
                groups[row.get(foreign)].append(row)
        return [groups.get(parent.get(local), []) for parent in parents]

    return load


def parent(kind: str, local: str) -> Loader:
    """The one row of `kind` the parent's `local` field points at."""

    def load(store: Store, parents: List[Record]) -> List[Any]:
        rows = _index(store, kind)
        return [rows.get(p.get(local)) for p in parents]

    return load


def lease_is_open(lease: Record, today: Optional[str] = None) -> bool:
    """A lease with no move-out date, or one still in the future."""
    out = lease.get("MoveOutDate")
    return not out or out[:10] >= (today or date.today().isoformat())


def _occupants(store: Store, units: List[Record]) -> List[Any]:
    tenants = _index(store, "Tenants")
    by_unit: Dict[Any, List[Record]] = defaultdict(list)
    for lease in store.all("Leases"):
        if lease_is_open(lease) and lease.get("TenantID") in tenants:
            by_unit[lease.get("UnitID")].append(tenants[lease["TenantID"]])
    return [by_unit.get(unit["UnitID"], []) for unit in units]


def _is_vacant(store: Store, units: List[Record]) -> List[Any]:
    return [not occupants for occupants in _occupants(store, units)]


def linked(entity_type: str, kind: str) -> Loader:
    """Records linked to a service issue (LinkedTenants, LinkedUnits, LinkedProperties)."""

    def load(store: Store, issues: List[Record]) -> List[Any]:
        targets = _index(store, kind)
        ids: Dict[Any, set] = defaultdict(set)
        for link in store.all(ISSUE_LINKS):
            if link["EntityType"] == entity_type:
                ids[link["ServiceManagerIssueID"]].add(link["EntityID"])
        # In primary-key order, like every other list the API answers.
        return [[targets[i] for i in sorted(ids.get(issue["ServiceManagerIssueID"], ())) if i in targets]
                for issue in issues]

    return load


def _define(*resources: Resource) -> Dict[str, Resource]:
    return {resource.name: resource for resource in resources}


_STAMPS = " CreateDate:date UpdateDate:date"
RESOURCES: Dict[str, Resource] = _define(
    Resource("Locations", "LocationID", "Location", _fields("LocationID:int Name ShortName IsActive:bool")),
    Resource(
        "Properties", "PropertyID", "Property",
        _fields("PropertyID:int Name ShortName IsActive:bool PropertyType" + _STAMPS),
        {
            "Addresses": Relation("Addresses", children("Addresses", "ParentID", "PropertyID", ParentType="Property")),
            "PhoneNumbers": Relation(
                "PhoneNumbers", children("PhoneNumbers", "ParentID", "PropertyID", ParentType="Property")
            ),
            "Units": Relation("Units", children("Units", "PropertyID", "PropertyID")),
        },
    ),
    Resource(
        "Units", "UnitID", "Unit",
        _fields("UnitID:int PropertyID:int Name UnitTypeID:int Bedrooms:int Bathrooms:decimal SquareFootage:int"
                + _STAMPS),
        {
            "IsVacant": Relation("", _is_vacant, many=False),
            "CurrentOccupants": Relation("Tenants", _occupants),
            "Leases": Relation("Leases", children("Leases", "UnitID", "UnitID")),
            "Property": Relation("Properties", parent("Properties", "PropertyID"), many=False),
            "UnitType": Relation("UnitTypes", parent("UnitTypes", "UnitTypeID"), many=False),
        },
    ),
    Resource("UnitTypes", "UnitTypeID", "Unit type", _fields("UnitTypeID:int Name Description")),
    Resource(
        "Tenants", "TenantID", "Tenant",
        _fields("TenantID:int TenantDisplayID:int Name FirstName LastName PropertyID:int Status RentDueDay:int "
                "Comment" + _STAMPS),
        {
            "Contacts": Relation("Contacts", children("Contacts", "ParentID", "TenantID", ParentType="Tenant")),
            "Leases": Relation("Leases", children("Leases", "TenantID", "TenantID")),
            "Property": Relation("Properties", parent("Properties", "PropertyID"), many=False),
        },
    ),
    Resource(
        "Contacts", "ContactID", "Contact",
        _fields("ContactID:int FirstName LastName IsPrimary:bool Email ParentID:int ParentType"),
        {"PhoneNumbers": Relation("PhoneNumbers", children("PhoneNumbers", "ParentID", "ContactID", ParentType="Contact"))},
        routed=False,
    ),
    Resource(
        "PhoneNumbers", "PhoneNumberID", "Phone number",
        _fields("PhoneNumberID:int PhoneNumberTypeID:int PhoneNumber Extension StrippedPhoneNumber IsPrimary:bool "
                "ParentID:int ParentType"),
        {"PhoneNumberType": Relation("PhoneNumberTypes", parent("PhoneNumberTypes", "PhoneNumberTypeID"), many=False)},
        routed=False,
    ),
    Resource("PhoneNumberTypes", "PhoneNumberTypeID", "Phone number type", _fields("PhoneNumberTypeID:int Name")),
    Resource(
        "Addresses", "AddressID", "Address",
        _fields("AddressID:int AddressTypeID:int Street City State PostalCode IsPrimary:bool ParentID:int ParentType"),
        routed=False,
    ),
    Resource(
        "Leases", "LeaseID", "Lease",
        _fields("LeaseID:int TenantID:int UnitID:int PropertyID:int MoveInDate:date MoveOutDate:date" + _STAMPS),
        {
            "Tenant": Relation("Tenants", parent("Tenants", "TenantID"), many=False),
            "Unit": Relation("Units", parent("Units", "UnitID"), many=False),
            "Property": Relation("Properties", parent("Properties", "PropertyID"), many=False),
        },
    ),
    Resource(
        "Prospects", "ProspectID", "Prospect",
        _fields("ProspectID:int PropertyID:int Name FirstName LastName Comment ProspectStatus LeadSourceID:int "
                "MoveInDate:date" + _STAMPS),
        {
            "Contacts": Relation("Contacts", children("Contacts", "ParentID", "ProspectID", ParentType="Prospect")),
            "Property": Relation("Properties", parent("Properties", "PropertyID"), many=False),
        },
    ),
    Resource(
        "ServiceManagerIssues", "ServiceManagerIssueID", "Service issue",
        _fields("ServiceManagerIssueID:int Title Description CategoryID:int PriorityID:int StatusID:int "
                "AssignedToUserID:int IsClosed:bool CloseDate:date AssignedOpenDate:date DueDate:date "
                "IsCustomerInitiated:bool" + _STAMPS),
        {
            "Tenants": Relation("Tenants", linked("Tenant", "Tenants")),
            "Units": Relation("Units", linked("Unit", "Units")),
            "Properties": Relation("Properties", linked("Property", "Properties")),
        },
    ),
    Resource(
        "ServiceManagerCategories", "ServiceManagerCategoryID", "Service category",
        _fields("ServiceManagerCategoryID:int Name Description SortOrder:int IsActive:bool"),
    ),
    Resource(
        "ServiceManagerPriorities", "ServiceManagerPriorityID", "Service priority",
        _fields("ServiceManagerPriorityID:int Name Description SortOrder:int Color IsActive:bool"),
    ),
    Resource(
        "ServiceManagerStatuses", "ServiceManagerStatusID", "Service status",
        _fields("ServiceManagerStatusID:int Name Description SortOrder:int Color IsActive:bool"),
    ),
    Resource(
        "HistoryNotes", "HistoryID", "History note",
        _fields("HistoryID:int HistoryCategoryID:int HistoryDate:date Note ParentID:int EntityType IsPinned:bool"
                + _STAMPS),
    ),
    Resource("HistoryCategories", "HistoryCategoryID", "History category",
             _fields("HistoryCategoryID:int Name Description IsActive:bool")),
    Resource(
        "HistoryCalls", "HistoryID", "History call",
        _fields("HistoryID:int HistoryDate:date Note Result IsCompleted:bool ParentID:int ParentType" + _STAMPS),
    ),
)
ROUTED = {name.lower(): resource for name, resource in RESOURCES.items() if resource.routed}
