"""The demo portfolio: the same records on every fresh database, so demos and tests can name them.

Well-known records (PropertyID 1 is Port Richmond Commons, 31 Port Richmond Ave, Staten Island,
NY 10302, the office's own building; 2 is Richmond Terrace Lofts; 3 is Castleton Avenue Apartments):

| TenantID | Name            | phone as stored   | StrippedPhoneNumber | unit (UnitID) | PropertyID | Status  |
| -------- | --------------- | ----------------- | ------------------- | ------------- | ---------- | ------- |
| 1        | Maria Gonzalez  | (718) 555-0134    | 7185550134          | 4B (8)        | 1          | Current |
| 2        | James O'Brien   | 718.555.0141      | 7185550141          | 1A (1)        | 1          | Current |
| 5        | Giuseppe Russo  | +1 718 555 0172   | 17185550172         | 2B (4)        | 1          | Current |
| 18       | Helen Murphy    | 718.555.0199      | 7185550199          | was 4A (7)    | 1          | Past    |

StrippedPhoneNumber is the digits of the stored number, as on the real API: a number stored with
its country code keeps the leading 1, so a caller's ten digits must be matched locally.
Vacant units (no open lease): 4A (7), 2C (14), 3B (16), 1B (18), 3B (22).
Prospects: 1 Jordan Reyes (718) 555-0192 (PropertyID 1), 2 Samantha Lee 347-555-0102 (PropertyID 2).
Lookups: ServiceManagerCategories 1 Plumbing, 2 Electrical, 3 Heating/HVAC, 4 Appliance, 5 Pest Control,
6 Locks/Doors, 7 General, 8 Emergency; ServiceManagerPriorities 1 Emergency, 2 High, 3 Normal, 4 Low;
ServiceManagerStatuses 1 Open, 2 In Progress, 3 Waiting on Parts, 4 Closed; HistoryCategories 1 General,
2 Maintenance, 3 Leasing, 4 Phone Call; PhoneNumberTypes 1 Home, 2 Work, 3 Mobile, 4 Fax.
With more than 18 tenants, extra properties (PropertyID 4 on), units and current tenants are generated
from a fixed random seed, each with a phone number no other record has.
"""
from __future__ import annotations

import math
import random
import re
from typing import Callable, Dict, Iterator, List, Tuple

from standins.rentmanager.schema import RESOURCES
from standins.rentmanager.store import Record, Store
from standins.rentmanager.writes import digits, link

DEMO_TENANT_COUNT = 18
LOCATION = {"LocationID": 1, "Name": "Port Richmond Office", "ShortName": "PRO", "IsActive": True}
OFFICE_PHONE = "(718) 414-6984"
PHONE_HOME, PHONE_WORK, PHONE_MOBILE = 1, 2, 3
_STAMP = "2020-01-15T09:00:00"

