"""Writes about the caller (history notes, prospects) through the outbox, tenant or not."""
from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Optional

from rasa_sdk import Tracker

from actions.services import get_services
from actions.voice import property_file

logger = logging.getLogger(__name__)
PROSPECT_LOOKUP_SECONDS = 1.5


def call_reference(tracker: Tracker, kind: str = "CALL") -> str:
    """A stable outbox reference for this conversation (the CallSid on the phone)."""
    digest = hashlib.sha1(tracker.sender_id.encode("utf-8")).hexdigest()[:16].upper()
    return f"PA-{kind}-{digest}"


async def default_property_id() -> Optional[int]:
    """The first active property: where a new prospect is filed when no unit is known."""
    services = get_services()
    properties = await services.rentmanager.list_all("Properties")
    active = [p for p in properties if p.get("IsActive", True)]
    return (active or properties or [{}])[0].get("PropertyID")


async def prospect_reference(tracker: Tracker, name: Optional[str]) -> tuple:
    """("Prospects", id, None) for a prospect on file, else ("Prospects", None, outbox ref) of a new one."""
    services = get_services()
    phone = tracker.get_slot("caller_phone")
    if phone:
        try:
            found = await asyncio.wait_for(services.directory.find_prospect(phone), PROSPECT_LOOKUP_SECONDS)
        except Exception as exc:
            logger.warning("records.prospect_lookup_failed error=%s", type(exc).__name__)
            found = None
        if found:
            return found.prospect_id, None
    parts = (name or "").split()
    try:
        property_id = tracker.get_slot("property_id") or await asyncio.wait_for(default_property_id(), 2.0)
    except Exception:
        property_id = 1
    entry = await services.outbox.submit(
        "prospect",
        {"property_id": property_id, "first_name": parts[0] if len(parts) > 1 else "",
         "last_name": parts[-1] if parts else "Caller", "phone": phone or "",
         "comment": f"Called the office line; recorded by the virtual assistant {property_file().persona_name}."},
        reference=call_reference(tracker, "PROS"), wait=1.0,
    )
    return entry.record_id, entry.reference


async def file_history_for_caller(
    tracker: Tracker, note: str, *, name: Optional[str] = None, reference: Optional[str] = None,
    suffix: str = "NOTE", wait: float = 1.0,
) -> str:
    """A history note on the calling tenant, or on the caller's prospect record (created if new)."""
    services = get_services()
    category = property_file().history_category
    reference = reference or call_reference(tracker, suffix)
    tenant_id = tracker.get_slot("tenant_id")
    if tenant_id:
        payload = {"entity": "Tenants", "entity_id": int(tenant_id), "note": note, "category": category}
        entry = await services.outbox.submit("history_note", payload, reference=reference, wait=wait)
        return entry.reference
    prospect_id, depends_on = await prospect_reference(tracker, name)
    payload = {"entity": "Prospects", "entity_id": prospect_id, "note": note, "category": category}
    entry = await services.outbox.submit(
        "history_note", payload, reference=reference, depends_on=None if prospect_id else depends_on, wait=wait
    )
    return entry.reference
