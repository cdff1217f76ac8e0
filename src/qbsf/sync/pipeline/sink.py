"""Where a batch's records go: one sink per system, called from the ``write`` stage of both directions' batches.

A :class:`Sink` takes the batch's work items and sends those that have something to send (no outcome, no error
yet), many records per call, and sets on each what happened: the system's answer (QuickBooks' id and EditSequence,
Salesforce's Id and whether it created the record) or the record's own error. A record the other system refuses
fails alone; a call that fails as a whole fails every record it carried. The sink records nothing locally: the
``record`` stage does, in one transaction, from what the sink set on the work items.

=====================  ===========================================================================================
sink                   what ``write`` does
=====================  ===========================================================================================
:class:`QuickBooksSink`  Salesforce → QuickBooks. Adds are journaled first (with their ExternalGUID: an Add a crash
                       interrupts is found again, never repeated), then Adds and Mods are sent many per message,
                       per QuickBooks type. Mods carry the EditSequence :meth:`QuickBooksSink.edit_sequences` read
                       in the diff stage. Crash points ``after_journal``, ``mid_batch``, ``after_qb_write``.
:class:`SalesforceSink`  QuickBooks → Salesforce. Linked records are updated by Id (this also completes a pending
                       QuickBooks-id write-back), new ones are upserted by the entity's external id (never created
                       twice); then what the entity writes beside each record (its hooks: a payment's lines).
=====================  ===========================================================================================
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from qbsf.errors import NeedsUser, Retriable, Skippable, SyncError
from qbsf.sync.crash import crash_point
from qbsf.sync.merge import OWN
from qbsf.sync.ports import QbWrite, QuickBooksPort
from qbsf.sync.state import JournalEntry, Link, Outcome, StateStore

W = TypeVar("W", contravariant=True)


class Sink(Protocol[W]):
    """One system's side of a batch's ``write`` stage (see the module docstring)."""

    def write(self, spec: Any, works: list[W]) -> None:
        """Send the work items of ``spec``'s batch that have something to send (no outcome and no error yet), many
        per call; set on each what the system answered or the record's error. Records nothing locally."""
        ...


# ---- Salesforce → QuickBooks ---------------------------------------------------------------------------------------

class QuickBooksWork(Protocol):
    """What :class:`QuickBooksSink` reads and sets on a work item (``qbsf.sync.outbound``'s)."""

    sf_id: str
    name: str
    link: Link | None
    adopt: Any                   # the same-named QuickBooks record the diff linked (a Mod), or None
    target: dict[str, Any] | None
    qb_type: str
    payload_hash: str | None
    merge: Any                   # the field merge: what a Mod sends (``send``)
    line_merge: Any              # the line merge: the lines a Mod sends (``lines``)
    send_lines: bool
    base: Any
    error: SyncError | None
    outcome: Outcome | None
    operation: str
    write: QbWrite | None
    journal_id: int | None

    @property
    def failed(self) -> bool: ...


