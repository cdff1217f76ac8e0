"""Adapters from qbsf's clients to the engine's ports (``qbsf.sync.ports``).

:class:`QuickBooksAdapter` turns the mapping's flat dicts into typed QuickBooks records, batches them through
:class:`qbsf.quickbooks.client.QuickBooksClient`, and keeps the records it last read so a Mod sends only the
fields that differ. :class:`SalesforceAdapter` wraps :class:`qbsf.salesforce.client.SalesforceClient`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from qbsf.errors import NeedsUser, QbsfError, SyncError
from qbsf.sync.ports import QbFound, QbWrite, SfWrite

logger = logging.getLogger(__name__)



def _as_sync_error(error: BaseException, qb_type: str = "record") -> SyncError:
    """Every per-record error as one of the engine's classes (a bad field is a person's to fix)."""
    if isinstance(error, SyncError):
        return error
    if isinstance(error, QbsfError):
        return NeedsUser(error.message, hint=error.hint)
    return NeedsUser(f"the QuickBooks {qb_type} could not be built from the mapped values: {error}",
                     hint="check the record's values and the mapping")


class QuickBooksAdapter:
    """The engine's QuickBooks port over a ``QuickBooksClient``.

    It keeps the records it last read or wrote as the bases of the next Mod — the newest ``keep`` of them, so its
    memory grows with the batch (the engine sets ``keep`` from its batch size), never with the records synced.
    A Mod whose base was let go reads it again.
    """

    def __init__(self, client: Any, *, default_accounts: Any = None, keep: int = 2_000) -> None:
        from qbsf.quickbooks import entities
        from qbsf.quickbooks import records as rec

        self.client = client
        self.rec = rec
        self.entities = entities
        self._bases: OrderedDict[str, Any] = OrderedDict()
        self.keep = keep
        if default_accounts is not None:
            client.default_accounts = default_accounts

    @property
    def messages(self) -> int:
        """qbXML messages the client has sent."""
        return int(getattr(self.client, "messages_sent", 0))

    def external_guid(self, sf_id: str) -> str:
        """The deterministic ExternalGUID of the QuickBooks record made from ``sf_id``."""
        from qbsf.quickbooks.bodies import external_guid

        return external_guid(sf_id)

    # ---- writes ------------------------------------------------------------------------------------------
    def _typed(self, qb_type: str, flat: Mapping[str, Any]) -> Any:
        """A typed record of ``qb_type`` from the mapping's flat fields; ``lines`` become the entity's lines."""
        entity = self.entities.entity(qb_type)
        header = {k: v for k, v in flat.items() if k != "lines"}
        record = self.rec.record_from_flat(entity.record, header)
        shape = entity.primary_lines
        if shape is not None:
            setattr(record, shape.attr, self.rec.lines_from_flat(shape.record, [dict(line) for line in
                                                                                flat.get("lines") or []]))
        elif flat.get("lines"):
            raise NeedsUser(f"a QuickBooks {qb_type} has no lines", hint="remove the line mapping for it")
        return record

    def _written(self, ret: Any, qb_type: str) -> QbWrite:
        id_field = self.entities.entity(qb_type).id_kind
        if ret is None:
            return QbWrite(error=NeedsUser(f"QuickBooks accepted the {qb_type} but returned no record",
                                           hint="check the record in QuickBooks"))
        self._remember(getattr(ret, id_field), ret)
        return QbWrite(qb_id=getattr(ret, id_field), edit_sequence=ret.EditSequence,
                       full_name=getattr(ret, "FullName", None))

    def add_many(self, qb_type: str, records: Sequence[Mapping[str, Any]]) -> list[QbWrite]:
        """Add flat records of ``qb_type``; ``ExternalGUID`` in a record is kept as given."""
        out: list[QbWrite | None] = [None] * len(records)
        typed: list[Any] = []
        positions: list[int] = []
        for index, flat in enumerate(records):
            try:
                typed.append(self._typed(qb_type, flat))
                positions.append(index)
            except Exception as exc:  # a record that cannot be built fails alone
                out[index] = QbWrite(error=_as_sync_error(exc, qb_type))
        if typed:
            for position, result in zip(positions, self.client.add_many(typed), strict=True):
                out[position] = (QbWrite(error=_as_sync_error(result.error)) if result.error is not None
                                 else self._written(result.ret, qb_type))
        return [w for w in out if w is not None]

    def mod_many(self, qb_type: str, records: Sequence[Mapping[str, Any]]) -> list[QbWrite]:
        """Modify records (``ListID``/``TxnID`` + ``EditSequence`` + fields); only differing fields are sent."""
        from qbsf.quickbooks.client import Change

        id_field = self.entities.entity(qb_type).id_kind
        # Bases this call needs, held here so keeping only the newest ``keep`` cannot drop one mid-call.
        bases = {r[id_field]: self._bases[r[id_field]] for r in records if r[id_field] in self._bases}
        missing = [r[id_field] for r in records if r[id_field] not in bases]
        for fetched in self._fetch(qb_type, missing):
            found = self._found(fetched)
            bases[found.qb_id] = fetched
        out: list[QbWrite | None] = [None] * len(records)
        changes: list[Any] = []
        positions: list[int] = []
        for index, flat in enumerate(records):
            base = bases.get(flat[id_field])
            if base is None:
                out[index] = QbWrite(error=_as_sync_error(NeedsUser(
                    f"QuickBooks {qb_type} {flat[id_field]} no longer exists",
                    hint="unlink the Salesforce record (qbsf link --unlink ID) to create it again")))
                continue
            try:
                change = self._change(qb_type, base, flat)
            except Exception as exc:  # a record that cannot be built fails alone
                out[index] = QbWrite(error=_as_sync_error(exc, qb_type))
                continue
            if change is None:
                out[index] = QbWrite(qb_id=flat[id_field], edit_sequence=base.EditSequence,
                                     full_name=getattr(base, "FullName", None), unchanged=True)
                continue
            changes.append(Change(base, change[0], change[1]))
            positions.append(index)
        if changes:
            for position, result in zip(positions, self.client.mod_many(changes), strict=True):
                out[position] = (QbWrite(error=_as_sync_error(result.error)) if result.error is not None
                                 else self._written(result.ret, qb_type))
        return [w for w in out if w is not None]

    def void_many(self, qb_type: str, qb_ids: Sequence[str]) -> list[QbWrite]:
        """Void transactions of ``qb_type`` (``QuickBooksClient.void_many``): QuickBooks keeps each, at zero."""
        results = self.client.void_many(qb_type, list(qb_ids))
        for qb_id in qb_ids:
            self._bases.pop(qb_id, None)  # voided since it was read: the next Mod reads it again
        return [QbWrite(error=_as_sync_error(r.error, qb_type)) if r.error is not None else QbWrite(qb_id=r.ret)
                for r in results]

    def _change(self, qb_type: str, base: Any, flat: Mapping[str, Any]) -> tuple[dict[str, Any], Any] | None:
        """The flat fields that differ from ``base`` (and the new lines, when they differ), or None."""
        rec = self.rec
        header = {k: v for k, v in flat.items() if k not in ("lines", "ListID", "TxnID", "EditSequence",
                                                              "ExternalGUID")}
        updated = rec.apply_flat(base, header)
        before, after = rec.to_flat(base), rec.to_flat(updated)
        kinds = rec.flat_fields(type(base))
        fields = {path: after[path] for path in kinds if path in after and after[path] != before.get(path)}
        lines = None
        shape = self.entities.entity(qb_type).primary_lines
        if shape is not None and "lines" in flat:
            wanted = rec.lines_from_flat(shape.record, [dict(line) for line in flat["lines"]])
            existing = getattr(base, shape.attr)
            compared = _compared_fields(rec, shape)
            if shape.key != "TxnLineID":
                # Lines keyed by what they apply to (a payment's invoices): the wanted lines are the lines.
                if not _same_lines(rec, wanted, existing, compared):
                    lines = wanted
            elif any(line.TxnLineID for line in wanted):
                # Merged line by line: each line names the QuickBooks line it keeps or modifies.
                if not _same_lines_by_id(rec, wanted, existing, compared):
                    lines = _keep_line_ids(rec, wanted, existing, compared)
            elif not _same_lines(rec, wanted, existing, compared):
                lines = _keep_line_ids(rec, wanted, existing, compared)
        if not fields and lines is None:
            return None
        return fields, lines

    def _remember(self, qb_id: str, record: Any) -> None:
        self._bases[qb_id] = record
        self._bases.move_to_end(qb_id)
        while len(self._bases) > max(1, self.keep):
            self._bases.popitem(last=False)

    # ---- reads -------------------------------------------------------------------------------------------
    def _found(self, record: Any) -> QbFound:
        qb_id = getattr(record, "TxnID", None) or record.ListID
        self._remember(qb_id, record)
        return QbFound(qb_id=qb_id, full_name=getattr(record, "FullName", None) or getattr(record, "Name", None)
                       or getattr(record, "RefNumber", None) or "", edit_sequence=record.EditSequence,
                       external_guid=record.ExternalGUID, qb_type=type(record).__name__,
                       email=getattr(record, "Email", None) or "", phone=getattr(record, "Phone", None) or "")

    def _fetch(self, qb_entity_or_type: str, qb_ids: Collection[str]) -> list[Any]:
        ids = list(qb_ids)
        if not ids:
            return []
        return list(self.client.query(qb_entity_or_type, ids=ids, include_lines=True))

    def edit_sequences(self, qb_entity: str, qb_ids: Collection[str]) -> dict[str, QbFound]:
        """The current EditSequence of each record (one query per entity); the records are kept as Mod bases."""
        return {found.qb_id: found for found in (self._found(r) for r in self._fetch(qb_entity, qb_ids))}

    def current_values(self, qb_id: str) -> tuple[dict[str, Any], datetime | None] | None:
        """The flat fields and TimeModified of a record fetched this cycle (by ``edit_sequences``), or None."""
        base = self._bases.get(qb_id)
        if base is None:
            return None
        return self.rec.to_flat(base), getattr(base, "TimeModified", None)

    def current_lines(self, qb_id: str) -> list[tuple[str, dict[str, Any]]] | None:
        """The lines (their key — TxnLineID, or the paid TxnID —, flat fields) of a transaction read or written this
        cycle, in QuickBooks' order."""
        base = self._bases.get(qb_id)
        shapes = self.entities.line_shapes(type(base)) if base is not None else ()
        if not shapes:
            return None
        shape = shapes[0]
        return [(getattr(line, shape.key), self.rec.to_flat(line)) for line in getattr(base, shape.attr)
                if getattr(line, shape.key)]

    def find_by_names(self, qb_entity: str, full_names: Collection[str]) -> list[QbFound]:
        """Records of ``qb_entity`` with these names (FullName; a transaction's RefNumber), in one message."""
        names = [n for n in dict.fromkeys(full_names) if n]
        if not names:
            return []
        # most names are new to QuickBooks: its "could not be found" warning is the expected answer here
        records = self.client.query(qb_entity, names=names, missing_ok=True)
        return [self._found(r) for r in records]

    def modified_since(self, qb_entity: str, since: datetime) -> list[QbFound]:
        """Records of ``qb_entity`` modified since ``since`` (transactions without their lines)."""
        return [self._found(r) for r in self.client.query(qb_entity, modified_since=since)]

    def list_all(self, qb_entity: str) -> list[QbFound]:
        """Every active record of ``qb_entity`` (Customer, Item, Vendor …)."""
        return [self._found(r) for r in self.client.query(qb_entity)]


