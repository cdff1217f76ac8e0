"""The QuickBooks → Salesforce sync: Customer → Account, Item → Product2, Invoice → QB_Invoice__c.

One pass, per entity in that order:

1. **Read changes** from QuickBooks: records whose ``TimeModified`` is at or after the entity's watermark minus a
   small overlap (inactive ones included). The watermark is the newest ``TimeModified`` *seen in QuickBooks* —
   never the connector's clock — and each ``ListID``/``TxnID`` + ``EditSequence`` is handled once, so a change made
   in the same second as the last sync is read again by the overlap and not missed, and nothing is handled twice.
   No watermark = a full sync (with a progress callback). Reading QuickBooks costs no Salesforce call.
2. **Map** through the inbound mapping CSVs (Customer_to_Acct, Item_to_Product, Invoice_to_SF); Link lookups
   (``Linked_Account__c`` from ``CustomerRef.ListID``) come from the crosswalk first, then one SOQL query per
   (object, field) for the rest. Invoices get their ``Status__c`` (:mod:`qbsf.sync.invoice_status`).
3. **Skip what did not change**: a record none of whose mapped QuickBooks fields changed since both sides last
   agreed (the merge's base, :mod:`qbsf.sync.merge`; the snapshot for records synced before bases were kept) costs
   nothing — qbsf's own outbound writes included, so their echo costs nothing either.
4. **Merge**: for the rest, Salesforce's current values are read (one query per 200) and merged field by field:
   QuickBooks' changes are sent, Salesforce's own changes left alone, a field changed on both sides decided by the
   policy and logged with both values (:mod:`qbsf.sync.conflicts`).
5. **Write** in sObject Collections of 200: linked records by Id, new ones by external-id upsert (never duplicated):
   the Salesforce sink, :class:`qbsf.sync.pipeline.sink.SalesforceSink`.
6. **Deletions and inactivation**: one ListDeletedQuery/TxnDeletedQuery message per pass; a deleted or
   inactivated customer or item is recorded in the activity log (default) or marks a field in Salesforce.
   Nothing is deleted in Salesforce.
7. **Daily status pass**: invoices last sent as Open whose due date has passed (company time zone) become OverDue.

Public API::

    sync = InboundSync(config, sf_client, qb_client, state, mappings)
    report = sync.run(entities=None, full=False, reset=False, progress=None)   # InboundReport
    sync.reset(["Customer"])                                                   # or reset() for every entity
    sync.refresh_invoice_status()                                             # the daily pass alone
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, ClassVar

from qbsf.errors import AfterDependency, ConfigError, NeedsUser, QbsfError, SyncError
from qbsf.quickbooks.timestamps import CompanyClock, clock_for, company_zone
from qbsf.salesforce.soql import quote
from qbsf.sync.changes import IDS_PER_QUERY  # one IN-list size for both directions (the query URL's limit)
from qbsf.sync.conflicts import Conflict, ConflictPolicy, same
from qbsf.sync.crash import crash_point
from qbsf.sync.entities import INBOUND_SPECS, REGISTRY, InboundSpec, inbound_spec
from qbsf.sync.inbound_linking import link_by_name
from qbsf.sync.inbound_resync import clear_resend, keep_salesforce, mark_resend, read_current, resend_pending
from qbsf.sync.inbound_state import InboundState, Snapshot
from qbsf.sync.invoice_status import (
    OVERDUE,
    OpenInvoice,
    as_date,
    as_decimal,
    company_today,
    newly_overdue,
    offset_minutes,
    tz_from_offset_minutes,
)
from qbsf.sync.merge import (
    OWN,
    QUICKBOOKS,
    Base,
    FieldMerge,
    feeds_of,
    merge_fields,
    source_changes,
    source_key,
)
from qbsf.sync.merge_state import BaseStore, qb_key
from qbsf.sync.pipeline.batch import BatchReport, run_batch
from qbsf.sync.pipeline.failures import FailedRecord, record_failures, stuck_failure
from qbsf.sync.pipeline.sink import SalesforceSink
from qbsf.sync.pipeline.source import (
    Cursor,
    DeltaWanted,
    QuickBooksChanges,
    QuickBooksRead,
    in_batches,
    parse_utc,
)
from qbsf.sync.pipeline.source import quickbooks_version as _version
from qbsf.sync.policy import waits_for
from qbsf.sync.record_guard import map_each, refuse_non_numbers, refuse_unreadable, sources_of
from qbsf.sync.state import Activity, Direction, Link, Outcome, StateStore

logger = logging.getLogger(__name__)

QB_TO_SF = Direction.QB_TO_SF
Progress = Callable[[str, int, int], None]
_TZ_WATERMARK = "qb:company_utc_offset"
_DELETED = "qb:deleted"
# The version of a failed deletion action's failure row: retried by the deletions step (the record is gone from
# QuickBooks, so the entity's read cannot bring it again).
_DELETION_FAILED = "deleted|"


@dataclass(frozen=True)
class DeletionAction:
    """What happens in Salesforce when a QuickBooks record is deleted or made inactive."""

    field: str | None = None
    value: Any = None

    @classmethod
    def parse(cls, text: str | None) -> DeletionAction:
        """``record`` (default: the activity log only) or ``set:Field=value`` (e.g. ``set:IsActive=false``)."""
        raw = (text or "record").strip()
        if raw.casefold() == "record":
            return cls()
        if raw.casefold().startswith("set:") and "=" in raw:
            name, value = raw[4:].split("=", 1)
            if name.strip():
                lowered = value.strip().casefold()
                parsed: Any = {"true": True, "false": False, "": None}.get(lowered, value.strip())
                return cls(name.strip(), parsed)
        raise ConfigError(f"deletion action {raw!r} is not 'record' or 'set:Field=value'",
                          hint="e.g. sync.on_qb_delete = {Item = \"set:IsActive=false\"}")

    @property
    def records_only(self) -> bool:
        return self.field is None


@dataclass
class InboundConfig:
    """Settings of the QuickBooks → Salesforce sync, with defaults that need no configuration."""

    # QuickBooks stamps whole seconds: 10 s covers a save committed a little late; seen versions are skipped.
    overlap: timedelta = timedelta(seconds=10)
    batch_size: int = 1_000
    conflict_policy: ConflictPolicy = ConflictPolicy.NEWEST
    on_deleted: dict[str, DeletionAction] = field(default_factory=dict)
    company_tz: tzinfo | None = None
    status_field: str = "Status__c"
    opportunity_field: str | None = "Opportunity__c"
    # An unlinked QuickBooks record whose name Salesforce already has: "link" it, or "report" it (as outbound).
    on_existing_name: str = "link"

    def deletion_action(self, entity: str) -> DeletionAction:
        """The action configured for ``entity`` (QuickBooks or Salesforce name), default record only."""
        for key, action in self.on_deleted.items():
            if inbound_spec(key).name == inbound_spec(entity).name:
                return action
        spec = inbound_spec(entity)
        default = spec.hooks.default_deletion(spec.declared)
        return DeletionAction(*default) if default is not None else DeletionAction()

    @classmethod
    def from_settings(cls, settings: Any) -> InboundConfig:
        """Read ``sync.conflict_policy``, ``sync.on_qb_delete``, ``sync.inbound_overlap_seconds``,
        ``sync.company_utc_offset_minutes``, ``sync.batch_size`` and ``quickbooks.time_zone`` where present."""
        sync = getattr(settings, "sync", settings)
        config = cls()
        policy = getattr(sync, "conflict_policy", None)
        if policy:
            config.conflict_policy = ConflictPolicy.parse(policy)
        deletes = getattr(sync, "on_qb_delete", None) or {}
        if isinstance(deletes, Mapping):
            config.on_deleted = {inbound_spec(k).name: DeletionAction.parse(v) for k, v in deletes.items()}
        overlap = getattr(sync, "inbound_overlap_seconds", None)
        if isinstance(overlap, int | float) and overlap >= 0:
            config.overlap = timedelta(seconds=overlap)
        batch = getattr(sync, "batch_size", None)
        if isinstance(batch, int) and batch > 0:
            config.batch_size = batch
        offset = getattr(sync, "company_utc_offset_minutes", None)
        if isinstance(offset, int):
            config.company_tz = tz_from_offset_minutes(offset)
        on_existing = getattr(sync, "on_existing_name", None)
        if on_existing in ("link", "report"):
            config.on_existing_name = on_existing
        quickbooks = getattr(settings, "quickbooks", None)
        zone = company_zone(getattr(quickbooks, "time_zone", "") or "", getattr(quickbooks, "transport", "") or "")
        if zone is not None:
            config.company_tz = zone  # QuickBooks' own zone, with its DST rules (qbsf.quickbooks.timestamps)
        return config


# What one pass did with one QuickBooks entity: the report type both directions share.
InboundEntityReport = BatchReport


@dataclass
class InboundReport:
    """One QuickBooks → Salesforce pass: per-entity counts, Salesforce calls and QuickBooks messages spent."""

    cycle: str
    started_at: datetime
    full: bool = False
    reset: bool = False
    seconds: float = 0.0
    sf_calls: int = 0
    qb_messages: int = 0
    entities: dict[str, InboundEntityReport] = field(default_factory=dict)
    error: str | None = None

    def total(self, name: str) -> int:
        """One counter (queried, created, updated, failed, …) summed over every entity."""
        return sum(getattr(report, name) for report in self.entities.values())

    @property
    def ok(self) -> bool:
        """No pass-level error and no failed record."""
        return self.error is None and self.total("failed") == 0

    @property
    def failures(self) -> list[tuple[str, str, str, str]]:
        """Every failed record: (entity, qb id, name, message)."""
        return [(name, *failure) for name, report in self.entities.items() for failure in report.failures]

    def lines(self) -> list[str]:
        """The manual's log lines: ``✓ Queried 13 QB Customers`` then ``✓ 13 synced, ✗ 0 failed`` per entity."""
        out: list[str] = []
        for name, report in self.entities.items():
            word = _qb_word(name)
            out.append(f"✓ Queried {report.queried} QB {word}{'' if report.queried == 1 else 's'}")
            out.append(f"{'✗' if report.failed else '✓'} {report.synced} synced, ✗ {report.failed} failed")
        if self.error:
            out.append(f"✗ QB → SF pass stopped: {self.error}")
        return out

    def summary(self) -> str:
        """One log line for the whole pass."""
        if self.error:
            return f"✗ QB → SF pass failed: {self.error}"
        return (f"{'✗' if self.total('failed') else '✓'} QB → SF: {self.total('created')} created, "
                f"{self.total('updated')} updated, "
                f"{self.total('unchanged') + self.total('echoes')} unchanged, {self.total('conflicts')} conflicts, "
                f"✗ {self.total('failed')} failed ({self.sf_calls} Salesforce calls, {self.qb_messages} QuickBooks "
                f"messages, {self.seconds:.1f} s)")