# (name, short name, street, property phone, units as "Name:bedrooms")
PROPERTIES: List[Tuple[str, str, str, str, str]] = [
    ("Port Richmond Commons", "PRC", "31 Port Richmond Ave", OFFICE_PHONE, "1A:1 1B:2 2A:1 2B:2 3A:1 3B:2 4A:2 4B:2"),
    ("Richmond Terrace Lofts", "RTL", "2150 Richmond Terrace", "(718) 555-0101",
     "1A:0 1B:1 1C:1 2A:2 2B:1 2C:0 3A:2 3B:3"),
    ("Castleton Avenue Apartments", "CAA", "1520 Castleton Ave", OFFICE_PHONE, "1A:1 1B:2 2A:2 2B:1 3A:3 3B:2"),
]
# (first, last, UnitID, phones "number|type|extension" joined by ";", status); a second contact after "&".
TENANTS: List[Tuple[str, str, int, str, str]] = [
    ("Maria", "Gonzalez", 8, "(718) 555-0134|3", "Current"),
    ("James", "O'Brien", 1, "718.555.0141|1;(212) 555-0100|2|204", "Current"),
    ("Aisha", "Johnson", 2, "718-555-0150|3", "Current"),
    ("Wei", "Chen", 3, "7185550161|3&Lin Chen:(718) 555-0166|3", "Current"),
    ("Giuseppe", "Russo", 4, "+1 718 555 0172|3", "Current"),
    ("Fatima", "Ali", 5, "(347) 555-0118|3", "Current"),
    ("Daniel", "Kowalski", 6, "347.555.0127|1", "Current"),
    ("Keisha", "Williams", 9, "917-555-0183|3", "Current"),
    ("Roberto", "Alvarez", 10, "9175550195|3", "Current"),
    ("Priya", "Patel", 11, "+1 929 555 0106|3", "Current"),
    ("Michael", "Brennan", 12, "(718) 555-0112|1", "Current"),
    ("Olga", "Petrova", 13, "646.555.0129|3", "Current"),
    ("Samuel", "Okafor", 15, "718-555-0145|3", "Current"),
    ("Linda", "Nguyen", 17, "(929) 555-0157|3", "Current"),
    ("Anthony", "DeMarco", 19, "3475550163|2", "Current"),
    ("Grace", "Kim", 20, "+1 646 555 0178|3", "Current"),
    ("Tyrone", "Jackson", 21, "(917) 555-0189|3", "Current"),
    ("Helen", "Murphy", 7, "718.555.0199|1", "Past"),
]
PROSPECTS = [
    ("Jordan", "Reyes", 1, "(718) 555-0192", "Asked about two-bedroom availability."),
    ("Samantha", "Lee", 2, "347-555-0102", "Looking for a studio by September."),
]
LOOKUPS: Dict[str, List[Record]] = {
    "Locations": [LOCATION],
    "UnitTypes": [{"UnitTypeID": i + 1, "Name": n} for i, n in enumerate(["Studio", "1 Bedroom", "2 Bedroom", "3 Bedroom"])],
    "PhoneNumberTypes": [{"PhoneNumberTypeID": i + 1, "Name": n} for i, n in enumerate(["Home", "Work", "Mobile", "Fax"])],
    "ServiceManagerCategories": [
        {"ServiceManagerCategoryID": i + 1, "Name": n, "Description": n, "SortOrder": i + 1, "IsActive": True}
        for i, n in enumerate(["Plumbing", "Electrical", "Heating/HVAC", "Appliance", "Pest Control",
                               "Locks/Doors", "General", "Emergency"])
    ],
    "ServiceManagerPriorities": [
        {"ServiceManagerPriorityID": i + 1, "Name": n, "Description": d, "SortOrder": i + 1, "Color": c,
         "IsActive": True}
        for i, (n, d, c) in enumerate([("Emergency", "Respond immediately", "#D32F2F"),
                                       ("High", "Within 24 hours", "#F57C00"),
                                       ("Normal", "Within 3 business days", "#1976D2"),
                                       ("Low", "When scheduled", "#757575")])
    ],
    "ServiceManagerStatuses": [
        {"ServiceManagerStatusID": i + 1, "Name": n, "Description": n, "SortOrder": i + 1, "Color": c, "IsActive": True}
        for i, (n, c) in enumerate([("Open", "#1976D2"), ("In Progress", "#F57C00"),
                                    ("Waiting on Parts", "#7B1FA2"), ("Closed", "#388E3C")])
    ],
    "HistoryCategories": [
        {"HistoryCategoryID": i + 1, "Name": n, "Description": n, "IsActive": True}
        for i, n in enumerate(["General", "Maintenance", "Leasing", "Phone Call"])
    ],
}
_EXTRA_PROPERTIES = [("Forest Avenue Residences", "Forest Ave"), ("Victory Boulevard Gardens", "Victory Blvd"),
                     ("Bay Street Landing", "Bay St"), ("Clove Road Court", "Clove Rd"),
                     ("Hylan Boulevard Towers", "Hylan Blvd"), ("Jewett Avenue Flats", "Jewett Ave"),
                     ("Bard Avenue Homes", "Bard Ave"), ("Watchogue Road Commons", "Watchogue Rd")]
_FIRST = ["Ana", "Luis", "Kevin", "Sofia", "Omar", "Rachel", "Tomasz", "Nia", "Carlos", "Emily", "Hassan", "Mei",
          "Patrick", "Yesenia", "Dmitri", "Chloe", "Andre", "Lucia", "Brian", "Amara", "Victor", "Hannah", "Jamal", "Rosa"]
_LAST = ["Rivera", "Murphy", "Santos", "Cohen", "Ahmed", "Lopez", "Sullivan", "Baptiste", "Wong", "Rossi", "Mendez",
         "Carter", "Singh", "Novak", "Esposito", "Brown", "Diaz", "Kelly", "Hughes", "Ortiz", "Park", "Greene"]
_FORMATS: List[Callable[[str], str]] = [
    lambda d: f"({d[:3]}) {d[3:6]}-{d[6:]}",
    lambda d: f"{d[:3]}.{d[3:6]}.{d[6:]}",
    lambda d: f"{d[:3]}-{d[3:6]}-{d[6:]}",
    lambda d: d,
    lambda d: f"+1 {d[:3]} {d[3:6]} {d[6:]}",
]
_AREAS = ["718", "347", "929", "917", "646", "212", "332", "516", "631", "914", "201", "551", "973", "862", "732"]