def _compared_fields(rec: Any, shape: Any) -> tuple[str, ...]:
    """The flat fields of a line that say what it is (its TxnLineID and what QuickBooks computes do not)."""
    return tuple(path for path in rec.flat_fields(shape.record) if path != "TxnLineID" and path not in shape.computed)


def _same_lines(rec: Any, wanted: Sequence[Any], existing: Sequence[Any], compared: Sequence[str]) -> bool:
    """True when QuickBooks' lines already say what the wanted lines say.

    Only the fields a wanted line sets are compared (QuickBooks fills the item's name and description itself), and
    in any order: lines that moved but did not change are no reason to replace every line (and its TxnLineID).
    """
    if len(wanted) != len(existing):
        return False
    remaining = [rec.to_flat(line) for line in existing]
    for line in wanted:
        given = _given(rec, line, compared)
        match = next((i for i, other in enumerate(remaining)
                      if all(_canonical(other.get(name)) == value for name, value in given.items())), None)
        if match is None:
            return False
        remaining.pop(match)
    return True


def _same_lines_by_id(rec: Any, wanted: Sequence[Any], existing: Sequence[Any], compared: Sequence[str]) -> bool:
    """True when every existing line is kept, none is added, and each kept line already says what it sets."""
    by_id = {line.TxnLineID: rec.to_flat(line) for line in existing if line.TxnLineID}
    if len(wanted) != len(by_id) or {line.TxnLineID for line in wanted} != set(by_id):
        return False
    return all(all(_canonical(by_id[line.TxnLineID].get(name)) == value
                   for name, value in _given(rec, line, compared).items()) for line in wanted)