def reset_inbound(state: StateStore, entities: Iterable[str] | None = None) -> list[str]:
    """Reset the QuickBooks → Salesforce sync of ``entities`` (all when None); returns the entity names.

    Forgets their watermarks and snapshots and leaves a re-send mark: the next pass writes each record again (a
    record deleted in Salesforce is recreated by external id), never overwriting a Salesforce value with the
    shorter form QuickBooks holds. Needs no connection, so a reset asked for while QuickBooks is away is the same.
    """
    names = [spec.name for spec in INBOUND_SPECS] if entities is None else \
        [inbound_spec(name).name for name in entities]
    store = InboundState(state)
    with state.batch():
        for name in names:
            state.reset_watermark(f"qb:{name}")
            store.forget(name)
        mark_resend(state, names)
        if entities is None:
            state.reset_watermark(_DELETED)
    logger.info("QB → SF watermarks reset: %s", ", ".join(names))
    return names


def _unwrap(client: Any) -> Any:
    """The real client behind an engine adapter (the inbound sync needs upserts and raw queries)."""
    inner = getattr(client, "client", None)
    return inner if inner is not None and (hasattr(inner, "upsert_many") or hasattr(inner, "add_many")) \
        else client


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _qb_word(name: str) -> str:
    """A bookkeeper's word for a QuickBooks entity the pass reports on (Payment for ReceivePayment)."""
    try:
        return inbound_spec(name).declared.qb_word
    except (ConfigError, ValueError):
        return name


def _qb_class(spec: InboundSpec) -> type | None:
    """The QuickBooks record class of ``spec`` (its field names are the base's keys)."""
    return spec.hooks.record_class(spec.declared)


def _snapshot_base(snapshot: Snapshot | None) -> Base:
    """A base for a record synced before bases were kept: its snapshot stands for both sides' agreed values."""
    values = dict(snapshot or {})
    return Base(sf_id=snapshot.sf_id if snapshot is not None else None,
                salesforce={k.casefold(): v for k, v in values.items()},
                quickbooks={OWN + k.casefold(): v for k, v in values.items()} if snapshot is not None else None)


def _label(spec: InboundSpec, flat: Mapping[str, Any]) -> str:
    return spec.hooks.label(spec.declared, flat)


class CrosswalkLinkResolver:
    """Link lookups from the crosswalk first (no API call), the rest with one SOQL query per object/field."""

    # Which crosswalk entity knows the Salesforce Id for a (object, external id field) Link: every declared pair's.
    KNOWN: ClassVar[dict[tuple[str, str], str]] = {(item.sf_object.casefold(), item.qb_id_field.casefold()): item.key
                                                   for item in REGISTRY}

    def __init__(self, state: StateStore, sf: Any) -> None:
        self.state = state
        self.sf = sf
        self.queries = 0

    def find_ids(self, sobject: str, field_name: str, values: Collection[str]) -> dict[str, str]:
        """Map each value to the Id of the ``sobject`` record whose ``field_name`` equals it."""
        wanted = sorted({v for v in values if v})
        found: dict[str, str] = {}
        entity = self.KNOWN.get((sobject.casefold(), field_name.casefold()))
        if entity is not None:
            links = self.state.lookup_qb_many(entity, wanted)
            found.update((value, links[value].sf_id) for value in wanted if value in links)
        rest = [v for v in wanted if v not in found]
        for start in range(0, len(rest), IDS_PER_QUERY):
            chunk = rest[start:start + IDS_PER_QUERY]
            self.queries += 1
            rows = self.sf.query(f"SELECT Id, {field_name} FROM {sobject} WHERE {field_name} IN "
                                 f"({', '.join(quote(v) for v in chunk)})")
            by_folded = {v.casefold(): v for v in chunk}
            for row in rows:
                value = row.get(field_name)
                if value is not None and str(value).casefold() in by_folded:
                    found.setdefault(by_folded[str(value).casefold()], row["Id"])
        return found


@dataclass
class _Work:
    """One QuickBooks record on its way to Salesforce."""

    record: Any
    flat: dict[str, Any]
    qb_id: str
    label: str
    payload: dict[str, Any] | None = None
    link: Link | None = None
    snapshot: Snapshot | None = None
    active: bool | None = None
    changes: dict[str, Any] | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    sf_won: dict[str, Any] = field(default_factory=dict)
    # The values both sides last agreed on, QuickBooks' values keyed like it, and the merge's decision.
    base: Base | None = None
    source: dict[str, Any] = field(default_factory=dict)
    merge: FieldMerge | None = None
    outcome: Outcome | None = None
    sf_id: str | None = None
    error: SyncError | None = None
    note: str | None = None
    sf_row: dict[str, Any] | None = None   # Salesforce's current values, when read this pass
    sf_read: bool = False
    recreate: bool = False                 # deleted in Salesforce: written again by external id
    kept: dict[str, Any] = field(default_factory=dict)  # Salesforce values QuickBooks holds only in short form


