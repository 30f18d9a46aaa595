"""SQLite storage for the stand-in: one JSON document per record, grouped by kind.

Why documents: the API's records are flat PascalCase objects and every query feature (filters,
embeds, fields) works on those objects, so keeping them as stored avoids a mapping layer.
Relations (contacts, phones, leases, issue links) are records of their own kinds, joined on read.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

Record = Dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id INTEGER NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Store:
    """A small document store over one SQLite file; single-process, single-writer."""

    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # The app runs in one worker; the connection may be created and used on different threads.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._depth = 0

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (a list POST is all-or-nothing)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    # -- records -----------------------------------------------------------------------

    def all(self, kind: str) -> List[Record]:
        """Every record of a kind in primary-key order (the API's order)."""
        rows = self._db.execute("SELECT doc FROM records WHERE kind = ? ORDER BY id", (kind,))
        return [json.loads(doc) for (doc,) in rows]

    def get(self, kind: str, ident: int) -> Optional[Record]:
        row = self._db.execute("SELECT doc FROM records WHERE kind = ? AND id = ?", (kind, ident)).fetchone()
        return json.loads(row[0]) if row else None

    def exists(self, kind: str, ident: Any) -> bool:
        if isinstance(ident, bool) or not isinstance(ident, int):
            return False
        row = self._db.execute("SELECT 1 FROM records WHERE kind = ? AND id = ?", (kind, ident)).fetchone()
        return row is not None

    def count(self, kind: str) -> int:
        return self._db.execute("SELECT COUNT(*) FROM records WHERE kind = ?", (kind,)).fetchone()[0]

    def insert(self, kind: str, key: str, doc: Record) -> Record:
        """Saves a new record; gives it the next id of its kind unless `doc[key]` is set."""
        ident = doc.get(key)
        if ident is None:
            row = self._db.execute("SELECT MAX(id) FROM records WHERE kind = ?", (kind,)).fetchone()
            ident = (row[0] or 0) + 1
        saved = {key: ident, **{k: v for k, v in doc.items() if k != key}}
        self._db.execute("INSERT INTO records (kind, id, doc) VALUES (?, ?, ?)", (kind, ident, json.dumps(saved)))
        return saved

    def replace(self, kind: str, ident: int, doc: Record) -> None:
        self._db.execute("UPDATE records SET doc = ? WHERE kind = ? AND id = ?", (json.dumps(doc), kind, ident))

    # -- bookkeeping -------------------------------------------------------------------

    def meta(self, key: str) -> Optional[str]:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def wipe(self) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM records")
            self._db.execute("DELETE FROM meta")
