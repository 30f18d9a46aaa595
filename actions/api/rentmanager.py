"""The Rent Manager 12 Web API client used by the action server.

Every call passes through `RentManagerClient.request`: base URL, the API token header,
timeouts, retries with backoff on connection errors and 5xx (never on 4xx), one re-login
when a token has expired, and typed errors. The facts about the API it relies on are in
shared/reference/rentmanager.md; the details marked unverified there are kept in the
constants below so they are easy to correct.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, List, Mapping, Optional

import httpx

from actions.api.rentmanager_errors import (
    RentManagerAuthError,
    RentManagerError,
    RentManagerNotFound,
    RentManagerRequestError,
    RentManagerUnavailable,
    error_message,
)

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-RM12Api-ApiToken"
LOCATION_HEADER = "X-RM12Api-LocationID"
MAX_PAGE_SIZE = 1000
# [unverified] in the reference: links in the POST body and the history-note body shape.
ISSUE_TENANT_LINK_FIELD = "LinkedTenants"
ISSUE_UNIT_LINK_FIELD = "LinkedUnits"
ISSUE_PROPERTY_LINK_FIELD = "LinkedProperties"
PHONE_TYPE_MOBILE = 3
# Where our idempotency reference travels on each kind of record (searched with `ct`).
REFERENCE_FIELD = {"ServiceManagerIssues": "Description", "HistoryNotes": "Note", "Prospects": "Comment"}


@dataclass(frozen=True)
class ServiceIssue:
    """What a maintenance request needs to become a Rent Manager service issue."""

    title: str
    description: str
    category_id: int
    priority_id: int
    tenant_id: Optional[int] = None
    unit_id: Optional[int] = None
    property_id: Optional[int] = None
    status_id: Optional[int] = None

    def body(self) -> Dict[str, Any]:
        item: Dict[str, Any] = {
            "Title": self.title[:100],
            "Description": self.description,
            "CategoryID": self.category_id,
            "PriorityID": self.priority_id,
            "IsCustomerInitiated": True,
        }
        if self.status_id is not None:
            item["StatusID"] = self.status_id
        if self.tenant_id is not None:
            item[ISSUE_TENANT_LINK_FIELD] = [{"TenantID": self.tenant_id}]
        if self.unit_id is not None:
            item[ISSUE_UNIT_LINK_FIELD] = [{"UnitID": self.unit_id}]
        if self.property_id is not None:
            item[ISSUE_PROPERTY_LINK_FIELD] = [{"PropertyID": self.property_id}]
        return item


@dataclass
class Lookups:
    """Names of categories, priorities, statuses and history categories mapped to their ids."""

    categories: Dict[str, int] = field(default_factory=dict)
    priorities: Dict[str, int] = field(default_factory=dict)
    statuses: Dict[str, int] = field(default_factory=dict)
    history_categories: Dict[str, int] = field(default_factory=dict)

    @staticmethod
    def pick(table: Mapping[str, int], name: str, what: str) -> int:
        """The id of `name` (case-insensitive), or an error naming what Rent Manager does have."""
        wanted = name.strip().lower()
        for known, ident in table.items():
            if known.lower() == wanted:
                return ident
        raise RentManagerRequestError(
            f"Rent Manager has no {what} named {name!r}; it has: {', '.join(sorted(table)) or 'none'}."
        )


class RentManagerClient:
    """Async Rent Manager client; one instance per process, shared by all calls."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        location_id: Optional[int] = None,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.25,
        transport: Optional[httpx.AsyncBaseTransport] = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required (e.g. https://yourcompany.api.rentmanager.com)")
        self.base_url = base_url.rstrip("/")
        self._username = username
        self._password = password
        self.location_id = location_id
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout, transport=transport)
        self._token: Optional[str] = None
        self._login_lock = asyncio.Lock()
        self._lookups: Optional[Lookups] = None

    @classmethod
    def from_settings(cls, settings: Any) -> "RentManagerClient":
        return cls(
            settings.base_url,
            settings.username,
            settings.password,
            settings.location_id,
            timeout=settings.timeout,
        )

    async def aclose(self) -> None:
        """Frees the token (Rent Manager allows ten per user) and the connections."""
        token, self._token = self._token, None
        if token:
            try:
                await self._send("POST", "/Authentication/DeAuthorize", params={"token": token}, auth=False)
            except RentManagerError:
                pass
        await self._http.aclose()

    # -- the one request method ---------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        json_body: Any = None,
    ) -> httpx.Response:
        """Sends one API call with the token, re-logging in once if the token has expired."""
        if self._token is None:
            await self.login()
        token = self._token
        try:
            return await self._send(method, path, params=params, json_body=json_body)
        except RentManagerAuthError as exc:
            if exc.status != 401:
                raise
            logger.info("rentmanager.token.expired path=%s", path)
            await self.login(stale=token)
            return await self._send(method, path, params=params, json_body=json_body)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Optional[Mapping[str, Any]] = None,
        json_body: Any = None,
        auth: bool = True,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if auth and self._token:
            headers[TOKEN_HEADER] = self._token
        if self.location_id is not None:
            headers[LOCATION_HEADER] = str(self.location_id)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(method, path, params=params, json=json_body, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Nothing reached Rent Manager: safe to retry any verb.
                error: RentManagerError = RentManagerUnavailable(
                    f"cannot connect to Rent Manager at {self.base_url}: {type(exc).__name__}", path=path
                )
            except httpx.TransportError as exc:
                # Sent, but no answer: a read may be retried, a write might have been applied.
                uncertain = method.upper() != "GET"
                error = RentManagerUnavailable(
                    f"no answer from Rent Manager for {method} {path}: {type(exc).__name__}",
                    path=path,
                    uncertain=uncertain,
                )
                if uncertain:
                    logger.warning("rentmanager.request.uncertain method=%s path=%s", method, path)
                    raise error from exc
            else:
                if response.status_code < 400:
                    return response
                error = self._error_for(response, path)
                if not isinstance(error, RentManagerUnavailable):
                    raise error
            if attempt > self.retries:
                logger.warning("rentmanager.request.failed method=%s path=%s error=%s", method, path, error)
                raise error
            delay = self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random())
            logger.info("rentmanager.request.retry method=%s path=%s attempt=%d", method, path, attempt)
            await asyncio.sleep(delay)

    @staticmethod
    def _error_for(response: httpx.Response, path: str) -> RentManagerError:
        body = _decode(response)
        message = f"Rent Manager answered {response.status_code} to {path}: {error_message(body)}"
        status = response.status_code
        if status in (401, 403):
            return RentManagerAuthError(message, status=status, path=path)
        if status == 404:
            return RentManagerNotFound(message, status=status, path=path)
        if status == 429 or status >= 500:
            return RentManagerUnavailable(message, status=status, path=path)
        return RentManagerRequestError(message, status=status, path=path)

    async def login(self, stale: Optional[str] = None) -> None:
        """Gets a token; concurrent callers share one login (Rent Manager caps live tokens)."""
        async with self._login_lock:
            if self._token is not None and self._token != stale:
                return
            body: Dict[str, Any] = {"Username": self._username, "Password": self._password}
            if self.location_id is not None:
                body["LocationID"] = self.location_id
            response = await self._send("POST", "/Authentication/AuthorizeUser", json_body=body, auth=False)
            token = _decode(response)
            if not isinstance(token, str) or not token:
                raise RentManagerAuthError("Rent Manager's login answered no token", path=response.url.path)
            self._token = token.strip().strip('"')
            logger.info("rentmanager.login.ok")

    # -- reads --------------------------------------------------------------------------

    async def get_json(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Any:
        response = await self.request("GET", path, params=params)
        if response.status_code == 204:
            return []
        return _decode(response)

    async def list_all(self, resource: str, **query: Any) -> List[Dict[str, Any]]:
        """Every record of a collection, page by page; 204 or 404 on a collection is empty."""
        records: List[Dict[str, Any]] = []
        page = 1
        while True:
            params = {k: v for k, v in query.items() if v}
            params.update({"pagesize": MAX_PAGE_SIZE, "pagenumber": page})
            try:
                response = await self.request("GET", f"/{resource}", params=params)
            except RentManagerNotFound:
                return records
            if response.status_code == 204:
                return records
            batch = _decode(response) or []
            records.extend(batch)
            total = _int_header(response, "X-Total-Results")
            if len(batch) < MAX_PAGE_SIZE or (total is not None and len(records) >= total):
                return records
            page += 1

    async def get_record(self, resource: str, ident: int, embeds: str = "") -> Dict[str, Any]:
        params = {"embeds": embeds} if embeds else None
        return await self.get_json(f"/{resource}/{ident}", params)

    async def lookups(self, refresh: bool = False) -> Lookups:
        """Category, priority, status and history-category ids by name (cached)."""
        if self._lookups is None or refresh:
            tables = await asyncio.gather(
                self.list_all("ServiceManagerCategories"),
                self.list_all("ServiceManagerPriorities"),
                self.list_all("ServiceManagerStatuses"),
                self.list_all("HistoryCategories"),
            )
            keys = ("ServiceManagerCategoryID", "ServiceManagerPriorityID", "ServiceManagerStatusID", "HistoryCategoryID")
            maps = [{row["Name"]: row[key] for row in rows if "Name" in row} for rows, key in zip(tables, keys)]
            self._lookups = Lookups(*maps)
        return self._lookups

    async def vacant_units(self) -> List[Dict[str, Any]]:
        units = await self.list_all("Units", embeds="IsVacant")
        return [unit for unit in units if unit.get("IsVacant")]

    async def find_by_reference(self, resource: str, reference: str, parent: str = "") -> Optional[Dict[str, Any]]:
        """The record whose reference field contains our idempotency reference, if any."""
        field_name = REFERENCE_FIELD[resource]
        path = f"{parent}/{resource}" if parent else resource
        rows = await self.list_all(path.lstrip("/"), filters=f"{field_name},ct,{reference}")
        return rows[0] if rows else None

    # -- writes (called by the outbox, which records them first) ------------------------

    async def create_service_issue(self, issue: ServiceIssue) -> Dict[str, Any]:
        response = await self.request("POST", "/ServiceManagerIssues", json_body=[issue.body()])
        return _first(_decode(response), "ServiceManagerIssues")

    async def add_history_note(
        self, entity: str, entity_id: int, note: str, category_id: Optional[int] = None, when: Optional[date] = None
    ) -> Dict[str, Any]:
        """Adds a history note (our call log) to a tenant or a prospect."""
        if entity not in ("Tenants", "Prospects"):
            raise ValueError(f"history notes go on Tenants or Prospects, not {entity!r}")
        item: Dict[str, Any] = {"HistoryDate": (when or date.today()).isoformat(), "Note": note}
        if category_id is not None:
            item["HistoryCategoryID"] = category_id
        response = await self.request("POST", f"/{entity}/{entity_id}/HistoryNotes", json_body=[item])
        return _first(_decode(response), "HistoryNotes")

    async def create_prospect(
        self,
        property_id: int,
        last_name: str,
        first_name: str = "",
        phone: str = "",
        comment: str = "",
    ) -> Dict[str, Any]:
        item: Dict[str, Any] = {"PropertyID": property_id, "LastName": last_name or "Caller"}
        if first_name:
            item["FirstName"] = first_name
        if comment:
            item["Comment"] = comment
        if phone:
            item["Contacts"] = [
                {
                    "IsPrimary": True,
                    "FirstName": first_name,
                    "LastName": last_name,
                    "PhoneNumbers": [{"PhoneNumberTypeID": PHONE_TYPE_MOBILE, "PhoneNumber": phone, "IsPrimary": True}],
                }
            ]
        response = await self.request("POST", "/Prospects", json_body=[item])
        return _first(_decode(response), "Prospects")


def _decode(response: httpx.Response) -> Any:
    """JSON of a response, tolerating a BOM and an empty body."""
    text = response.content.decode("utf-8-sig", errors="replace").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _first(body: Any, what: str) -> Dict[str, Any]:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0]
    if isinstance(body, dict):
        return body
    raise RentManagerRequestError(f"Rent Manager's answer to a {what} write carried no record: {str(body)[:200]}")


def _int_header(response: httpx.Response, name: str) -> Optional[int]:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None