def seed(store: Store, tenants: int = DEMO_TENANT_COUNT, location_id: int = 1) -> None:
    """Writes the demo portfolio (and generated extras past 18 tenants) into an empty store."""
    builder = _Builder(store)
    with store.transaction():
        for kind, rows in LOOKUPS.items():
            for row in rows:
                builder.add(kind, {**row, "LocationID": location_id} if kind == "Locations" else row)
        units = [unit for index, spec in enumerate(PROPERTIES) for unit in builder.property(index + 1, *spec)]
        for index, (first, last, unit_id, phones, status) in enumerate(TENANTS[: max(0, tenants)]):
            moved_in = f"20{17 + index % 6}-{index % 12 + 1:02d}-01T00:00:00"
            builder.tenant(first, last, units[unit_id - 1], phones, status, moved_in)
        if tenants > DEMO_TENANT_COUNT:
            _generate(builder, tenants - DEMO_TENANT_COUNT, len(PROPERTIES) + 1)
        for first, last, property_id, phone, comment in PROSPECTS:
            builder.prospect(first, last, property_id, phone, comment)
        _issues_and_notes(builder)
        store.set_meta("seeded_tenants", str(tenants))


class _Builder:
    """Adds records with their ids, contacts and phones; keeps the used numbers unique."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.used_numbers = {digits(p.split("|")[0])[-10:] for t in TENANTS for p in re.split(r"[;&]", t[3])
                             if "|" in p} | {digits(p[3])[-10:] for p in PROSPECTS} | {digits(p[3]) for p in PROPERTIES}

    def add(self, kind: str, doc: Record) -> Record:
        stamped = "CreateDate" in RESOURCES[kind].fields
        return self.store.insert(kind, RESOURCES[kind].key,
                                 {**doc, "CreateDate": _STAMP, "UpdateDate": _STAMP} if stamped else doc)

    def property(self, ident: int, name: str, short: str, street: str, phone: str, units: str) -> List[Record]:
        self.add("Properties", {"PropertyID": ident, "Name": name, "ShortName": short, "IsActive": True,
                                "PropertyType": "Residential"})
        self.add("Addresses", {"AddressTypeID": 1, "Street": street, "City": "Staten Island", "State": "NY",
                               "PostalCode": "10302", "IsPrimary": True, "ParentID": ident, "ParentType": "Property"})
        self.phone(phone, PHONE_WORK, ident, "Property")
        made = []
        for spec in units.split():
            unit_name, beds = spec.split(":")
            bedrooms = int(beds)
            made.append(self.add("Units", {
                "PropertyID": ident, "Name": unit_name, "UnitTypeID": bedrooms + 1, "Bedrooms": bedrooms,
                "Bathrooms": 1.0 if bedrooms < 2 else 1.5 if bedrooms == 2 else 2.0,
                "SquareFootage": 450 + 250 * bedrooms}))
        return made

    def phone(self, number: str, type_id: int, parent_id: int, parent_type: str, extension: str = "",
              primary: bool = True) -> None:
        self.add("PhoneNumbers", {"PhoneNumberTypeID": type_id, "PhoneNumber": number, "Extension": extension or None,
                                  "StrippedPhoneNumber": digits(number), "IsPrimary": primary,
                                  "ParentID": parent_id, "ParentType": parent_type})

    def contact(self, first: str, last: str, phones: str, parent_id: int, parent_type: str, primary: bool) -> None:
        contact = self.add("Contacts", {"FirstName": first, "LastName": last, "IsPrimary": primary,
                                        "ParentID": parent_id, "ParentType": parent_type})
        for index, spec in enumerate(phones.split(";")):
            number, type_id, extension = (spec.split("|") + ["", ""])[:3]
            self.phone(number, int(type_id or PHONE_MOBILE), contact["ContactID"], "Contact", extension, index == 0)

    def tenant(self, first: str, last: str, unit: Record, phones: str, status: str, moved_in: str) -> None:
        own, _, other = phones.partition("&")
        tenant_id = self.store.count("Tenants") + 1
        self.add("Tenants", {"TenantID": tenant_id, "TenantDisplayID": tenant_id, "Name": f"{first} {last}",
                             "FirstName": first, "LastName": last, "PropertyID": unit["PropertyID"],
                             "Status": status, "RentDueDay": 1})
        self.contact(first, last, own, tenant_id, "Tenant", True)
        if other:
            name, _, numbers = other.partition(":")
            self.contact(*name.split(" ", 1), numbers, tenant_id, "Tenant", False)
        moved_out = "2023-12-31T00:00:00" if status == "Past" else None
        self.add("Leases", {"TenantID": tenant_id, "UnitID": unit["UnitID"], "PropertyID": unit["PropertyID"],
                            "MoveInDate": moved_in, "MoveOutDate": moved_out})

    def prospect(self, first: str, last: str, property_id: int, phone: str, comment: str) -> None:
        prospect = self.add("Prospects", {"PropertyID": property_id, "Name": f"{first} {last}", "FirstName": first,
                                          "LastName": last, "Comment": comment, "ProspectStatus": "Active"})
        self.contact(first, last, f"{phone}|{PHONE_MOBILE}", prospect["ProspectID"], "Prospect", True)


def _fresh_numbers(rng: random.Random, used: set) -> Iterator[str]:
    """Ten-digit numbers nobody has: the fictional 555-01xx lines first (shuffled), then the rest."""
    fictional = [f"{a}55501{n:02d}" for a in _AREAS for n in range(100)]
    rng.shuffle(fictional)
    rest = (f"{a}555{n:04d}" for n in range(200, 10000) for a in _AREAS)
    for number in [*fictional, *rest]:
        if number not in used:
            used.add(number)
            yield number


def _generate(builder: _Builder, extra: int, first_property: int) -> None:
    """Extra properties of up to 40 units, one unit in ten left vacant, a tenant in each other unit."""
    rng = random.Random(20240501)
    numbers = _fresh_numbers(rng, builder.used_numbers)
    units_needed = extra + math.ceil(extra / 10)
    names = [f"{floor}{letter}" for floor in range(1, 11) for letter in "ABCD"]
    units: List[Record] = []
    for offset in range(math.ceil(units_needed / len(names))):
        name, street = _EXTRA_PROPERTIES[offset % len(_EXTRA_PROPERTIES)]
        lap = offset // len(_EXTRA_PROPERTIES)
        name = name if lap == 0 else f"{name} {lap + 1}"
        count = min(len(names), units_needed - len(units))
        spec = " ".join(f"{n}:{rng.randint(0, 3)}" for n in names[:count])
        units += builder.property(first_property + offset, name, f"G{offset + 1}", f"{100 + 7 * offset} {street}",
                                  OFFICE_PHONE, spec)
    vacant = set(range(10, len(units), 11)[: units_needed - extra])
    occupied = [unit for index, unit in enumerate(units) if index not in vacant][:extra]
    for index, unit in enumerate(occupied):
        number = next(numbers)
        phone = rng.choice(_FORMATS)(number)
        moved_in = f"20{15 + index % 9}-{rng.randint(1, 12):02d}-01T00:00:00"
        builder.tenant(rng.choice(_FIRST), rng.choice(_LAST), unit, f"{phone}|{PHONE_MOBILE}", "Current", moved_in)


def _issues_and_notes(builder: _Builder) -> None:
    """Two existing work orders and two history notes, so lists are not empty on a fresh demo."""
    builder.add("ServiceManagerIssues", {
        "ServiceManagerIssueID": 5340, "Title": "Hallway light out on 3rd floor",
        "Description": "Reported by the super during the weekly walk-through.", "CategoryID": 2, "PriorityID": 4,
        "StatusID": 4, "IsClosed": True, "CloseDate": "2024-03-04T15:30:00", "AssignedOpenDate": "2024-03-01T10:00:00",
        "IsCustomerInitiated": False})
    builder.add("ServiceManagerIssues", {
        "ServiceManagerIssueID": 5341, "Title": "Dishwasher not draining",
        "Description": "Tenant says water stays in the bottom after a cycle.", "CategoryID": 4, "PriorityID": 3,
        "StatusID": 1, "IsClosed": False, "AssignedOpenDate": "2024-04-22T09:15:00", "IsCustomerInitiated": True})
    links = [(5340, "Property", 1)]
    if builder.store.exists("Tenants", 3):
        links += [(5341, "Tenant", 3), (5341, "Unit", 2), (5341, "Property", 1)]
    for issue_id, entity_type, entity_id in links:
        link(builder.store, issue_id, entity_type, entity_id)
    if builder.store.exists("Tenants", 1):
        builder.add("HistoryNotes", {"HistoryCategoryID": 1, "HistoryDate": "2024-01-10T00:00:00",
                                     "Note": "Lease renewed for 12 months.", "ParentID": 1, "EntityType": "Tenant",
                                     "IsPinned": False})
    builder.add("HistoryNotes", {"HistoryCategoryID": 3, "HistoryDate": "2024-04-02T00:00:00",
                                 "Note": "Toured unit 4A; will apply after the weekend.", "ParentID": 1,
                                 "EntityType": "Prospect", "IsPinned": False})

