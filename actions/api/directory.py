"""Who is calling: current tenants (with unit and property) indexed by phone number.

Rent Manager cannot be asked "whose number is this?" reliably (a server filter on
StrippedPhoneNumber is unverified), and scanning every tenant on each call would cost
seconds on a large portfolio. So the directory loads all current tenants once, indexes
their numbers, and refreshes the index in the background; a lookup is a dict access.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

from actions.api.phones import phone_key
from actions.api.rentmanager import RentManagerClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Caller:
    """A known tenant as the conversation needs them."""

    tenant_id: int
    first_name: str
    last_name: str
    name: str
    property_id: Optional[int]
    property_name: str
    unit_id: Optional[int]
    unit_name: str


@dataclass(frozen=True)
class Prospect:
    prospect_id: int
    first_name: str
    last_name: str
    property_id: Optional[int]


def phone_keys(record: Dict[str, Any]) -> Iterable[str]:
    """Every phone key on a tenant's or prospect's embedded Contacts.PhoneNumbers."""
    for contact in record.get("Contacts") or []:
        for number in contact.get("PhoneNumbers") or []:
            key = phone_key(number.get("StrippedPhoneNumber") or number.get("PhoneNumber"))
            if key:
                yield key


def open_lease(leases: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The lease with no move-out date (the current one), else the latest."""
    if not leases:
        return None
    current = [lease for lease in leases if not lease.get("MoveOutDate")]
    pool = current or leases
    return max(pool, key=lambda lease: str(lease.get("MoveInDate") or ""))


class CallerDirectory:
    """Phone-number index of current tenants, refreshed every `ttl` seconds."""

    def __init__(self, client: RentManagerClient, ttl: float = 300.0) -> None:
        self.client = client
        self.ttl = ttl
        self._by_phone: Dict[str, Caller] = {}
        self._loaded_at: Optional[float] = None
        self._refresh_lock = asyncio.Lock()
        self._background: Optional[asyncio.Task] = None

    @property
    def size(self) -> int:
        return len(self._by_phone)

    async def refresh(self) -> None:
        """Rebuilds the index from Rent Manager; the old one serves lookups meanwhile."""
        async with self._refresh_lock:
            started = time.monotonic()
            tenants, units, properties = await asyncio.gather(
                self.client.list_all(
                    "Tenants", filters="Status,eq,Current", embeds="Contacts.PhoneNumbers,Leases"
                ),
                self.client.list_all("Units"),
                self.client.list_all("Properties"),
            )
            unit_names = {u["UnitID"]: u.get("Name", "") for u in units}
            property_names = {p["PropertyID"]: p.get("Name", "") for p in properties}
            index: Dict[str, Caller] = {}
            for tenant in tenants:
                lease = open_lease(tenant.get("Leases") or [])
                unit_id = lease.get("UnitID") if lease else None
                property_id = (lease or {}).get("PropertyID") or tenant.get("PropertyID")
                caller = Caller(
                    tenant_id=tenant["TenantID"],
                    first_name=tenant.get("FirstName") or "",
                    last_name=tenant.get("LastName") or "",
                    name=tenant.get("Name") or "",
                    property_id=property_id,
                    property_name=property_names.get(property_id, ""),
                    unit_id=unit_id,
                    unit_name=unit_names.get(unit_id, ""),
                )
                for key in phone_keys(tenant):
                    index.setdefault(key, caller)
            self._by_phone = index
            self._loaded_at = time.monotonic()
            logger.info(
                "rentmanager.directory.refreshed tenants=%d numbers=%d ms=%.0f",
                len(tenants), len(index), (time.monotonic() - started) * 1000,
            )

    def _stale(self) -> bool:
        return self._loaded_at is None or time.monotonic() - self._loaded_at > self.ttl

    async def find_tenant(self, phone: str) -> Optional[Caller]:
        """The current tenant with this number, or None (a prospect, or an unknown caller)."""
        if self._loaded_at is None:
            await self.refresh()
        elif self._stale():
            self.refresh_soon()
        key = phone_key(phone)
        return self._by_phone.get(key) if key else None

    def refresh_soon(self) -> None:
        """Starts a background refresh unless one is already running."""
        if self._background is None or self._background.done():
            self._background = asyncio.ensure_future(self._refresh_quietly())

    async def _refresh_quietly(self) -> None:
        try:
            await self.refresh()
        except Exception as exc:  # the old index keeps serving; next lookup tries again
            logger.warning("rentmanager.directory.refresh_failed error=%s", exc)

    async def run_refresher(self) -> None:
        """Keeps the index fresh for as long as the process runs."""
        while True:
            await self._refresh_quietly()
            await asyncio.sleep(self.ttl)

    async def find_prospect(self, phone: str) -> Optional[Prospect]:
        """A prospect already on file with this number (prospects are few; no index)."""
        key = phone_key(phone)
        if not key:
            return None
        for row in await self.client.list_all("Prospects", embeds="Contacts.PhoneNumbers"):
            if key in set(phone_keys(row)):
                return Prospect(
                    prospect_id=row["ProspectID"],
                    first_name=row.get("FirstName") or "",
                    last_name=row.get("LastName") or "",
                    property_id=row.get("PropertyID"),
                )
        return None
