"""The durable outbox: every Rent Manager write is recorded here before it is sent.

A tenant who reported a leak must never be told "done" while the request sits nowhere.
So a write is first committed to a local database (SQLite by default, any SQLAlchemy URL),
then sent; if Rent Manager is down, slow or answers 5xx, a background worker retries with
backoff until it is accepted. Each write carries a reference ("PA-...") inside the record
itself; before a retry the worker searches Rent Manager for it, so a retry after a lost
answer cannot file a duplicate. A 4xx (bad data) is parked with its error for a person.
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, List, Optional

import sqlalchemy as sa

from actions.api.rentmanager import RentManagerClient, ServiceIssue
from actions.api.rentmanager_errors import (
    RentManagerAuthError,
    RentManagerError,
    RentManagerRequestError,
    RentManagerUnavailable,
)

logger = logging.getLogger(__name__)

PENDING, SENT, PARKED = "pending", "sent", "parked"
KINDS = ("service_issue", "history_note", "prospect")

_metadata = sa.MetaData()
outbox_table = sa.Table(
    "outbox",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reference", sa.String(40), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("depends_on", sa.String(40)),
    sa.Column("status", sa.String(10), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("claimed_until", sa.Float, nullable=False, default=0.0),
    sa.Column("last_error", sa.Text),
    sa.Column("result", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)


@dataclass(frozen=True)
class OutboxEntry:
    reference: str
    kind: str
    payload: Dict[str, Any]
    status: str
    attempts: int
    last_error: Optional[str]
    result: Optional[Dict[str, Any]]
    depends_on: Optional[str]
    created_at: float

    @classmethod
    def from_row(cls, row: Any) -> "OutboxEntry":
        return cls(
            reference=row.reference,
            kind=row.kind,
            payload=json.loads(row.payload),
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            result=json.loads(row.result) if row.result else None,
            depends_on=row.depends_on,
            created_at=row.created_at,
        )

    @property
    def record_id(self) -> Optional[int]:
        """The id Rent Manager gave the record, once sent."""
        if not self.result:
            return None
        for key in ("ServiceManagerIssueID", "HistoryID", "ProspectID"):
            if key in self.result:
                return self.result[key]
        return None


def new_reference() -> str:
    return "PA-" + uuid.uuid4().hex[:12].upper()


def with_reference(text: str, reference: str) -> str:
    """Text that carries the reference, so the record can be found again in Rent Manager."""
    return f"{text.rstrip()}\n[Ref {reference}]" if text.strip() else f"[Ref {reference}]"


def make_engine(database_url: str) -> sa.engine.Engine:
    """An engine for the outbox; SQLite gets WAL and a busy timeout for several processes."""
    if database_url.startswith("sqlite:///") and not database_url.startswith("sqlite:////:memory:"):
        import os

        path = database_url[len("sqlite:///"):]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    engine = sa.create_engine(database_url, future=True, connect_args=_connect_args(database_url))
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    _metadata.create_all(engine)
    return engine


def _connect_args(database_url: str) -> Dict[str, Any]:
    return {"check_same_thread": False, "timeout": 5} if database_url.startswith("sqlite") else {}


class Outbox:
    """Records writes durably, sends them, and retries until Rent Manager has them."""

    def __init__(
        self,
        database_url: str,
        client: RentManagerClient,
        *,
        retry_base: float = 2.0,
        retry_max: float = 300.0,
        lease: float = 60.0,
        concurrency: int = 8,
    ) -> None:
        self.engine = make_engine(database_url)
        self.client = client
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.lease = lease
        self._semaphore = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._senders: Dict[str, Callable[[Dict[str, Any], str], Awaitable[Dict[str, Any]]]] = {
            "service_issue": self._send_issue,
            "history_note": self._send_note,
            "prospect": self._send_prospect,
        }

    # -- recording ----------------------------------------------------------------------

    async def submit(
        self,
        kind: str,
        payload: Dict[str, Any],
        *,
        reference: Optional[str] = None,
        depends_on: Optional[str] = None,
        wait: float = 3.0,
    ) -> OutboxEntry:
        """Commits the write, then tries to send it for up to `wait` seconds.

        The entry is durable before this returns, whatever Rent Manager does; a send
        still running after `wait` carries on in the background. Submitting the same
        reference twice records it once.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown outbox kind {kind!r}; expected one of {KINDS}")
        reference = reference or new_reference()
        # Database work runs in a thread: a durable commit (fsync) must not stall other calls.
        await asyncio.to_thread(self._insert, reference, kind, payload, depends_on)
        logger.info("outbox.recorded kind=%s reference=%s", kind, reference)
        if wait > 0:
            task = asyncio.ensure_future(self.deliver(reference))
            await asyncio.wait({task}, timeout=wait)
        self._wake.set()
        return await asyncio.to_thread(self.get, reference)

    def _insert(self, reference: str, kind: str, payload: Dict[str, Any], depends_on: Optional[str]) -> None:
        now = time.time()
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(outbox_table.c.id).where(outbox_table.c.reference == reference)
            ).first()
            if not exists:
                conn.execute(
                    outbox_table.insert().values(
                        reference=reference, kind=kind, payload=json.dumps(payload), depends_on=depends_on,
                        status=PENDING, attempts=0, next_attempt_at=now, claimed_until=0.0,
                        created_at=now, updated_at=now,
                    )
                )

    def get(self, reference: str) -> OutboxEntry:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(outbox_table).where(outbox_table.c.reference == reference)).first()
        if row is None:
            raise KeyError(reference)
        return OutboxEntry.from_row(row)

    def entries(self, status: Optional[str] = None) -> List[OutboxEntry]:
        query = sa.select(outbox_table).order_by(outbox_table.c.id)
        if status:
            query = query.where(outbox_table.c.status == status)
        with self.engine.connect() as conn:
            return [OutboxEntry.from_row(row) for row in conn.execute(query)]

    def counts(self) -> Dict[str, int]:
        query = sa.select(outbox_table.c.status, sa.func.count()).group_by(outbox_table.c.status)
        with self.engine.connect() as conn:
            found = dict(conn.execute(query).all())
        return {status: found.get(status, 0) for status in (PENDING, SENT, PARKED)}

    def requeue(self, reference: str) -> bool:
        """Puts a parked write back in line (after a person fixed its cause)."""
        with self.engine.begin() as conn:
            done = conn.execute(
                outbox_table.update()
                .where(outbox_table.c.reference == reference, outbox_table.c.status == PARKED)
                .values(status=PENDING, next_attempt_at=time.time(), updated_at=time.time())
            )
        self._wake.set()
        return done.rowcount == 1

    # -- sending --------------------------------------------------------------------------

    def _claim(self, reference: str) -> Optional[Any]:
        """Takes the entry for one attempt; no other worker or process sends it meanwhile."""
        now = time.time()
        with self.engine.begin() as conn:
            claimed = conn.execute(
                outbox_table.update()
                .where(
                    outbox_table.c.reference == reference,
                    outbox_table.c.status == PENDING,
                    outbox_table.c.claimed_until < now,
                )
                .values(claimed_until=now + self.lease, attempts=outbox_table.c.attempts + 1, updated_at=now)
            )
            if claimed.rowcount != 1:
                return None
            return conn.execute(sa.select(outbox_table).where(outbox_table.c.reference == reference)).first()

    def _finish(self, reference: str, **values: Any) -> None:
        values.update(claimed_until=0.0, updated_at=time.time())
        with self.engine.begin() as conn:
            conn.execute(outbox_table.update().where(outbox_table.c.reference == reference).values(**values))

    def _backoff(self, attempts: int) -> float:
        return min(self.retry_max, self.retry_base * (2 ** max(0, attempts - 1))) * random.uniform(0.8, 1.2)

    async def deliver(self, reference: str) -> bool:
        """One attempt at sending one entry; True once Rent Manager has it."""
        async with self._semaphore:
            row = await asyncio.to_thread(self._claim, reference)
            if row is None:
                return False
            entry = OutboxEntry.from_row(row)
            try:
                payload = dict(entry.payload)
                if entry.depends_on:
                    parent = await asyncio.to_thread(self.get, entry.depends_on)
                    if parent.status != SENT:
                        if parent.status == PARKED:
                            raise RentManagerRequestError(f"depends on parked write {parent.reference}")
                        # Not an attempt: wait for the parent without counting it.
                        await asyncio.to_thread(self._finish, reference, attempts=entry.attempts - 1,
                                                next_attempt_at=time.time() + self.retry_base / 2)
                        return False
                    payload["parent_id"] = parent.record_id
                result = await self._send(entry, payload)
            except RentManagerRequestError as exc:
                logger.error("outbox.parked kind=%s reference=%s error=%s", entry.kind, reference, exc)
                await asyncio.to_thread(self._finish, reference, status=PARKED, last_error=str(exc))
                return False
            except (RentManagerUnavailable, RentManagerAuthError, RentManagerError) as exc:
                delay = self.retry_max if isinstance(exc, RentManagerAuthError) else self._backoff(entry.attempts)
                logger.warning(
                    "outbox.retry_later kind=%s reference=%s attempts=%d in=%.1fs error=%s",
                    entry.kind, reference, entry.attempts, delay, exc,
                )
                await asyncio.to_thread(self._finish, reference, last_error=str(exc), next_attempt_at=time.time() + delay)
                return False
            except Exception as exc:  # a bug must not lose the write either
                logger.exception("outbox.unexpected kind=%s reference=%s", entry.kind, reference)
                await asyncio.to_thread(self._finish, reference, last_error=repr(exc),
                                        next_attempt_at=time.time() + self._backoff(entry.attempts))
                return False
            await asyncio.to_thread(self._finish, reference, status=SENT, result=json.dumps(result), last_error=None)
            logger.info("outbox.sent kind=%s reference=%s attempts=%d", entry.kind, reference, entry.attempts)
            return True

    async def _send(self, entry: OutboxEntry, payload: Dict[str, Any]) -> Dict[str, Any]:
        if entry.attempts > 1:
            # An earlier attempt may have reached Rent Manager without our hearing back.
            existing = await self._find_existing(entry, payload)
            if existing is not None:
                logger.info("outbox.already_there kind=%s reference=%s", entry.kind, entry.reference)
                return existing
        return await self._senders[entry.kind](payload, entry.reference)

    async def _find_existing(self, entry: OutboxEntry, payload: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        if entry.kind == "service_issue":
            return await self.client.find_by_reference("ServiceManagerIssues", entry.reference)
        if entry.kind == "prospect":
            return await self.client.find_by_reference("Prospects", entry.reference)
        entity, entity_id = payload["entity"], payload.get("entity_id") or payload.get("parent_id")
        return await self.client.find_by_reference("HistoryNotes", entry.reference, parent=f"{entity}/{entity_id}")

    async def _send_issue(self, payload: Dict[str, Any], reference: str) -> Dict[str, Any]:
        lookups = await self.client.lookups()
        issue = ServiceIssue(
            title=payload["title"],
            description=with_reference(payload.get("description", ""), reference),
            category_id=lookups.pick(lookups.categories, payload["category"], "service issue category"),
            priority_id=lookups.pick(lookups.priorities, payload["priority"], "service issue priority"),
            tenant_id=payload.get("tenant_id"),
            unit_id=payload.get("unit_id"),
            property_id=payload.get("property_id"),
        )
        return await self.client.create_service_issue(issue)

    async def _send_note(self, payload: Dict[str, Any], reference: str) -> Dict[str, Any]:
        lookups = await self.client.lookups()
        category = payload.get("category")
        category_id = lookups.pick(lookups.history_categories, category, "history category") if category else None
        entity_id = payload.get("entity_id") or payload.get("parent_id")
        if not entity_id:
            raise RentManagerRequestError("history note has no tenant or prospect id to attach to")
        return await self.client.add_history_note(
            payload["entity"], int(entity_id), with_reference(payload["note"], reference), category_id
        )

    async def _send_prospect(self, payload: Dict[str, Any], reference: str) -> Dict[str, Any]:
        return await self.client.create_prospect(
            property_id=payload["property_id"],
            last_name=payload.get("last_name") or "Caller",
            first_name=payload.get("first_name", ""),
            phone=payload.get("phone", ""),
            comment=with_reference(payload.get("comment", ""), reference),
        )

    # -- the background worker ----------------------------------------------------------

    def _due(self, limit: int) -> List[str]:
        now = time.time()
        query = (
            sa.select(outbox_table.c.reference)
            .where(
                outbox_table.c.status == PENDING,
                outbox_table.c.next_attempt_at <= now,
                outbox_table.c.claimed_until < now,
            )
            .order_by(outbox_table.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [row.reference for row in conn.execute(query)]

    def _next_due_in(self) -> Optional[float]:
        with self.engine.connect() as conn:
            soonest = conn.execute(
                sa.select(sa.func.min(outbox_table.c.next_attempt_at)).where(outbox_table.c.status == PENDING)
            ).scalar()
        return None if soonest is None else max(0.0, soonest - time.time())

    async def deliver_due(self, limit: int = 50) -> int:
        """One pass over the entries whose time has come; returns how many were sent."""
        references = await asyncio.to_thread(self._due, limit)
        if not references:
            return 0
        results = await asyncio.gather(*(self.deliver(ref) for ref in references))
        return sum(1 for sent in results if sent)

    async def run_worker(self, poll: float = 5.0) -> None:
        """Sends due writes until cancelled; wakes early when a new write is recorded."""
        logger.info("outbox.worker.started pending=%d", (await asyncio.to_thread(self.counts))[PENDING])
        while True:
            try:
                await self.deliver_due()
                wait = await asyncio.to_thread(self._next_due_in)
            except Exception:
                logger.exception("outbox.worker.pass_failed")
                wait = poll
            self._wake.clear()
            timeout = poll if wait is None else min(poll, max(wait, 0.01))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            except asyncio.TimeoutError:
                pass

    async def drain(self, timeout: float) -> bool:
        """Delivers until nothing is pending or `timeout` passes; True if all went out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await self.deliver_due()
            if self.counts()[PENDING] == 0:
                return True
            wait = self._next_due_in() or 0.05
            await asyncio.sleep(min(max(wait, 0.01), max(0.0, deadline - time.monotonic())))
        return self.counts()[PENDING] == 0