class InboundSync:
    """QuickBooks → Salesforce over one state store. Not thread-safe: run one pass at a time."""

    def __init__(self, config: InboundConfig | Any, sf_client: Any, qb_client: Any, state: StateStore,
                 mappings: Mapping[str, Any], *, clock: Callable[[], datetime] | None = None) -> None:
        self.config = config if isinstance(config, InboundConfig) else InboundConfig.from_settings(config)
        self.sf = _unwrap(sf_client)
        self.qb = _unwrap(qb_client)
        self.state = state
        self.store = InboundState(state)
        self.bases = BaseStore(state)
        self.mappings = dict(mappings)
        self.clock = clock or state.now
        self.resolver = CrosswalkLinkResolver(state, self.sf)
        self.sink = SalesforceSink(self.sf, self.resolver)
        self.cycle = ""

    # ---- public ------------------------------------------------------------------------------------------------
    def specs(self, entities: Iterable[str] | None = None) -> list[InboundSpec]:
        """The entities to sync (those asked for, or all), in dependency order; each needs its mapping CSV."""
        wanted = None if entities is None else {inbound_spec(name).name for name in entities}
        chosen = [spec for spec in INBOUND_SPECS if wanted is None or spec.name in wanted]
        missing = [spec.sheet for spec in chosen if spec.sheet not in self.mappings]
        if missing and entities is not None:
            raise ConfigError(f"no mapping for {', '.join(missing)}",
                              hint="add the inbound mapping CSV to the mappings folder (see examples/mappings)")
        return [spec for spec in chosen if spec.sheet in self.mappings]

    def reset(self, entities: Iterable[str] | None = None) -> list[str]:
        """Forget watermarks (one entity's, or all) and snapshots: the next pass re-sends every record of them.

        The dashboard's Reset and ``run(reset=True)`` (``qbsf sync qb-to-sf --reset``) both come here (see
        :func:`reset_inbound`).
        """
        return reset_inbound(self.state, entities)

    def run(self, entities: Iterable[str] | None = None, *, full: bool = False, reset: bool = False,
            progress: Progress | None = None, should_stop: Callable[[], bool] | None = None) -> InboundReport:
        """One QuickBooks → Salesforce pass over ``entities`` (all with a mapping by default).

        ``full`` re-reads every record (unchanged ones still cost nothing); ``reset`` first forgets the
        watermarks and snapshots, so every record is read and written again (by external id: no duplicates).
        """
        started = time.perf_counter()
        entity_list = list(entities) if entities is not None else None
        specs = self.specs(entity_list)
        self.cycle = uuid.uuid4().hex[:12]
        report = InboundReport(cycle=self.cycle, started_at=self.state.now(), full=full, reset=reset)
        sf_before, qb_before = self._sf_calls(), self._qb_messages()
        if reset:
            self.reset([spec.name for spec in specs] if entity_list is not None else None)
        try:
            resends = {spec.name: resend_pending(self.state, spec.name) for spec in specs}
            deleted_since = self._deleted_start() if specs else None
            # Every entity's delta read and the deletions read start in one QuickBooks message.
            reads, gone = self._read_changes(specs, full=full, resends=resends, deleted_since=deleted_since) \
                if specs and not (should_stop is not None and should_stop()) else ({}, None)
            for spec in specs:
                if should_stop is not None and should_stop():
                    break
                entity_report = report.entities.setdefault(spec.name, InboundEntityReport())
                resend = resends[spec.name]
                finished = self._sync_entity(spec, reads[spec.name], entity_report, resend=resend, full=full,
                                             progress=progress, should_stop=should_stop)
                if resend and finished:
                    clear_resend(self.state, spec.name)
            stopped = should_stop is not None and should_stop()
            if specs and not stopped and gone is not None:
                self._deletions(specs, report, gone, deleted_since)
            status_specs = [spec for spec in specs if spec.declared.daily_status]
            if status_specs and not stopped:
                for name, refreshed in self.refresh_status(status_specs).items():
                    report.entities.setdefault(name, InboundEntityReport()).status_refreshed += refreshed
        except QbsfError as exc:
            report.error = str(exc)
            logger.error("QB → SF pass %s stopped: %s", report.cycle, exc)
        report.seconds = time.perf_counter() - started
        report.sf_calls = self._sf_calls() - sf_before
        report.qb_messages = self._qb_messages() - qb_before
        # an idle pass (nothing written, nothing failed) logs at debug: an idle cycle is one line, not eight
        idle = report.error is None and not any(report.total(name) for name in (
            "created", "updated", "failed", "conflicts", "deleted", "inactivated", "status_refreshed"))
        level = logging.DEBUG if idle else logging.INFO
        for line in report.lines():
            logger.log(level, line)
        logger.log(level, report.summary())
        return report

    def refresh_invoice_status(self, *, today: date | None = None) -> int:
        """The daily pass of every entity that declares one (invoices, bills); how many records turned OverDue."""
        return sum(self.refresh_status(today=today).values())

    def refresh_status(self, specs: Sequence[InboundSpec] | None = None, *,
                       today: date | None = None) -> dict[str, int]:
        """The daily pass: records sent as Open whose due date has passed become OverDue in Salesforce, for every
        entity whose declaration asks for it (``daily_status``: invoices, bills; the balance is the declaration's
        ``balance_field``).

        Runs at most once per company day and entity unless ``today`` is given; needs no QuickBooks message and
        costs one Salesforce call per 200 records that actually turned OverDue. Returns how many did, by entity.
        """
        tz = self._company_tz()
        day = today or (company_today(self.clock(), tz) if tz is not None else None)
        if day is None:
            return {}  # no QuickBooks record seen yet, so nothing can be overdue
        wanted = [spec for spec in (INBOUND_SPECS if specs is None else specs) if spec.declared.daily_status]
        return {spec.name: self._refresh_status(spec, day, once_a_day=today is None) for spec in wanted}

    def _refresh_status(self, spec: InboundSpec, day: date, *, once_a_day: bool) -> int:
        mark = f"{spec.source}:status_day"  # qb:Invoice:status_day, qb:Bill:status_day
        if once_a_day and self.state.get_watermark(mark) == day.isoformat():
            return 0
        overdue = newly_overdue(self.store.open_invoices(due_before=day, entity=spec.name), day)
        snapshots = self.store.snapshots(spec.name, [invoice.txn_id for invoice in overdue])
        # By Id, never by upsert: a status alone must not create a record someone deleted in Salesforce.
        known = [(i, snapshots[i.txn_id]) for i in overdue if i.txn_id in snapshots and snapshots[i.txn_id].sf_id]
        lost = [i.txn_id for i in overdue if i.txn_id not in {k.txn_id for k, _ in known}]
        results = self.sf.update_many(spec.sf_object, [{"Id": snap.sf_id, self.config.status_field: OVERDUE}
                                                       for _, snap in known]) if known else []
        events: list[Activity] = []
        updated: dict[str, tuple[str | None, bool | None, Mapping[str, Any]]] = {}
        turned: list[OpenInvoice] = []
        for (invoice, snapshot), result in zip(known, results, strict=True):
            if result.success:
                turned.append(OpenInvoice(invoice.txn_id, invoice.due_date, invoice.balance, OVERDUE))
                updated[invoice.txn_id] = (snapshot.sf_id, snapshot.active,
                                           {**snapshot, self.config.status_field: OVERDUE})
                events.append(Activity(spec.sf_object, QB_TO_SF, "status", Outcome.UPDATED, sf_id=snapshot.sf_id,
                                       qb_id=invoice.txn_id, cycle=self.cycle,
                                       message=f"due {invoice.due_date} passed with a balance: Open → OverDue"))
            else:
                events.append(Activity(spec.sf_object, QB_TO_SF, "status", Outcome.FAILED, sf_id=snapshot.sf_id,
                                       qb_id=invoice.txn_id, cycle=self.cycle,
                                       message=f"Open → OverDue not saved: {result.error}"))
        status_key = self.config.status_field.casefold()
        bases = {txn_id: base.updated(salesforce={status_key: OVERDUE}, quickbooks={OWN + status_key: OVERDUE})
                 for txn_id, base in self.bases.get_many(spec.crosswalk, updated).items()}
        with self.state.batch():
            self.store.set_invoice_statuses(turned, entity=spec.name)
            self.store.set_snapshots(spec.name, updated)
            self.bases.put_many(spec.crosswalk, bases)
            if lost:
                self.store.forget(spec.name, lost)
            self.state.log_many(events)
            # A failed update is tried again on the next pass, not tomorrow.
            if once_a_day and len(turned) == len(known):
                self.state.set_watermark(mark, day.isoformat())
        if turned:
            logger.info("✓ %d %s(s) now OverDue (due date passed, %s)", len(turned), spec.declared.qb_word.lower(),
                        day.isoformat())
        return len(turned)

    # ---- counters ----------------------------------------------------------------------------------------------
    def _sf_calls(self) -> int:
        value = getattr(self.sf, "calls", 0)
        return value if isinstance(value, int) else 0

    def _qb_messages(self) -> int:
        value = getattr(self.qb, "messages_sent", getattr(self.qb, "messages", 0))
        return value if isinstance(value, int) else 0

    # ---- time zone ---------------------------------------------------------------------------------------------
    def _company_tz(self) -> tzinfo | None:
        if self.config.company_tz is not None:
            return self.config.company_tz
        stored = self.state.get_watermark(_TZ_WATERMARK)
        return tz_from_offset_minutes(int(stored)) if stored not in (None, "") else None

    def _learn_tz(self, records: Sequence[Any]) -> None:
        # QuickBooks stamps TimeModified in the company's zone: its offset is the company's time zone.
        for record in records:
            modified = getattr(record, "TimeModified", None)
            minutes = offset_minutes(modified) if isinstance(modified, datetime) else None
            if minutes is not None:
                if self.state.get_watermark(_TZ_WATERMARK) != str(minutes):
                    self.state.set_watermark(_TZ_WATERMARK, str(minutes))
                return

    def today(self) -> date | None:
        """Today in the company's time zone (None before any QuickBooks record has been seen)."""
        tz = self._company_tz()
        return None if tz is None else company_today(self.clock(), tz)

    # ---- reading QuickBooks ------------------------------------------------------------------------------------
    def _qb_clock(self) -> CompanyClock:
        """QuickBooks' clock: stamps and FromModifiedDate in its local wall time (qbsf.quickbooks.timestamps)."""
        learned = self.state.get_watermark(_TZ_WATERMARK)
        return clock_for(self.config.company_tz, tz_from_offset_minutes(int(learned)) if learned else None,
                         now=self.clock())

    def _cursor(self, spec: InboundSpec) -> Cursor:
        return Cursor(self.state, spec.source, entity=spec.name, overlap=self.config.overlap,
                      resolution=timedelta(seconds=1), stamp=_utc_text)

    def _read_changes(self, specs: Sequence[InboundSpec], *, full: bool, resends: Mapping[str, bool],
                      deleted_since: datetime | None) -> tuple[dict[str, QuickBooksRead], Any]:
        """Start every entity's delta read and the deletions read in one message (their pages stream on)."""
        wanted = [DeltaWanted(spec.name, spec.name, self._cursor(spec), full=full or resends[spec.name],
                              lines=spec.declared.reads_lines, linked=spec.declared.reads_linked,
                              id_field=spec.id_field, by_ids=self._reader(spec)) for spec in specs]
        list_types = [t for spec in specs if not spec.is_txn for t in spec.deleted_types]
        txn_types = [t for spec in specs if spec.is_txn for t in spec.deleted_types]
        return QuickBooksChanges(self.qb, clock=self._qb_clock).read(
            wanted, deleted=(list_types, txn_types, deleted_since))

    def _reader(self, spec: InboundSpec) -> Callable[[Sequence[str]], Iterable[Any]]:
        """How the read window's records not seen yet are read by id: as the entity reads its records."""
        return lambda ids: spec.hooks.read(spec.declared, self.qb, ids=list(ids), missing_ok=True)

    def _query_ids(self, spec: InboundSpec, ids: list[str]) -> list[Any]:
        if not ids:
            return []
        found = spec.hooks.read(spec.declared, self.qb, ids=ids)
        return self._qb_clock().corrected(found)  # the same versions as the delta query's

    def _sync_entity(self, spec: InboundSpec, read: QuickBooksRead, report: InboundEntityReport, *, resend: bool,
                     progress: Progress | None, should_stop: Callable[[], bool] | None = None,
                     full: bool = False) -> bool:
        """Sync one entity's changes page by page; True when every record read was handled (not stopped half way).

        A page is synced in batches of ``batch_size`` and let go: the pass holds a page and a batch, not the read.

        Each batch is acknowledged on its own: its ids + versions are marked seen in the transaction that records
        it. The read window moves only once every batch is recorded — QuickBooks does not return a read in time
        order, so moving it per batch could step over a record of a later batch — but a pass that stops or dies
        after batch k reads the window again and skips batches 1..k as seen: they are not written twice (a reset's
        re-send included). Only ``full`` (re-read everything) looks at seen versions again.
        """
        cursor, mark, since = read.cursor, read.mark, read.since
        forget = _utc_text(since) if since is not None else None
        # Records that failed earlier and are due again (their version may not have changed); those the delta read
        # brings anyway are synced with it.
        due = [f.record_key for f in self.state.failures_due(spec.sf_object, QB_TO_SF)
               if not (f.version or "").startswith(_DELETION_FAILED)]  # those are the deletions step's to retry
        due_left = set(due)
        size = max(1, int(self.config.batch_size))
        newest: datetime | None = None
        done = total = 0  # records synced, and records known to sync so far (the read streams on)
        stopped = False

        def sync(records: list[Any]) -> bool:
            nonlocal done
            for chunk in in_batches(records, size):
                if should_stop is not None and should_stop():
                    return False  # stop after the batch in hand; the rest is read again next pass (watermark unmoved)
                self._sync_batch(spec, chunk, report, resend=resend, cursor=cursor, forget_before=forget)
                done += len(chunk)
                if progress is not None:
                    progress(spec.name, done, total)
            return True

        for page in read.pages:
            self._learn_tz(page)
            versions = [(getattr(r, spec.id_field), _version(r)) for r in page]
            # Versions handled before are skipped: the overlap's, and those a stopped pass acknowledged batch by batch
            fresh = set(versions) if full else cursor.unseen(versions)
            work = [r for r, v in zip(page, versions, strict=True) if v in fresh]
            # What the overlap read again and was handled before does not count as queried (nor cost anything).
            report.queried += len(work)
            report.reread += len(page) - len(work)
            stamps = [r.TimeModified for r in page if r.TimeModified is not None]
            if stamps:
                newest = max(stamps) if newest is None else max(newest, *stamps)
            due_left.difference_update(getattr(r, spec.id_field) for r in work)
            total += len(work)
            if progress is not None:
                progress(spec.name, done, total)
            if not sync(work):
                stopped = True
                break
        if not stopped and due_left:
            wanted = [key for key in due if key in due_left]
            again = self._query_ids(spec, wanted)
            found = {getattr(r, spec.id_field) for r in again}
            # Gone from QuickBooks since it failed: nothing left to retry (the deleted query reports it).
            self.state.clear_failures_many(spec.sf_object, QB_TO_SF, [key for key in wanted if key not in found])
            total += len(again)
            stopped = not sync(again)
        if stopped:
            return False
        moved = newest is not None and (mark is None or newest > mark)
        with self.state.batch():
            if moved:
                cursor.advance(newest)
            cursor.after_read(read.start, mark_before=mark, whole_read=True, mark_after=newest if moved else mark)
            crash_point("inbound_in_window_move")
        crash_point("inbound_after_window_move")
        return True

    # ---- one batch ---------------------------------------------------------------------------------------------
    def _sync_batch(self, spec: InboundSpec, records: Sequence[Any], report: InboundEntityReport, *,
                    resend: bool, cursor: Cursor, forget_before: str | None) -> None:
        run_batch(_InboundBatch(self, spec, report, resend=resend, cursor=cursor, forget_before=forget_before),
                  records)

    def _read_records(self, spec: InboundSpec, records: Sequence[Any], report: InboundEntityReport) -> list[_Work]:
        """QuickBooks records as work items: flat as the mappings read them; one that cannot be read fails alone,
        one the entity does not hold (a sub-customer is no Account) is skipped."""
        from qbsf.quickbooks.records import to_flat

        works = []
        for record in records:
            try:
                flat = to_flat(record)
            except Exception as exc:  # a record qbsf cannot read fails alone
                qb_id = str(getattr(record, spec.id_field, "") or "")
                works.append(_Work(record, {}, qb_id, f"{spec.name} {qb_id}", error=NeedsUser(
                    f"{spec.name} {qb_id}: the QuickBooks record could not be read ({exc})",
                    hint="check the record in QuickBooks")))
                continue
            qb_id = str(flat.get(spec.id_field) or "")
            label = _label(spec, flat)
            works.append(_Work(record, flat, qb_id, label, active=flat.get("IsActive"),
                               error=refuse_unreadable(f"QuickBooks {spec.name} {label!r}", flat)))
        for work in works:
            why = spec.hooks.skip_inbound(spec.declared, work.flat) if work.error is None else None
            if why:
                work.outcome = Outcome.SKIPPED
                work.note = why
                report.skipped += 1
        return works

    def _known(self, spec: InboundSpec, works: list[_Work], *, resend: bool) -> None:
        """What this side already knows of each record: its link, snapshot and base (none when re-sending)."""
        links = self.state.lookup_qb_many(spec.crosswalk, [w.qb_id for w in works])
        snapshots = {} if resend else self.store.snapshots(spec.name, [w.qb_id for w in works])
        bases = {} if resend else self.bases.get_many(spec.crosswalk, [w.qb_id for w in works])
        qb_class = _qb_class(spec)
        for work in works:
            work.link = links.get(work.qb_id)
            work.snapshot = snapshots.get(work.qb_id)
            base = bases.get(work.qb_id)
            linked_to = work.link.sf_id if work.link is not None else None
            if base is not None and base.quickbooks is not None and base.sf_id in (None, linked_to):
                work.base = base
            work.source = {qb_key(qb_class, name): value for name, value in work.flat.items()}

    def _map_records(self, spec: InboundSpec, works: list[_Work]) -> None:
        """The inbound mapping, then what Salesforce gets beyond it (external id, the entity's own values), then
        same-named Salesforce records linked instead of doubled."""
        todo = [w for w in works if w.outcome is None and w.error is None]
        spec.hooks.prepare_inbound(spec.declared, [w.flat for w in todo], self.qb)
        mapping = self.mappings[spec.sheet]
        sources = sources_of(mapping)
        for work, result in zip(todo, map_each(mapping, [w.flat for w in todo], resolver=self.resolver,
                                               label=f"QuickBooks {spec.name}"), strict=True):
            if isinstance(result, dict):
                work.error = refuse_non_numbers(work.label, result, sources)
                work.payload = None if work.error else result
            else:
                work.error = self._waiting_parent(mapping, work, result)
        # The Salesforce records that wrote these QuickBooks records (a mirrored invoice's Opportunity).
        origin = spec.declared.origin
        origins = self.state.lookup_qb_many(origin, [w.qb_id for w in todo]) if origin else {}
        today = self.today() or datetime.now(UTC).date()
        for work in todo:
            if work.payload is None:
                continue
            work.payload[spec.external_id] = work.qb_id
            found = origins.get(work.qb_id)
            spec.hooks.complete_payload(spec.declared, work.payload, work.flat, config=self.config, today=today,
                                        origin_sf_id=found.sf_id if found is not None else None)
        # What the record's lines or linked transactions carry beyond its flat fields (a credit memo's invoice).
        mapped = [w for w in todo if w.payload is not None]
        refused = spec.hooks.complete_from_records(spec.declared, [(w.record, w.payload) for w in mapped],
                                                   resolver=self.resolver) if mapped else {}
        for work in mapped:
            if work.qb_id in refused:
                work.error, work.payload = refused[work.qb_id], None
        # Never synced and Salesforce has a record of that name: link it (or report it), never a second one.
        link_by_name(spec, works, self.sf, self.state, policy=self.config.on_existing_name, quote=quote)

    def _waiting_parent(self, mapping: Any, work: _Work, error: SyncError) -> SyncError:
        """A Link lookup that found no Salesforce record for a synced entity's QuickBooks id (an invoice's customer
        whose Account is not in Salesforce yet) waits for that record to be linked — retried as soon as it is, not
        on a timer (the error policy's wait for the parent)."""
        if not isinstance(error, AfterDependency) or waits_for(error) is not None:
            return error
        for rule in getattr(mapping, "rules", ()):
            if f"{rule.source} → {rule.target}" not in error.message:
                continue
            value = work.flat.get(rule.source)
            for link in rule.links:
                entity = CrosswalkLinkResolver.KNOWN.get((link.sobject.casefold(), link.field.casefold()))
                if entity is not None and value:
                    return AfterDependency(error.message, hint=error.hint, parent=(entity, str(value)))
        return error

    def _diff(self, spec: InboundSpec, works: list[_Work], report: InboundEntityReport, *, resend: bool) -> None:
        """Records whose Salesforce record was deleted there are not brought back; unchanged records and echoes cost
        nothing; the rest are merged with Salesforce's current values."""
        self._keep_deleted_in_salesforce(spec, works, report)
        self._classify(spec, works, report, resend=resend)
        self._read_salesforce(spec, [w for w in works if w.changes is None and w.outcome is None and w.error is None
                                     and (w.snapshot is not None or w.base is not None)])
        self._keep_salesforce_data(spec, works, resend=resend)
        if not spec.declared.inbound_creates:
            for work in works:  # values go back to a record Salesforce holds; one deleted there is not made again
                if work.outcome is None and work.error is None and work.sf_read and work.sf_row is None:
                    work.outcome, work.recreate = Outcome.SKIPPED, False
                    work.note = f"its {spec.sf_word} was deleted in Salesforce: not created again"
                    report.skipped += 1

    def _keep_deleted_in_salesforce(self, spec: InboundSpec, works: list[_Work], report: InboundEntityReport) -> None:
        """A QuickBooks record whose Salesforce record was deleted (or merged away) there is not created again.

        The life-cycle check told the user (an open notice); upserting by the QuickBooks id would bring the deleted
        record back as a new one — the user restores it from the Recycle Bin (it relinks) or unlinks it."""
        from qbsf.sync.lifecycle import Notices

        linked = [w.link.sf_id for w in works if w.link is not None and w.link.sf_id and w.outcome is None]
        gone = {sf_id: notice for sf_id, notice in Notices(self.state).get_many(spec.crosswalk, linked).items()
                if notice.kind in ("deleted", "merged")}
        for work in works:
            notice = gone.get(work.link.sf_id) if work.link is not None and work.outcome is None else None
            if notice is None:
                continue
            work.outcome = Outcome.SKIPPED
            work.sf_id = notice.sf_id
            work.note = (f"its {spec.sf_word} was {notice.kind} in Salesforce: not created again — restore it from "
                         f"the Recycle Bin (it relinks), or unlink it (qbsf link --entity {spec.crosswalk} --unlink "
                         f"{notice.sf_id}) to create a new one")
            report.skipped += 1

    def _classify(self, spec: InboundSpec, works: list[_Work], report: InboundEntityReport, *, resend: bool) -> None:
        for work in works:
            if work.payload is None or work.outcome is not None:
                continue
            if not spec.declared.inbound_creates and work.link is None:
                work.outcome = Outcome.SKIPPED  # its values go back only to records Salesforce sent
                work.note = f"made in QuickBooks, not sent from a Salesforce {spec.sf_word}: left in QuickBooks"
                report.skipped += 1
                continue
            if not spec.declared.create_inactive and work.active is False and work.link is None \
                    and work.snapshot is None:
                work.outcome = Outcome.SKIPPED  # an inactive customer never synced: no new Account for it
                work.note = "inactive in QuickBooks, never synced: not created"
                report.skipped += 1
                continue
            if resend:
                work.changes = {k: v for k, v in work.payload.items() if v is not None}
                continue
            if work.base is not None:
                # Nothing QuickBooks holds changed since both sides last agreed (an echo of qbsf's own write
                # included): nothing to do, at no Salesforce call. Otherwise the merge decides, field by field.
                if not source_changes(work.base.quickbooks, work.source, work.payload, self._feeds(spec),
                                      always=(spec.external_id,)):
                    work.outcome = Outcome.UNCHANGED
                    work.sf_id = work.base.sf_id or (work.link.sf_id if work.link else None)
                    seen_here = work.snapshot is not None and work.snapshot.edit_sequence == work.record.EditSequence
                    if not seen_here and work.link is not None and \
                            work.link.edit_sequence == work.record.EditSequence:
                        work.note = "echo of qbsf's own write"
                continue
            # Records synced before bases were kept: a version this sync already snapshotted is compared with the
            # snapshot (an invoice's status moves with the date); only a version the outbound sync wrote is an echo.
            seen_here = work.snapshot is not None and work.snapshot.edit_sequence == work.record.EditSequence
            echo = not seen_here and work.link is not None and work.link.edit_sequence is not None \
                and work.link.edit_sequence == work.record.EditSequence
            if echo:
                # This QuickBooks version is qbsf's own write: Salesforce already has these values.
                work.outcome = Outcome.UNCHANGED
                work.note = "echo of qbsf's own write"
                work.sf_id = work.link.sf_id if work.link else None
                continue
            if work.snapshot is not None and all(same(v, work.snapshot.get(k)) for k, v in work.payload.items()) \
                    and set(work.payload) <= set(work.snapshot):
                work.outcome = Outcome.UNCHANGED
                work.sf_id = work.snapshot.sf_id
                continue
            if work.snapshot is None:
                # Never synced from QuickBooks: send what QuickBooks has, never blanking a Salesforce value.
                work.changes = {k: v for k, v in work.payload.items() if v is not None}

    def _read_salesforce(self, spec: InboundSpec, works: list[_Work]) -> None:
        """Salesforce's current values of records synced before, to find conflicts (one query per 200)."""
        if not works:
            return
        fields = sorted({name for w in works for name in (w.payload or {}) if name != spec.external_id})
        by_id: dict[str, dict[str, Any]] = {}
        ids = [w.qb_id for w in works]
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start:start + IDS_PER_QUERY]
            soql = (f"SELECT Id, LastModifiedDate, {spec.external_id}, {', '.join(fields)} FROM {spec.sf_object} "
                    f"WHERE {spec.external_id} IN ({', '.join(quote(v) for v in chunk)})")
            for row in self.sf.query(soql):
                key = row.get(spec.external_id)
                if key:
                    by_id[str(key).casefold()] = row
        # Linked records whose QuickBooks id has not reached Salesforce yet (a pending write-back): read by Id.
        pending = {sf_id: work.qb_id.casefold() for work in works if work.qb_id.casefold() not in by_id
                   for sf_id in [work.link.sf_id if work.link else (work.base.sf_id if work.base else None)] if sf_id}
        ids = sorted(pending)
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start:start + IDS_PER_QUERY]
            soql = (f"SELECT Id, LastModifiedDate, {spec.external_id}, {', '.join(fields)} FROM {spec.sf_object} "
                    f"WHERE Id IN ({', '.join(quote(v) for v in chunk)})")
            for row in self.sf.query(soql):
                if row.get("Id") in pending:
                    by_id[pending[row["Id"]]] = row
        carried = self._carried_back(spec)
        for work in works:
            assert work.payload is not None
            row = by_id.get(work.qb_id.casefold())
            qb_modified = work.record.TimeModified
            sf_modified = parse_utc(str(row.get("LastModifiedDate"))) if row else None
            base = work.base or _snapshot_base(work.snapshot)
            by_name = {str(k).casefold(): v for k, v in row.items()} if row is not None else None
            work.merge = merge_fields(
                base_source=base.quickbooks, base_target=base.salesforce, source=work.source, proposed=work.payload,
                feeds=self._feeds(spec) if work.base is not None else {},
                target={name: by_name.get(name.casefold()) for name in work.payload} if by_name is not None else None,
                policy=self.config.conflict_policy, source_side=QUICKBOOKS, source_modified=qb_modified,
                target_modified=sf_modified, always=(spec.external_id,), carried=carried)
            if work.merge.stuck and row is not None:
                record = work.label if spec.is_txn else f"{spec.name} {work.label!r}"
                work.error = stuck_failure(record, work.merge.stuck, source_side=QUICKBOOKS,
                                           policy=self.config.conflict_policy, reverse_sheet=spec.outbound_sheet)
                continue
            changes, conflicts = work.merge.send, work.merge.conflicts
            work.changes = changes
            work.conflicts = conflicts
            work.sf_won = {c.field: c.sf_value for c in conflicts if c.winner == "salesforce"}
            work.sf_row, work.sf_read = row, True
            if row is not None:
                work.sf_id = row.get("Id")
            if row is None:
                # Deleted in Salesforce since: recreate it from QuickBooks (by external id, so never twice).
                work.changes = {k: v for k, v in work.payload.items() if v is not None}
                work.merge = None
            elif len(changes) <= 1 and not conflicts:
                work.outcome = Outcome.UNCHANGED

    def _keep_salesforce_data(self, spec: InboundSpec, works: list[_Work], *, resend: bool) -> None:
        """Before QuickBooks' values overwrite Salesforce records that exist: read them (when not read yet), recreate
        the deleted ones, and keep each Salesforce value QuickBooks holds only in a shorter form (see
        :mod:`qbsf.sync.inbound_resync`). A reset re-sends every record; otherwise nothing left to say is unchanged.
        """
        todo = [w for w in works if w.outcome is None and w.error is None and w.changes is not None]
        unread = [w for w in todo if not w.sf_read and (resend or w.link is not None or w.sf_id)]
        outbound = self.mappings.get(spec.outbound_sheet) if spec.outbound_sheet else None
        if unread:
            fields = {name for w in unread for name in (w.payload or {})}
            fields.update(name for name in getattr(outbound, "source_fields", ()) if "." not in name)
            rows = read_current(self.sf, spec, unread, fields, quote)
            for work in unread:
                work.sf_row, work.sf_read = rows.get(work.qb_id), True
        for work in todo:
            assert work.payload is not None and work.changes is not None
            if not work.sf_read:
                continue
            row = work.sf_row
            if row is None:
                if work.link is not None or work.snapshot is not None:
                    # Deleted in Salesforce: recreate it from QuickBooks by external id (so never twice).
                    work.recreate, work.sf_id = True, None
                    work.changes = {k: v for k, v in work.payload.items() if v is not None}
                continue
            work.sf_id = row.get("Id") or work.sf_id
            kept = keep_salesforce(work.changes, row, work.flat, inbound=self.mappings[spec.sheet],
                                   outbound=outbound, qb_record=work.record)
            kept.pop(spec.external_id, None)
            if kept:
                work.changes = {k: v for k, v in work.changes.items() if k not in kept}
                work.sf_won.update(kept)
                work.kept = kept
                if work.merge is not None:
                    work.merge.send = {k: v for k, v in work.merge.send.items() if k not in kept}
            if not resend and not work.conflicts and all(
                    k == spec.external_id and same(v, row.get(spec.external_id)) for k, v in work.changes.items()):
                work.outcome = Outcome.UNCHANGED  # Salesforce already holds all QuickBooks has to say

    def _agree_kept(self, spec: InboundSpec, work: _Work, merged: FieldMerge) -> None:
        """Both sides agree on a kept field as they hold it: Salesforce its longer value, QuickBooks its short form."""
        feeds = self._feeds(spec)
        for name, value in work.kept.items():
            merged.agreed_target[name.casefold()] = value
            for key in source_key(feeds, name, str.casefold):
                merged.agreed_source[key] = (work.payload or {}).get(name) if key.startswith(OWN) else \
                    work.source.get(key)

    def _carried_back(self, spec: InboundSpec) -> Any:
        """Whether the Salesforce → QuickBooks mapping (``spec.outbound_sheet``) carries a Salesforce field of the
        inbound sheet back to the QuickBooks field it is made from: where a Salesforce win can reach QuickBooks.

        A field no QuickBooks field feeds (a Static value, the status qbsf derives) counts as carried.
        """
        feeds = self._feeds(spec)
        qb_class = _qb_class(spec)
        outbound = self.mappings.get(spec.outbound_sheet) if spec.outbound_sheet else None
        rules = [(rule.source.casefold(), qb_key(qb_class, rule.target))
                 for rule in (getattr(outbound, "rules", None) or ())]
        by_name = {name.casefold(): sources for name, sources in feeds.items()}

        def carried(name: str) -> bool:
            sources = by_name.get(name.casefold()) or ()
            return not sources or any(sf_field == name.casefold() and qb_field in sources
                                      for sf_field, qb_field in rules)
        return carried

    def _feeds(self, spec: InboundSpec) -> dict[str, tuple[str, ...]]:
        qb_class = _qb_class(spec)
        return feeds_of(self.mappings[spec.sheet].rules, key=lambda name: qb_key(qb_class, name))

    def _full_merge(self, spec: InboundSpec, work: _Work) -> FieldMerge:
        """A record written whole (new, re-sent or recreated): every mapped field is agreed as written."""
        return merge_fields(base_source=None, base_target=None, source=work.source,
                            proposed={k: v for k, v in (work.payload or {}).items()
                                      if work.changes is None or k in work.changes or v is None},
                            feeds=self._feeds(spec), target=None, policy=self.config.conflict_policy,
                            source_side=QUICKBOOKS, source_modified=None, target_modified=None)

    def _record(self, spec: InboundSpec, works: list[_Work], report: InboundEntityReport, *,
                acknowledge: Callable[[], None] | None = None) -> None:
        """One transaction: snapshots, crosswalk, open invoices, failures and the activity log for the batch, and
        ``acknowledge`` (the batch's versions marked seen) with them."""
        events: list[Activity] = []
        bases: dict[str, Base] = {}
        snapshots: dict[str, tuple[str | None, bool | None, Mapping[str, Any]]] = {}
        edit_sequences: dict[str, str | None] = {}
        new_links: list[Link] = []
        sequences: dict[str, str] = {}
        failed: list[FailedRecord] = []
        cleared: list[str] = []
        statuses: list[OpenInvoice] = []
        inactivated: list[_Work] = []
        written_back: list[str] = []
        recreated: list[str] = []
        skipped_alike: dict[str, list[_Work]] = defaultdict(list)
        for work in works:
            if work.error is not None:
                # the error's text already ends with its hint
                failed.append(FailedRecord(work.qb_id, work.label, work.error, f"{work.label}: {work.error}",
                                           _version(work.record), "upsert", sf_id=work.sf_id, qb_id=work.qb_id))
                continue
            cleared.append(work.qb_id)
            if work.outcome is Outcome.SKIPPED:
                skipped_alike[work.note or ""].append(work)
                continue
            assert work.payload is not None
            sf_id = work.sf_id or (work.link.sf_id if work.link else None) or \
                (work.snapshot.sf_id if work.snapshot else None)
            if work.outcome is Outcome.UNCHANGED:
                if work.note:
                    report.echoes += 1
                else:
                    report.unchanged += 1
            elif work.outcome is Outcome.CREATED:
                report.created += 1
            else:
                report.updated += 1
            for conflict in work.conflicts:
                report.conflicts += 1
                events.append(Activity(spec.sf_object, QB_TO_SF, "conflict",
                                       Outcome.UPDATED if conflict.winner == "quickbooks" else Outcome.SKIPPED,
                                       sf_id=sf_id, qb_id=work.qb_id, cycle=self.cycle,
                                       message=f"{work.label}: {conflict.describe()}"))
            if work.outcome is not Outcome.UNCHANGED:
                events.append(Activity(spec.sf_object, QB_TO_SF, "upsert", work.outcome or Outcome.UPDATED,
                                       sf_id=sf_id, qb_id=work.qb_id, cycle=self.cycle, message=work.label))
            agreed = {**work.payload, **work.sf_won}
            snapshots[work.qb_id] = (sf_id, work.active, agreed)
            if work.merge is not None or work.outcome is not Outcome.UNCHANGED:
                merged = work.merge or self._full_merge(spec, work)
                if work.kept:
                    self._agree_kept(spec, work, merged)
                base = work.base or Base(sf_id=sf_id, salesforce={}, quickbooks={})
                bases[work.qb_id] = base.updated(sf_id=sf_id, salesforce=merged.agreed_target,
                                                 quickbooks=merged.agreed_source)
            edit_sequences[work.qb_id] = work.record.EditSequence
            if (work.link is None or work.recreate) and sf_id:
                if work.link is not None and work.link.sf_id != sf_id:
                    recreated.append(work.link.sf_id)  # the deleted record's link moves to the recreated one
                new_links.append(Link(spec.crosswalk, sf_id, work.qb_id, edit_sequence=work.record.EditSequence,
                                      qb_name=work.label, written_back=True))
            elif work.link is not None and work.outcome is not Outcome.UNCHANGED:
                sequences[work.qb_id] = work.record.EditSequence
                if not work.link.written_back:
                    written_back.append(work.link.sf_id)  # the update carried the external id too
            if spec.declared.daily_status:
                statuses.append(OpenInvoice(work.qb_id, as_date(work.flat.get("DueDate")),
                                            as_decimal(work.flat.get(spec.declared.balance_field)),
                                            str(agreed.get(self.config.status_field) or "")))
            was_active = work.snapshot.active if work.snapshot is not None else None
            if work.active is False and was_active is not False and not spec.is_txn:
                inactivated.append(work)
        for note, alike in skipped_alike.items():
            # one row per reason and pass (fifty sub-customers are one line, not fifty)
            names = ", ".join(repr(w.label) for w in alike[:3]) + (f" and {len(alike) - 3} more" if len(alike) > 3
                                                                     else "")
            message = f"{alike[0].label}: {note}" if len(alike) == 1 else f"{len(alike)} skipped ({note}): {names}"
            events.append(Activity(spec.sf_object, QB_TO_SF, "upsert", Outcome.SKIPPED,
                                   qb_id=alike[0].qb_id if len(alike) == 1 else None, cycle=self.cycle,
                                   message=message))
        # Records made inactive: the configured action is written to Salesforce first and told in the batch's own
        # transaction, so a pass that dies in between finds them again (their version not seen yet) and tells them
        # once; the values both sides agree on take the action's field with the batch's bases.
        told, refused = self._gone(spec, [(w.qb_id, w.label, w.sf_id or (w.link.sf_id if w.link else None))
                                          for w in inactivated], "made inactive", report, deleted=False,
                                   record=False, agreed=bases,
                                   versions={w.qb_id: _version(w.record) for w in inactivated}) \
            if inactivated else (None, set())
        for qb_id in refused:
            # Salesforce refused the action: its failure row stands (not cleared with the batch's), and the record
            # stays active in what this side knows, so its retry finds the inactivation again.
            sf_id, _, agreed_values = snapshots[qb_id]
            was = next(w for w in inactivated if w.qb_id == qb_id)
            snapshots[qb_id] = (sf_id, was.snapshot.active if was.snapshot is not None else None, agreed_values)
        cleared = [qb_id for qb_id in cleared if qb_id not in refused]
        with self.state.batch():
            self.store.set_snapshots(spec.name, snapshots, edit_sequences)
            for old in recreated:
                self.state.unlink(spec.crosswalk, old)
            self.bases.put_many(spec.crosswalk, bases)
            if new_links:
                self._link_new(spec, new_links)
            if sequences:
                self.state.update_edit_sequences(spec.crosswalk, sequences)
            if written_back:
                self.state.mark_written_back_many(spec.crosswalk, written_back)
            if statuses:
                self.store.set_invoice_statuses(statuses, entity=spec.name)
            # What happens next is the error policy's (qbsf.sync.policy), recorded as in the other direction:
            # backoff, wait for the parent, parked for a person, or recorded only — and the log says which.
            record_failures(self.state, spec.sf_object, QB_TO_SF, failed, report, cycle=self.cycle, events=events)
            if cleared:
                self.state.clear_failures_many(spec.sf_object, QB_TO_SF, cleared)
            self.state.log_many(events)
            if told is not None:
                told()
            if acknowledge is not None:
                acknowledge()

    def _link_new(self, spec: InboundSpec, links: list[Link]) -> None:
        # Never re-point an existing link: a Salesforce record already linked keeps its QuickBooks record.
        known = self.state.lookup_many(spec.crosswalk, [link.sf_id for link in links])
        fresh = [link for link in links if link.sf_id not in known]
        if fresh:
            self.state.record_many(fresh)

    # ---- deletions and inactivation ----------------------------------------------------------------------------
    def _deleted_start(self) -> datetime | None:
        """Where the deletions read starts (UTC): the deletions watermark less the overlap (None: every one)."""
        mark = parse_utc(self.state.get_watermark(_DELETED))
        # TimeDeleted and FromDeletedDate in QuickBooks' terms, as for changes
        return self._qb_clock().delta_start(mark, self.config.overlap) if mark is not None else None

    def _retry_deletions(self, specs: Sequence[InboundSpec], report: InboundReport) -> None:
        """Deletion actions Salesforce refused whose retry is due (the error policy's backoff, or Retry): the
        record is gone from QuickBooks, so its link says which Salesforce record the action is for."""
        for spec in specs:
            due = [f for f in self.state.failures_due(spec.sf_object, QB_TO_SF)
                   if (f.version or "").startswith(_DELETION_FAILED)]
            if not due:
                continue
            links = self.state.lookup_qb_many(spec.crosswalk, [f.record_key for f in due])
            unlinked = [f.record_key for f in due if f.record_key not in links]
            if unlinked:  # unlinked since (by the user): nothing left to do
                self.state.clear_failures_many(spec.sf_object, QB_TO_SF, unlinked)
            gone = [(f.record_key, links[f.record_key].qb_name or f.record_key, links[f.record_key].sf_id)
                    for f in due if f.record_key in links]
            if gone:
                write, _ = self._gone(spec, gone, "deleted", report.entities.setdefault(spec.name,
                                                                                         InboundEntityReport()),
                                      deleted=True, record=False,
                                      versions={f.record_key: f.version or _DELETION_FAILED for f in due})
                with self.state.batch():
                    write()

    def _deletions(self, specs: Sequence[InboundSpec], report: InboundReport, pages: Iterable[list[Any]],
                   since: datetime | None) -> None:
        self._retry_deletions(specs, report)
        mark = parse_utc(self.state.get_watermark(_DELETED))
        clock = self._qb_clock()
        deleted = clock.corrected(record for page in pages for record in page)
        pairs = [(d.id, _utc_text(d.TimeDeleted) if d.TimeDeleted else "") for d in deleted]
        fresh = set(self.state.unseen(_DELETED, pairs))
        by_spec: dict[str, list[Any]] = {}
        for record, pair in zip(deleted, pairs, strict=True):
            if pair not in fresh:
                continue
            spec = next((s for s in specs if record.kind in s.deleted_types), None)
            if spec is not None:
                by_spec.setdefault(spec.name, []).append(record)
        told: list[Callable[[], None]] = []
        forgotten: list[tuple[str, list[str]]] = []
        for name, records in by_spec.items():
            spec = inbound_spec(name)
            links = self.state.lookup_qb_many(spec.crosswalk, [r.id for r in records])
            snapshots = self.store.snapshots(spec.name, [r.id for r in records])
            gone = []
            for record in records:
                link = links.get(record.id)
                snapshot = snapshots.get(record.id)
                sf_id = link.sf_id if link else (snapshot.sf_id if snapshot else None)
                if sf_id is None:
                    continue  # never reached Salesforce: nothing to tell it
                gone.append((record.id, record.FullName or record.RefNumber or record.id, sf_id))
            if gone:
                stamps = {r.id: f"{_DELETION_FAILED}{_utc_text(r.TimeDeleted) if r.TimeDeleted else ''}"
                          for r in records}
                told.append(self._gone(spec, gone, "deleted", report.entities.setdefault(name, InboundEntityReport()),
                                       deleted=True, record=False, versions=stamps)[0])
            forgotten.append((spec.name, [r.id for r in records]))
        newest = max((d.TimeDeleted for d in deleted if d.TimeDeleted is not None), default=None)
        crash_point("inbound_after_deletions_written")
        # What was told and the deletions marked seen commit together: a pass stopped in between tells them again
        # after the restart (the Salesforce update is the same value twice), never twice in the activity log.
        with self.state.batch():
            for name, ids in forgotten:
                self.store.forget(name, ids)
                # A deleted record that failed (waiting for its parent, parked) has nothing left to retry.
                self.state.clear_failures_many(inbound_spec(name).sf_object, QB_TO_SF, ids)
            for record_told in told:
                record_told()  # after the clearing: a deletion action Salesforce refused is a failure of its own
            self.state.remember_seen(_DELETED, pairs, forget_before=_utc_text(since) if since else None)
            if newest is not None and (mark is None or newest > mark):
                self.state.set_watermark(_DELETED, _utc_text(newest))
            crash_point("inbound_in_deletions_record")
        crash_point("inbound_after_deletions")

    def _gone(self, spec: InboundSpec, gone: list[tuple[str, str, str | None]], what: str,
              report: InboundEntityReport, *, deleted: bool, record: bool = True,
              agreed: dict[str, Base] | None = None,
              versions: Mapping[str, str] | None = None) -> tuple[Callable[[], None], set[str]]:
        """Apply the configured action to records deleted or made inactive in QuickBooks; log each one.

        With ``record=False`` the state is not written yet: the returned function writes it (the caller commits it
        with what else must commit at the same time). ``agreed`` holds bases the caller is about to store (its
        batch's): the action's field is added to those in place, the others are read from the store.

        An action Salesforce refused is recorded as the record's failure (``versions``: the failure row's version
        of each record), so it shows where every failure shows and the error policy retries it; an action done
        clears the record's failure. Returns the writing function and the QuickBooks ids whose action failed."""
        action = self.config.deletion_action(spec.name)
        events = []
        failed: list[FailedRecord] = []
        results: dict[str, Any] = {}
        targets = [(qb_id, label, sf_id) for qb_id, label, sf_id in gone if sf_id]
        if not action.records_only and targets:
            answers = self.sf.update_many(spec.sf_object, [{"Id": sf_id, str(action.field): action.value}
                                                           for _, _, sf_id in targets])
            results = {qb_id: answer for (qb_id, _, _), answer in zip(targets, answers, strict=True)}
        written = [qb_id for qb_id, answer in results.items() if answer.success]
        # qbsf's own write: the values both sides agreed now hold it, so the next Salesforce → QuickBooks pass
        # does not read it as a Salesforce change (and fail it against a record QuickBooks no longer has).
        key = str(action.field).casefold()
        pending = agreed if agreed is not None else {}
        for qb_id in [qb_id for qb_id in written if qb_id in pending]:
            pending[qb_id] = pending[qb_id].updated(salesforce={key: action.value})
        stored = [qb_id for qb_id in written if qb_id not in pending]
        bases = {qb_id: base.updated(salesforce={key: action.value})
                 for qb_id, base in self.bases.get_many(spec.crosswalk, stored).items()} if stored else {}
        operation = "delete" if deleted else "inactivate"
        for qb_id, label, sf_id in gone:
            answer = results.get(qb_id)
            if answer is not None and not answer.success:
                error = answer.error if isinstance(answer.error, SyncError) else NeedsUser(
                    str(answer.error), hint=f"check the {spec.sf_word} in Salesforce, or change sync.on_qb_delete")
                failed.append(FailedRecord(
                    qb_id, label, error, f"{label} {what} in QuickBooks; setting {action.field} failed: {error}",
                    (versions or {}).get(qb_id), operation, sf_id=sf_id, qb_id=qb_id))
            else:
                if answer is not None:
                    outcome, message = Outcome.UPDATED, \
                        f"{label} {what} in QuickBooks: {action.field} = {action.value!r}"
                else:
                    outcome, message = Outcome.SKIPPED, f"{label} {what} in QuickBooks; nothing changed in Salesforce"
                events.append(Activity(spec.sf_object, QB_TO_SF, operation, outcome, sf_id=sf_id, qb_id=qb_id,
                                       cycle=self.cycle, message=message))
                if deleted:
                    report.deleted += 1
                else:
                    report.inactivated += 1

        def write() -> None:
            with self.state.batch():
                self.bases.put_many(spec.crosswalk, bases)
                if written:
                    self.state.clear_failures_many(spec.sf_object, QB_TO_SF, written)
                record_failures(self.state, spec.sf_object, QB_TO_SF, failed, report, cycle=self.cycle,
                                events=events)
                self.state.log_many(events)

        if record:
            write()
        return write, {item.key for item in failed}