def _given(rec: Any, line: Any, compared: Sequence[str]) -> dict[str, str]:
    """The fields a wanted line sets, canonical (a reference's ListID stands for its name)."""
    flat = rec.to_flat(line)
    given = {name: _canonical(flat.get(name)) for name in compared if flat.get(name) is not None}
    for name in [n for n in given if n.endswith(".ListID")]:
        given.pop(name.removesuffix(".ListID") + ".FullName", None)
    return given


def _keep_line_ids(rec: Any, wanted: list[Any], existing: Sequence[Any], compared: Sequence[str]) -> list[Any]:
    """The wanted lines, each holding the TxnLineID of the QuickBooks line it stands for.

    An unchanged line keeps its line; a changed one keeps the line of the same item (and description, when given),
    so QuickBooks' audit trail shows one edited line, not every line deleted and added again. The rest are new.
    """
    kept = {line.TxnLineID for line in wanted if line.TxnLineID}
    remaining = [(line.TxnLineID, rec.to_flat(line)) for line in existing if line.TxnLineID
                 and line.TxnLineID not in kept]
    givens = [_given(rec, line, compared) for line in wanted]
    # what a line is about: its item (a bill's expense line: its account) and its description
    identity = tuple(name for name in compared if name.partition(".")[0] in ("ItemRef", "AccountRef", "Desc", "Memo"))
    for fields_of in (lambda given: given, lambda given: {k: v for k, v in given.items() if k in identity}):
        for line, given in zip(wanted, givens, strict=True):
            if line.TxnLineID:
                continue
            keys = fields_of(given)
            if not keys:
                continue
            match = next((i for i, (_, other) in enumerate(remaining)
                          if all(_canonical(other.get(name)) == value for name, value in keys.items())), None)
            if match is not None:
                line.TxnLineID = remaining.pop(match)[0]
    return wanted


