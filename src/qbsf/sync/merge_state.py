"""Where the three-way merge keeps its base: per synced pair of records, the values both sides last agreed on.

One row per (entity, QuickBooks id): the entity is the Salesforce side's name (Account, Contact, Product2,
Opportunity, QB_Invoice__c), so an invoice made from an Opportunity and the QB_Invoice__c it is shown as keep two
bases. Both passes read and write it inside the state store's batch transaction (``StateStore.batch``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Column, String, Table, Text, delete, select

from qbsf.errors import QbsfError
from qbsf.sync.merge import Base
from qbsf.sync.state import StateStore, _upsert, _UtcDateTime, metadata
from qbsf.sync.tenant_scope import tenant_column

# Created by the state store's migrations (revision 0004_sync_base), like every table of the state database.

base_table = Table(
    "sync_base", metadata,
    tenant_column(),
    Column("entity", String(40), primary_key=True),
    Column("qb_id", String(64), primary_key=True),
    Column("sf_id", String(18)),
    Column("salesforce", Text),
    Column("quickbooks", Text),
    Column("lines", Text),
    Column("synced_at", _UtcDateTime, nullable=False),
)

_CHUNK = 500


@functools.lru_cache(maxsize=4096)
def qb_key(qb_class: type | None, name: str) -> str:
    """A QuickBooks field's base key: its canonical dotted path (``BillAddr1`` is ``BillAddress.Addr1``); remembered,
    as a pass asks it for every field of every record it writes."""
    if qb_class is not None:
        from qbsf.quickbooks.records import canonical_path

        try:
            return canonical_path(qb_class, name).casefold()
        except QbsfError:
            pass
    return name.casefold()


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


class BaseStore:
    """Bases over a :class:`StateStore`'s database."""

    def __init__(self, state: StateStore) -> None:
        self.state = state

    def get_many(self, entity: str, qb_ids: Iterable[str]) -> dict[str, Base]:
        """The base of each QuickBooks id that has one."""
        wanted = list(dict.fromkeys(i for i in qb_ids if i))
        found: dict[str, Base] = {}
        with self.state._tx() as connection:
            for start in range(0, len(wanted), _CHUNK):
                rows = connection.execute(select(base_table).where(
                    base_table.c.entity == entity, base_table.c.qb_id.in_(wanted[start:start + _CHUNK])))
                for row in rows:
                    lines = _loads(row.lines) or {}
                    found[row.qb_id] = Base(sf_id=row.sf_id, salesforce=_loads(row.salesforce),
                                            quickbooks=_loads(row.quickbooks), lines=lines.get("lines", {}),
                                            reported=lines.get("reported", []))
        return found

    def put_many(self, entity: str, bases: Mapping[str, Base]) -> None:
        """Remember bases (qb id → base), replacing what was there."""
        if not bases:
            return
        now = self.state.now()
        rows = [{"entity": entity, "qb_id": qb_id, "sf_id": base.sf_id, "salesforce": _dumps(base.salesforce),
                 "quickbooks": _dumps(base.quickbooks),
                 "lines": _dumps({"lines": base.lines, "reported": base.reported})
                 if base.lines or base.reported else None, "synced_at": now}
                for qb_id, base in bases.items()]
        with self.state._tx() as connection:
            _upsert(connection, base_table, rows, ("entity", "qb_id"),
                    ("sf_id", "salesforce", "quickbooks", "lines", "synced_at"))

    def holding(self, entity: str, side: str, key: str, value: str) -> dict[str, Base]:
        """Bases of ``entity`` whose ``side`` (``"salesforce"``/``"quickbooks"``) agreed ``key`` = ``value``."""
        column = base_table.c.salesforce if side == "salesforce" else base_table.c.quickbooks
        pattern = "%" + json.dumps(value).replace("%", "").replace("_", "") + "%"
        with self.state._tx() as connection:
            ids = [row.qb_id for row in connection.execute(select(base_table.c.qb_id).where(
                base_table.c.entity == entity, column.like(pattern)))]
        return {qb_id: base for qb_id, base in self.get_many(entity, ids).items()
                if str((base.side(side) or {}).get(key)) == value}

    def forget(self, entity: str, qb_ids: Iterable[str] | None = None) -> int:
        """Drop bases (all of ``entity``'s, or some): those records merge as if never synced."""
        with self.state._tx() as connection:
            if qb_ids is None:
                return int(connection.execute(delete(base_table).where(base_table.c.entity == entity)).rowcount)
            wanted = list(qb_ids)
            removed = 0
            for start in range(0, len(wanted), _CHUNK):
                removed += connection.execute(delete(base_table).where(
                    base_table.c.entity == entity, base_table.c.qb_id.in_(wanted[start:start + _CHUNK]))).rowcount
            return removed
