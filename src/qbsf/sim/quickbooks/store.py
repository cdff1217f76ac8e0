"""Where the simulated company file lives: one SQLite database, in memory or on disk.

Every list element and transaction is one row of ``records``; the columns are the
fields QuickBooks looks records up by (ListID/TxnID, FullName, TimeModified, the
customer of a transaction), each indexed so a lookup stays O(log n) with 20,000
invoices. The rest of the record is a JSON body in the shape of its ``*Ret``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qbsf.errors import ConfigError

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    seq INTEGER NOT NULL,
    namespace TEXT,
    name_key TEXT,
    full_name TEXT,
    parent_id TEXT,
    sublevel INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    time_created INTEGER NOT NULL,
    time_modified INTEGER NOT NULL,
    edit_sequence TEXT NOT NULL,
    customer_id TEXT,
    ref_number TEXT,
    txn_date TEXT,
    balance_cents INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS records_name ON records (namespace, name_key) WHERE name_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_kind_name ON records (kind, name_key);
CREATE INDEX IF NOT EXISTS records_kind_seq ON records (kind, seq);
CREATE INDEX IF NOT EXISTS records_kind_modified ON records (kind, time_modified);
CREATE INDEX IF NOT EXISTS records_parent ON records (parent_id);
CREATE INDEX IF NOT EXISTS records_customer ON records (customer_id, kind);
CREATE INDEX IF NOT EXISTS records_ref ON records (kind, ref_number);
CREATE TABLE IF NOT EXISTS uses (from_id TEXT NOT NULL, to_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS uses_from ON uses (from_id);
CREATE INDEX IF NOT EXISTS uses_to ON uses (to_id);
CREATE TABLE IF NOT EXISTS deleted (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    is_txn INTEGER NOT NULL,
    time_created INTEGER NOT NULL,
    time_deleted INTEGER NOT NULL,
    full_name TEXT,
    ref_number TEXT
);
CREATE INDEX IF NOT EXISTS deleted_kind ON deleted (kind, time_deleted);
"""

_COLUMNS = (
    "id", "kind", "seq", "namespace", "name_key", "full_name", "parent_id", "sublevel", "is_active", "time_created",
    "time_modified", "edit_sequence", "customer_id", "ref_number", "txn_date", "balance_cents", "body",
)


@dataclass
class Row:
    """One stored list element or transaction: indexed columns plus the JSON body."""

    id: str
    kind: str
    seq: int
    namespace: str | None
    name_key: str | None
    full_name: str | None
    parent_id: str | None
    sublevel: int
    is_active: bool
    time_created: int
    time_modified: int
    edit_sequence: str
    customer_id: str | None
    ref_number: str | None
    txn_date: str | None
    balance_cents: int
    body: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_sql(cls, values: tuple) -> Row:
        data = dict(zip(_COLUMNS, values, strict=True))
        data["is_active"] = bool(data["is_active"])
        data["body"] = json.loads(data["body"])
        return cls(**data)

    def to_sql(self) -> tuple:
        return (
            self.id, self.kind, self.seq, self.namespace, self.name_key, self.full_name, self.parent_id,
            self.sublevel, int(self.is_active), self.time_created, self.time_modified, self.edit_sequence,
            self.customer_id, self.ref_number, self.txn_date, self.balance_cents,
            json.dumps(self.body, separators=(",", ":")),
        )


