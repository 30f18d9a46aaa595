"""Writes the API accepts: service issues (and their links), prospects, history notes.

Why validate before writing: a list POST is all-or-nothing on the real API, and a client needs
the same 400 for a blank title or an unknown id here as there, with nothing half-saved.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Tuple

from standins.rentmanager.errors import invalid, not_found
from standins.rentmanager.query import normalize_datetime
from standins.rentmanager.schema import ISSUE_LINKS, RESOURCES
from standins.rentmanager.store import Record, Store

ISSUE_FIELDS = ("Title", "Description", "CategoryID", "PriorityID", "StatusID", "AssignedToUserID", "IsClosed",
                "AssignedOpenDate", "DueDate", "IsCustomerInitiated")
# Body key -> (link EntityType, resource, id field)
ISSUE_LINK_KEYS = {
    "LinkedTenants": ("Tenant", "Tenants", "TenantID"),
    "LinkedUnits": ("Unit", "Units", "UnitID"),
    "LinkedProperties": ("Property", "Properties", "PropertyID"),
}
PROSPECT_FIELDS = ("PropertyID", "FirstName", "LastName", "Comment", "LeadSourceID", "MoveInDate")
NOTE_FIELDS = ("HistoryCategoryID", "HistoryDate", "Note", "IsPinned")
# Foreign keys checked on write: field -> (resource, what to call it in a message)
REFERENCES = {
    "CategoryID": ("ServiceManagerCategories", "Service Manager category"),
    "PriorityID": ("ServiceManagerPriorities", "Service Manager priority"),
    "StatusID": ("ServiceManagerStatuses", "Service Manager status"),
    "PropertyID": ("Properties", "property"),
    "HistoryCategoryID": ("HistoryCategories", "history category"),
    "PhoneNumberTypeID": ("PhoneNumberTypes", "phone number type"),
}
CLOSING_STATUSES = ("closed",)
PHONE_MOBILE = 3


def digits(phone: str) -> str:
    """StrippedPhoneNumber: the digits of the number as stored (reference §3)."""
    return re.sub(r"\D", "", phone)


def now_stamp() -> str:
    return datetime.now().replace(microsecond=0).isoformat()


def items_of(body: Any) -> List[Dict[str, Any]]:
    """A POST body as a list of objects (the API takes a list; one object is read as a list of one)."""
    items = [body] if isinstance(body, dict) else body
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise invalid("The request body must be a JSON list of one or more objects.")
    return items


def _canon(item: Dict[str, Any], names: Iterable[str]) -> Dict[str, Any]:
    """Body keys in their canonical case (the API's JSON reader ignores case); unknown keys dropped."""
    lookup = {name.lower(): name for name in names}
    return {lookup[key.lower()]: value for key, value in item.items() if key.lower() in lookup}


def _typed(store: Store, resource: str, item: Dict[str, Any]) -> Dict[str, Any]:
    """Values converted to the field types, and foreign ids checked to exist."""
    kinds = RESOURCES[resource].fields
    out: Dict[str, Any] = {}
    for name, value in item.items():
        kind = kinds.get(name, "")
        if value is None or kind == "":
            out[name] = value
            continue
        try:
            out[name] = _convert(value, kind)
        except (TypeError, ValueError):
            raise invalid(f"Could not read {name}: {value!r} is not a valid {kind}.") from None
        if name in REFERENCES and not store.exists(REFERENCES[name][0], out[name]):
            raise invalid(f"Invalid {name}: {out[name]} is not a {REFERENCES[name][1]}.")
    return out


def _convert(value: Any, kind: str) -> Any:
    if kind == "int":
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        return int(value)
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise ValueError
    if kind == "decimal":
        return float(value)
    if kind == "date":
        return normalize_datetime(str(value))
    if isinstance(value, (dict, list)):
        raise TypeError
    return str(value)


def _existing(store: Store, resource: str, item: Dict[str, Any]) -> Optional[Record]:
    """The record an item updates (its id is set), None for a new one; 404 for an unknown id."""
    key = RESOURCES[resource].key
    ident = next((v for k, v in item.items() if k.lower() == key.lower()), None)
    if ident is None:
        return None
    try:
        record = store.get(resource, _convert(ident, "int"))
    except (TypeError, ValueError):
        record = None
    if record is None:
        raise not_found(RESOURCES[resource].label, ident)
    return record


def _save(store: Store, resource: str, record: Record, existing: Optional[Record]) -> Record:
    stamp = now_stamp()
    record["UpdateDate"] = stamp
    if existing is None:
        record["CreateDate"] = stamp
        return store.insert(resource, RESOURCES[resource].key, record)
    store.replace(resource, record[RESOURCES[resource].key], record)
    return record


# -- service issues ----------------------------------------------------------------------


def is_closing_status(store: Store, status_id: Any) -> bool:
    row = store.get("ServiceManagerStatuses", status_id) if isinstance(status_id, int) else None
    return bool(row and str(row.get("Name", "")).lower() in CLOSING_STATUSES)


def _named_id(store: Store, resource: str, name: str) -> Optional[int]:
    key = RESOURCES[resource].key
    return next((row[key] for row in store.all(resource) if str(row.get("Name", "")).lower() == name), None)


def prepare_issue(store: Store, item: Dict[str, Any]) -> Tuple[Record, List[Tuple[str, int]], Optional[Record]]:
    """The issue record to save, its links, and the record it replaces (None for a new issue)."""
    existing = _existing(store, "ServiceManagerIssues", item)
    body = _canon(item, ISSUE_FIELDS + tuple(ISSUE_LINK_KEYS))
    if not isinstance(body.get("Title"), str) or not body["Title"].strip():
        raise invalid("Issue cannot be blank.")
    links = []
    for key, (entity_type, resource, id_field) in ISSUE_LINK_KEYS.items():
        for entry in body.pop(key, None) or []:
            ident = _canon(entry, [id_field]).get(id_field) if isinstance(entry, dict) else None
            if not store.exists(resource, ident):
                raise invalid(f"Invalid {key}: {id_field} {ident!r} is not a {RESOURCES[resource].label.lower()}.")
            links.append((entity_type, ident))
    record = dict(existing or {"StatusID": _named_id(store, "ServiceManagerStatuses", "open"),
                               "PriorityID": _named_id(store, "ServiceManagerPriorities", "normal"),
                               "IsClosed": False, "IsCustomerInitiated": False, "AssignedOpenDate": now_stamp()})
    record.update(_typed(store, "ServiceManagerIssues", body))
    _close_or_reopen(store, record, body, existing)
    return record, links, existing


def _close_or_reopen(store: Store, record: Record, body: Dict[str, Any], existing: Optional[Record]) -> None:
    """Closing works by IsClosed or by a closing StatusID; either sets the other and CloseDate."""
    if "StatusID" in body:
        record["IsClosed"] = is_closing_status(store, record["StatusID"])
    elif record.get("IsClosed") and not is_closing_status(store, record.get("StatusID")):
        record["StatusID"] = next((row["ServiceManagerStatusID"] for row in store.all("ServiceManagerStatuses")
                                   if is_closing_status(store, row["ServiceManagerStatusID"])), record.get("StatusID"))
    elif "IsClosed" in body and not record["IsClosed"] and is_closing_status(store, record.get("StatusID")):
        record["StatusID"] = _named_id(store, "ServiceManagerStatuses", "open")
    was_closed = bool(existing and existing.get("IsClosed"))
    if record.get("IsClosed") and not was_closed:
        record["CloseDate"] = now_stamp()
    elif not record.get("IsClosed"):
        record.pop("CloseDate", None)


def save_issues(store: Store, body: Any) -> List[Record]:
    prepared = [prepare_issue(store, item) for item in items_of(body)]
    saved = []
    with store.transaction():
        for record, links, existing in prepared:
            record = _save(store, "ServiceManagerIssues", record, existing)
            for entity_type, ident in links:
                link(store, record["ServiceManagerIssueID"], entity_type, ident)
            saved.append(record)
    return saved


def link(store: Store, issue_id: int, entity_type: str, entity_id: int) -> None:
    """Links a record to a service issue once (linking twice changes nothing)."""
    wanted = (issue_id, entity_type, entity_id)
    if any((r["ServiceManagerIssueID"], r["EntityType"], r["EntityID"]) == wanted for r in store.all(ISSUE_LINKS)):
        return
    store.insert(ISSUE_LINKS, "ServiceManagerIssueLinkID",
                 {"ServiceManagerIssueID": issue_id, "EntityType": entity_type, "EntityID": entity_id})


def link_by_route(store: Store, issue_id: int, entity_type: str, raw_id: Optional[str]) -> Record:
    """`POST /ServiceManagerIssues/{id}/LinkUnit?unitID=` and its tenant and property twins."""
    issue = store.get("ServiceManagerIssues", issue_id)
    if issue is None:
        raise not_found("Service issue", issue_id)
    resource = {"Tenant": "Tenants", "Unit": "Units", "Property": "Properties"}[entity_type]
    id_field = RESOURCES[resource].key
    ident = int(raw_id) if raw_id and raw_id.strip().isdigit() else None
    if ident is None or not store.exists(resource, ident):
        raise invalid(f"Invalid {id_field}: {raw_id!r} is not a {RESOURCES[resource].label.lower()}.")
    with store.transaction():
        link(store, issue_id, entity_type, ident)
    return issue


# -- prospects ---------------------------------------------------------------------------


def _contacts(store: Store, raw: Any, first: str, last: str) -> List[Tuple[Record, List[Record]]]:
    """Nested `Contacts:[{..., PhoneNumbers:[{PhoneNumberTypeID, PhoneNumber}]}]`, checked."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        raise invalid("Contacts must be a list of objects.")
    contacts = []
    for index, item in enumerate(raw):
        contact = _typed(store, "Contacts", _canon(item, ("FirstName", "LastName", "IsPrimary", "Email")))
        contact = {"FirstName": first or None, "LastName": last, "IsPrimary": index == 0, **contact}
        phones = []
        for phone_item in _canon(item, ["PhoneNumbers"]).get("PhoneNumbers") or []:
            if not isinstance(phone_item, dict):
                raise invalid("PhoneNumbers must be a list of objects.")
            phone = _typed(store, "PhoneNumbers", _canon(phone_item, ("PhoneNumberTypeID", "PhoneNumber", "Extension",
                                                                      "IsPrimary")))
            if not str(phone.get("PhoneNumber") or "").strip():
                raise invalid("PhoneNumber cannot be blank.")
            phone.setdefault("PhoneNumberTypeID", PHONE_MOBILE)
            phone.setdefault("IsPrimary", not phones)
            phone["StrippedPhoneNumber"] = digits(phone["PhoneNumber"])
            phones.append(phone)
        contacts.append((contact, phones))
    return contacts


def save_prospects(store: Store, body: Any) -> List[Record]:
    prepared = []
    for item in items_of(body):
        existing = _existing(store, "Prospects", item)
        fields = _typed(store, "Prospects", _canon(item, PROSPECT_FIELDS))
        record = {**(existing or {"ProspectStatus": "Active"}), **fields}
        if record.get("PropertyID") is None:
            raise invalid("PropertyID is required.")
        if not str(record.get("LastName") or "").strip():
            raise invalid("LastName is required.")
        record["Name"] = " ".join(p for p in (record.get("FirstName"), record["LastName"]) if p)
        contacts = _contacts(store, _canon(item, ["Contacts"]).get("Contacts"), record.get("FirstName") or "",
                             record["LastName"])
        prepared.append((record, contacts, existing))
    saved = []
    with store.transaction():
        for record, contacts, existing in prepared:
            record = _save(store, "Prospects", record, existing)
            for contact, phones in contacts:
                contact.update(ParentID=record["ProspectID"], ParentType="Prospect")
                contact = store.insert("Contacts", "ContactID", contact)
                for phone in phones:
                    phone.update(ParentID=contact["ContactID"], ParentType="Contact")
                    store.insert("PhoneNumbers", "PhoneNumberID", phone)
            saved.append(record)
    return saved


# -- history notes -----------------------------------------------------------------------


def save_history_notes(store: Store, entity_type: str, parent_id: int, body: Any) -> List[Record]:
    """Notes on a tenant or a prospect: `[{"HistoryCategoryID", "HistoryDate", "Note"}]`."""
    parent_resource = "Tenants" if entity_type == "Tenant" else "Prospects"
    if not store.exists(parent_resource, parent_id):
        raise not_found(entity_type, parent_id)
    prepared = []
    for item in items_of(body):
        existing = _existing(store, "HistoryNotes", item)
        if existing and (existing["ParentID"], existing["EntityType"]) != (parent_id, entity_type):
            raise not_found("History note", existing["HistoryID"])
        fields = _typed(store, "HistoryNotes", _canon(item, NOTE_FIELDS))
        record = {**(existing or {"HistoryDate": now_stamp(), "IsPinned": False}), **fields}
        if not str(record.get("Note") or "").strip():
            raise invalid("Note cannot be blank.")
        record.update(ParentID=parent_id, EntityType=entity_type)
        prepared.append((record, existing))
    with store.transaction():
        return [_save(store, "HistoryNotes", record, existing) for record, existing in prepared]
