"""What the QuickBooks → Salesforce sync remembers beyond the shared state store.

- **Snapshots**: per QuickBooks record, the mapped Salesforce values both sides agreed on at the last sync. A
  field is unchanged when QuickBooks still has the snapshot's value, and in conflict when Salesforce moved too.
- **Open invoices**: due date, balance and the status last sent for every invoice not Paid, so the daily pass
  can turn Open into OverDue on the due date without asking QuickBooks anything.

The tables live in the state store's database and join its transactions (``StateStore.batch``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, String, Table, Text, delete, select

from qbsf.sync.invoice_status import OpenInvoice, as_date, as_decimal
from qbsf.sync.state import StateStore, _upsert, _UtcDateTime, metadata
from qbsf.sync.tenant_scope import tenant_column

# Which entity's invoices the daily status pass follows (the open-invoice table is keyed by entity).
INVOICE = "Invoice"

snapshot_table = Table(
    "inbound_snapshot", metadata,
    tenant_column(),
    Column("entity", String(40), primary_key=True),
    Column("qb_id", String(64), primary_key=True),
    Column("sf_id", String(18)),
    Column("edit_sequence", String(32)),
    Column("active", String(5)),
    Column("payload", Text, nullable=False),
    Column("synced_at", _UtcDateTime, nullable=False),
)

open_invoice_table = Table(
    "inbound_open_invoice", metadata,
    tenant_column(),
    Column("entity", String(40), primary_key=True),
    Column("txn_id", String(64), primary_key=True),
    Column("due_date", String(10)),
    Column("balance", String(24)),
    Column("status", String(12), nullable=False),
)

_CHUNK = 500


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Snapshot(dict[str, Any]):
    """The agreed mapped values of one record, with its Salesforce Id and active flag when known."""

    sf_id: str | None = None
    active: bool | None = None
    edit_sequence: str | None = None


class InboundState:
    """Snapshots and open invoices over a :class:`StateStore`'s database."""

    def __init__(self, state: StateStore) -> None:
        self.state = state

    def _tx(self) -> Any:
        # Join the store's batch transaction when one is open (one commit for a whole batch's bookkeeping).
        return self.state._tx()

    # ---- snapshots ---------------------------------------------------------------------------------------------
    def snapshots(self, entity: str, qb_ids: Iterable[str]) -> dict[str, Snapshot]:
        """The snapshot of each QuickBooks id that has one."""
        wanted = list(dict.fromkeys(qb_ids))
        found: dict[str, Snapshot] = {}
        with self._tx() as connection:
            for chunk in _chunks(wanted):
                rows = connection.execute(select(snapshot_table).where(
                    snapshot_table.c.entity == entity, snapshot_table.c.qb_id.in_(chunk)))
                for row in rows:
                    snapshot = Snapshot(json.loads(row.payload))
                    snapshot.sf_id = row.sf_id
                    snapshot.active = None if row.active is None else row.active == "true"
                    snapshot.edit_sequence = row.edit_sequence
                    found[row.qb_id] = snapshot
        return found

    def set_snapshots(self, entity: str, snapshots: Mapping[str, tuple[str | None, bool | None, Mapping[str, Any]]],
                      edit_sequences: Mapping[str, str | None] | None = None) -> None:
        """Remember agreed values: qb id → (Salesforce Id, active, values)."""
        now = self.state.now()
        rows = [{"entity": entity, "qb_id": qb_id, "sf_id": sf_id,
                 "edit_sequence": (edit_sequences or {}).get(qb_id),
                 "active": None if active is None else ("true" if active else "false"),
                 "payload": json.dumps(dict(values), sort_keys=True, default=str), "synced_at": now}
                for qb_id, (sf_id, active, values) in snapshots.items()]
        if not rows:
            return
        with self._tx() as connection:
            _upsert(connection, snapshot_table, rows, ("entity", "qb_id"),
                    ("sf_id", "edit_sequence", "active", "payload", "synced_at"))

    def forget(self, entity: str, qb_ids: Iterable[str] | None = None) -> int:
        """Drop snapshots (all of ``entity``'s, or some): the next sync sends those records whole."""
        with self._tx() as connection:
            if qb_ids is None:
                removed = connection.execute(delete(snapshot_table).where(snapshot_table.c.entity == entity)).rowcount
                connection.execute(delete(open_invoice_table).where(open_invoice_table.c.entity == entity))
                return int(removed)
            removed = 0
            for chunk in _chunks(list(qb_ids)):
                removed += connection.execute(delete(snapshot_table).where(
                    snapshot_table.c.entity == entity, snapshot_table.c.qb_id.in_(chunk))).rowcount
                connection.execute(delete(open_invoice_table).where(open_invoice_table.c.entity == entity,
                                                                    open_invoice_table.c.txn_id.in_(chunk)))
            return removed

    # ---- open invoices -----------------------------------------------------------------------------------------
    def set_invoice_statuses(self, invoices: Iterable[OpenInvoice], *, entity: str = INVOICE) -> None:
        """Remember each invoice's status as sent; Paid ones are forgotten (they never change by date)."""
        keep, drop = [], []
        for invoice in invoices:
            if invoice.status == "Paid":
                drop.append(invoice.txn_id)
            else:
                keep.append({"entity": entity, "txn_id": invoice.txn_id, "status": invoice.status,
                             "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
                             "balance": None if invoice.balance is None else str(invoice.balance)})
        with self._tx() as connection:
            _upsert(connection, open_invoice_table, keep, ("entity", "txn_id"), ("due_date", "balance", "status"))
            for chunk in _chunks(drop):
                connection.execute(delete(open_invoice_table).where(open_invoice_table.c.entity == entity,
                                                                    open_invoice_table.c.txn_id.in_(chunk)))

    def open_invoices(self, *, due_before: date | None = None, entity: str = INVOICE) -> list[OpenInvoice]:
        """Invoices not Paid when last synced (optionally only those due before a date)."""
        conditions = [open_invoice_table.c.entity == entity]
        if due_before is not None:
            conditions.append(open_invoice_table.c.due_date < due_before.isoformat())
        with self._tx() as connection:
            rows = connection.execute(select(open_invoice_table).where(*conditions)
                                      .order_by(open_invoice_table.c.txn_id))
            return [OpenInvoice(row.txn_id, as_date(row.due_date), _decimal(row.balance), row.status)
                    for row in rows]


def _decimal(value: str | None) -> Decimal | None:
    return as_decimal(value)