class _InboundBatch:
    """QuickBooks → Salesforce stages of one batch (:func:`qbsf.sync.pipeline.batch.run_batch`)."""

    def __init__(self, sync: InboundSync, spec: InboundSpec, report: InboundEntityReport, *, resend: bool,
                 cursor: Cursor, forget_before: str | None) -> None:
        self.sync = sync
        self.spec = spec
        self.report = report
        self.resend = resend
        self.cursor = cursor
        self.forget_before = forget_before
        self.versions: list[tuple[str, str]] = []

    def read(self, records: Sequence[Any]) -> list[_Work]:
        self.versions = [(getattr(r, self.spec.id_field), _version(r)) for r in records]
        works = self.sync._read_records(self.spec, records, self.report)
        crash_point("inbound_after_read")
        return works

    def skip_seen(self, works: list[_Work]) -> list[_Work]:
        # Versions handled before were left out when the pass read them (its read window); here each record
        # learns its link, snapshot and base, from which the diff tells an echo or an unchanged record.
        self.sync._known(self.spec, works, resend=self.resend)
        return works

    def map(self, works: list[_Work]) -> None:
        self.sync._map_records(self.spec, works)

    def diff(self, works: list[_Work]) -> None:
        self.sync._diff(self.spec, works, self.report, resend=self.resend)

    def write(self, works: list[_Work]) -> None:
        crash_point("inbound_before_sf_write")
        self.sync.sink.write(self.spec, works)
        crash_point("inbound_after_sf_write")

    def record(self, works: list[_Work]) -> None:
        # The batch's acknowledgement commits with its record: a restart skips it as seen, never writes it again.
        self.sync._record(self.spec, works, self.report, acknowledge=lambda: self.cursor.remember(
            self.versions, forget_before=self.forget_before))

    def ack(self, works: list[_Work]) -> None:
        # QuickBooks takes no acknowledgement: the batch's versions were marked seen with its record (one
        # transaction); the pass moves its read window once every batch is recorded (see ``_sync_entity``).
        crash_point("inbound_after_record")