class QuickBooksSink:
    """Salesforce → QuickBooks writes: journal first, then Adds and Mods many per message.

    ``full_name`` gives the QuickBooks name a record is added under (journaled with the Add, so a crash is
    reconciled by name and ExternalGUID); ``config.qb_batch_size`` is the records per message.
    """

    def __init__(self, qb: QuickBooksPort, state: StateStore, config: Any,
                 full_name: Callable[[Any, Any], str]) -> None:
        self.qb = qb
        self.state = state
        self.config = config
        self.full_name = full_name

    @staticmethod
    def split(works: Sequence[QuickBooksWork]) -> tuple[list[Any], list[Any]]:
        """The Adds (not linked) and Mods (linked, then those linked to a same-named record by the diff) to send."""
        pending = [w for w in works if not w.failed and w.outcome is None]
        adds = [w for w in pending if w.link is None]
        mods = [w for w in pending if w.link is not None and w.adopt is None]
        mods.extend(w for w in pending if w.link is not None and w.adopt is not None)
        return adds, mods

    def write(self, spec: Any, works: list[Any]) -> None:
        """Journal the Adds, then send Adds and Mods (see the module docstring)."""
        adds, mods = self.split(works)
        if adds:
            in_flight = {entry.sf_id for entry in self.state.in_flight(spec.name)}
            for work in adds:
                if work.sf_id in in_flight:
                    work.error = Retriable(f"an earlier Add of {spec.name} {work.name!r} is not reconciled yet",
                                           hint="it is checked against QuickBooks at the start of the next cycle")
            adds = [w for w in adds if not w.failed]
            entries = self.state.journal_begin_many([
                JournalEntry(spec.name, w.sf_id, "add", external_guid=self.qb.external_guid(w.sf_id),
                             qb_name=self.full_name(spec, w), payload_hash=w.payload_hash) for w in adds])
            for work, entry in zip(adds, entries, strict=True):
                work.journal_id = entry.id
            crash_point("after_journal")
        self._send(spec, adds, "add")
        self._send(spec, [w for w in mods if not w.failed], "mod")
        crash_point("after_qb_write")

    def edit_sequences(self, spec: Any, mods: list[Any]) -> None:
        """Read the current EditSequence (and type and name) of each Mod's QuickBooks record in one query: a Mod
        carries it, and a record QuickBooks no longer has fails (Skippable) with what to do."""
        current = self.qb.edit_sequences(spec.qb_entity, [w.link.qb_id for w in mods if w.link is not None])
        for work in mods:
            assert work.link is not None
            found = current.get(work.link.qb_id)
            if found is None:
                work.error = Skippable(
                    f"the QuickBooks {spec.qb_entity} {work.link.qb_id} linked to {spec.name} {work.name!r} no "
                    f"longer exists", hint=f"run `qbsf link --entity {spec.name} --unlink {work.sf_id}` to create "
                                           f"it again, or link it to another QuickBooks record")
                continue
            agreed_type = (work.base.salesforce or {}).get(OWN + "qb_type") if work.base is not None else None
            try:
                work.qb_type = spec.hooks.keep_qb_type(spec.declared, name=work.name, sf_id=work.sf_id,
                                                       wanted=work.qb_type, found=found.qb_type or "",
                                                       agreed=agreed_type, qb_name=found.full_name)
            except SyncError as exc:
                work.error = exc
                continue
            work.link = Link(spec.name, work.sf_id, work.link.qb_id, edit_sequence=found.edit_sequence,
                             external_guid=work.link.external_guid, qb_name=found.full_name or work.link.qb_name,
                             written_back=work.link.written_back)

    def _send(self, spec: Any, works: list[Any], operation: str) -> None:
        """Send ``works`` as Adds or Mods, ``config.qb_batch_size`` per message, one QuickBooks type at a time."""
        by_type: dict[str, list[Any]] = defaultdict(list)
        for work in works:
            by_type[work.qb_type].append(work)
        id_field = spec.qb_id_kind
        for qb_type, group in by_type.items():
            size = max(1, self.config.qb_batch_size)
            for start in range(0, len(group), size):
                chunk = group[start:start + size]
                payloads = [self._payload(work, operation, id_field) for work in chunk]
                try:
                    send = self.qb.add_many if operation == "add" else self.qb.mod_many
                    results = send(qb_type, payloads)
                except SyncError as exc:
                    # The whole message failed: Adds stay journaled in flight, to be reconciled next cycle.
                    results = [QbWrite(error=exc)] * len(chunk)
                    for work in chunk:
                        work.journal_id = None if operation == "add" else work.journal_id
                for work, result in zip(chunk, results, strict=True):
                    work.write = result
                    work.operation = operation
                    if result.error is not None:
                        work.error = result.error
                if start + size < len(group):
                    crash_point("mid_batch")

    def _payload(self, work: Any, operation: str, id_field: str) -> dict[str, Any]:
        """What one Add or Mod sends: the whole target for an Add, the merge's fields (and lines) for a Mod."""
        assert work.target is not None
        if operation == "add" or work.merge is None:
            payload = dict(work.target)
        else:
            payload = dict(work.merge.send)
            if work.line_merge is not None and work.line_merge.lines is not None:
                payload["lines"] = [{**{k: v for k, v in line.items() if k not in ("id", "source_id")},
                                     "TxnLineID": line["id"]} for line in work.line_merge.lines]
            elif work.line_merge is None and work.send_lines and "lines" in work.target:
                payload["lines"] = work.target["lines"]
        if operation == "add":
            payload["ExternalGUID"] = self.qb.external_guid(work.sf_id)
        else:
            assert work.link is not None
            payload[id_field] = work.link.qb_id
            payload["EditSequence"] = work.link.edit_sequence
        return payload