def _canonical(value: Any) -> str:
    """One text per meaning: Decimal('4.0') and Decimal('4') (or '125.00' and '125') compare equal."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value).strip()


class SalesforceAdapter:
    """The engine's Salesforce port over a ``SalesforceClient``."""

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def calls(self) -> int:
        """API calls the client has made (retries included)."""
        return int(getattr(self.client, "calls", 0))

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every record of ``soql``."""
        return self.client.query(soql)

    def count(self, soql: str) -> int:
        """``totalSize`` of a ``SELECT COUNT() …`` query."""
        return int(self.client.count(soql))

    def query_all(self, soql: str) -> list[dict[str, Any]]:
        """Every record of ``soql``, deleted ones included (``queryAll``)."""
        return self.client.query_all(soql)

    def update_many(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[SfWrite]:
        """Update by Id in collections of 200."""
        return [SfWrite(ok=bool(r.success), message=None if r.success else str(r.error), error=r.error)
                for r in self.client.update_many(sobject, records)]


def as_qb_port(client: Any) -> Any:
    """``client`` if it already speaks the port, else a :class:`QuickBooksAdapter` around it."""
    return client if hasattr(client, "find_by_names") else QuickBooksAdapter(client)


def as_sf_port(client: Any) -> Any:
    """``client`` if it already speaks the port, else a :class:`SalesforceAdapter` around it."""
    if isinstance(client, SalesforceAdapter) or (hasattr(client, "update_many") and not hasattr(client, "upsert_many")):
        return client
    return SalesforceAdapter(client)