class Store:
    """The company file: rows, deletions, counters; one SQLite connection guarded by the simulator's lock."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        target = str(path) if path is not None else ":memory:"
        try:
            # Autocommit mode: the simulator opens one transaction per message and a savepoint per request.
            self.db = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
            if path is not None:
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigError(f"Cannot open the simulated QuickBooks company file {path}: {exc}",
                              hint="check the folder exists and the file is a qbsf simulator company") from None
        self._select = f"SELECT {', '.join(_COLUMNS)} FROM records"
        # Counters live in memory and are written at commit: a rolled-back request only leaves a gap, as in QuickBooks.
        self._counters = {key.removeprefix("counter:"): int(value) for key, value in
                          self.db.execute("SELECT key, value FROM meta WHERE key LIKE 'counter:%'")}
        self._dirty: set[str] = set()

    # --- meta and counters -------------------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
                        (key, value, value))

    def next_counter(self, name: str) -> int:
        """Increment and return a persistent counter (ListID, TxnID, TxnNumber, RefNumber sequences)."""
        value = self._counters.get(name, 0) + 1
        self._counters[name] = value
        self._dirty.add(name)
        return value

    # --- transactions -----------------------------------------------------------------------------------------
    def begin(self) -> None:
        self.db.execute("BEGIN")

    def commit(self) -> None:
        for name in self._dirty:
            self.set_meta(f"counter:{name}", str(self._counters[name]))
        self._dirty.clear()
        self.db.execute("COMMIT")

    def rollback(self) -> None:
        self.db.execute("ROLLBACK")

    def savepoint(self) -> None:
        self.db.execute("SAVEPOINT request")

    def release(self) -> None:
        self.db.execute("RELEASE SAVEPOINT request")

    def rollback_savepoint(self) -> None:
        self.db.execute("ROLLBACK TO SAVEPOINT request")
        self.db.execute("RELEASE SAVEPOINT request")

    # --- rows -------------------------------------------------------------------------------------------------
    def insert(self, row: Row) -> None:
        marks = ", ".join("?" for _ in _COLUMNS)
        self.db.execute(f"INSERT INTO records ({', '.join(_COLUMNS)}) VALUES ({marks})", row.to_sql())

    def update(self, row: Row) -> None:
        assignments = ", ".join(f"{c} = ?" for c in _COLUMNS[1:])
        values = row.to_sql()
        self.db.execute(f"UPDATE records SET {assignments} WHERE id = ?", (*values[1:], values[0]))

    def delete(self, record_id: str) -> None:
        self.db.execute("DELETE FROM records WHERE id = ?", (record_id,))
        self.db.execute("DELETE FROM uses WHERE from_id = ?", (record_id,))

    def get(self, record_id: str) -> Row | None:
        found = self.db.execute(f"{self._select} WHERE id = ?", (record_id,)).fetchone()
        return Row.from_sql(found) if found else None

    def by_name(self, namespace: str, full_name: str) -> Row | None:
        found = self.db.execute(f"{self._select} WHERE namespace = ? AND name_key = ?",
                                (namespace, full_name.upper())).fetchone()
        return Row.from_sql(found) if found else None

    def select(self, where: str = "", params: Iterable[Any] = (), order: str = "", limit: int | None = None
               ) -> list[Row]:
        sql = self._select + (f" WHERE {where}" if where else "") + (f" ORDER BY {order}" if order else "")
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [Row.from_sql(values) for values in self.db.execute(sql, tuple(params))]

    def select_ids(self, where: str, params: Iterable[Any], order: str) -> list[str]:
        return [r[0] for r in self.db.execute(f"SELECT id FROM records WHERE {where} ORDER BY {order}",
                                              tuple(params))]

    def count(self, kinds: Iterable[str]) -> int:
        kinds = tuple(kinds)
        marks = ", ".join("?" for _ in kinds)
        return self.db.execute(f"SELECT COUNT(*) FROM records WHERE kind IN ({marks})", kinds).fetchone()[0]

    def children(self, parent_id: str) -> list[Row]:
        return self.select("parent_id = ?", (parent_id,), "seq")

    def descendants(self, record_id: str) -> Iterator[Row]:
        for child in self.children(record_id):
            yield child
            yield from self.descendants(child.id)

    def balance_cents(self, customer_ids: Iterable[str]) -> int:
        ids = tuple(customer_ids)
        marks = ", ".join("?" for _ in ids)
        found = self.db.execute(
            # Open invoices raise a customer's balance; a payment's unused amount (a credit) lowers it.
            f"SELECT COALESCE(SUM(balance_cents), 0) FROM records WHERE customer_id IN ({marks})", ids).fetchone()
        return int(found[0])

    # --- uses (what a transaction refers to, so a used list element cannot be deleted) -------------------------
    def set_uses(self, from_id: str, to_ids: Iterable[str]) -> None:
        self.db.execute("DELETE FROM uses WHERE from_id = ?", (from_id,))
        self.db.executemany("INSERT INTO uses (from_id, to_id) VALUES (?, ?)",
                            [(from_id, to_id) for to_id in set(to_ids)])

    def is_used(self, record_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM uses WHERE to_id = ? LIMIT 1", (record_id,)).fetchone() is not None

    # --- deletions --------------------------------------------------------------------------------------------
    def record_deletion(self, row: Row, is_txn: bool, time_deleted: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO deleted (id, kind, is_txn, time_created, time_deleted, full_name, ref_number) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row.id, row.kind, int(is_txn), row.time_created, time_deleted, row.full_name, row.ref_number))

    def deletions(self, kinds: Iterable[str], is_txn: bool, since: int | None, until: int | None) -> list[tuple]:
        kinds = tuple(kinds)
        where = [f"kind IN ({', '.join('?' for _ in kinds)})", "is_txn = ?"]
        params: list[Any] = [*kinds, int(is_txn)]
        if since is not None:
            where.append("time_deleted >= ?")
            params.append(since)
        if until is not None:
            where.append("time_deleted <= ?")
            params.append(until)
        return list(self.db.execute(
            "SELECT kind, id, time_created, time_deleted, full_name, ref_number FROM deleted "
            f"WHERE {' AND '.join(where)} ORDER BY time_deleted, id", params))

    def close(self) -> None:
        self.db.close()