# ---- QuickBooks → Salesforce ---------------------------------------------------------------------------------------

class SalesforceWork(Protocol):
    """What :class:`SalesforceSink` reads and sets on a work item (``qbsf.sync.inbound``'s)."""

    record: Any                  # the QuickBooks record
    flat: dict[str, Any]         # its fields as the mappings read them
    qb_id: str
    payload: dict[str, Any] | None
    changes: dict[str, Any] | None   # what this pass sends to Salesforce
    link: Link | None
    sf_id: str | None
    recreate: bool               # deleted in Salesforce: written again by external id
    outcome: Outcome | None
    error: SyncError | None


class SalesforceSink:
    """QuickBooks → Salesforce writes: update by Id, upsert by external id, then the entity's lines (its hooks).

    ``resolver`` finds Salesforce Ids for Link lookups the entity's lines make.
    """

    def __init__(self, sf: Any, resolver: Any) -> None:
        self.sf = sf
        self.resolver = resolver

    def write(self, spec: Any, works: list[Any]) -> None:
        """Write the records with something to send, then what the entity writes beside each written record."""
        self._write(spec, [w for w in works if w.outcome is None and w.error is None])
        crash_point("inbound_mid_write")
        self._write_lines(spec, works)

    def _write(self, spec: Any, works: list[Any]) -> None:
        """Linked records by Id (this also completes a pending QB-id write-back), new ones by external-id upsert."""
        by_id = [w for w in works if (w.link is not None or w.sf_id) and not w.recreate]
        by_key = [w for w in works if (w.link is None and not w.sf_id) or w.recreate]
        if by_id:
            records = [{**(w.changes or {}), "Id": w.sf_id or (w.link.sf_id if w.link else None)} for w in by_id]
            for work, result in zip(by_id, self.sf.update_many(spec.sf_object, records), strict=True):
                self._settle(work, result, created=False)
        if by_key:
            records = [dict(w.changes or {}) for w in by_key]
            for work, result in zip(by_key, self.sf.upsert_many(spec.sf_object, spec.external_id, records),
                                    strict=True):
                self._settle(work, result, created=None)

    def _write_lines(self, spec: Any, works: list[Any]) -> None:
        """What the entity writes beside each record now in Salesforce (its hooks: a payment's lines)."""
        done = [w for w in works if w.error is None and w.payload is not None
                and w.outcome in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED, None)
                and (w.sf_id or w.link is not None)]
        written = [(w.record, w.flat, str(w.sf_id or (w.link.sf_id if w.link else "")),
                    w.outcome is Outcome.CREATED) for w in done]
        errors = spec.hooks.write_lines(spec.declared, written, sf=self.sf, resolver=self.resolver)
        for work in done:
            if work.qb_id in errors:
                work.error = errors[work.qb_id]

    @staticmethod
    def _settle(work: Any, result: Any, *, created: bool | None) -> None:
        """One record's answer: its Id and created/updated, or its error (a plain message needs the user)."""
        if result.success:
            work.sf_id = result.id or work.sf_id
            made = bool(result.created) if created is None else created
            work.outcome = Outcome.CREATED if made else Outcome.UPDATED
            return
        error = result.error
        work.error = error if isinstance(error, SyncError) else NeedsUser(str(error), hint="check the record")
