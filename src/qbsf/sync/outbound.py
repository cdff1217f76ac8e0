"""Salesforce → QuickBooks: one batch of changed records of one entity, from SOQL rows to QuickBooks and back.

For each batch the steps are, in this order (each boundary is a crash point, see ``qbsf.sync.crash``):

1. skip parked records and records still backing off; fill parents' QuickBooks ids from the crosswalk, and
   sync parents that are missing in this same cycle (an Opportunity whose Account is not in QuickBooks yet);
2. map (compiled CSV mapping; invoice lines with the child mapping), add what QuickBooks needs (parent refs,
   item type and accounts), hash the payload: an unchanged payload is skipped (no echo);
3. unlinked records: look their names up in QuickBooks in one query — a record already there is linked (or
   reported as a conflict), never duplicated; journal every Add BEFORE sending it (with its ExternalGUID);
4. send Adds and Mods many per message (EditSequences fetched in one query first): the QuickBooks sink,
   :class:`qbsf.sync.pipeline.sink.QuickBooksSink`;
5. record everything locally in one transaction: crosswalk (QB id stored before Salesforce hears of it),
   journal completed, payload hashes, failures by the error policy (:mod:`qbsf.sync.pipeline.failures`, shared
   with the other direction), activity log;
6. write the QuickBooks ids back to Salesforce in collections of 200.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from qbsf.errors import AfterDependency, NeedsUser, SyncError
from qbsf.sync.changes import IDS_PER_QUERY
from qbsf.sync.conflicts import ConflictPolicy
from qbsf.sync.crash import crash_point
from qbsf.sync.entities import (
    BY_NAME,
    INBOUND_SPECS,
    EntitySpec,
    build_query,
    entity,
    parse_sf_datetime,
    quote,
    soql_datetime,
)
from qbsf.sync.lifecycle import Notices
from qbsf.sync.merge import (
    OWN,
    QUICKBOOKS,
    SALESFORCE,
    Base,
    FieldMerge,
    LineMerge,
    SourceLine,
    TargetLine,
    feeds_of,
    lines_changed,
    merge_fields,
    merge_lines,
    same,
    source_changes,
    stored,
)
from qbsf.sync.merge_state import BaseStore, qb_key
from qbsf.sync.pipeline.batch import BatchReport, run_batch
from qbsf.sync.pipeline.failures import FailedRecord, record_failures, stuck_failure
from qbsf.sync.pipeline.sink import QuickBooksSink
from qbsf.sync.policy import outcome as failure_outcome
from qbsf.sync.ports import QbFound, QbWrite, QuickBooksPort, SalesforcePort
from qbsf.sync.record_guard import map_each, refuse_unsendable, sources_of
from qbsf.sync.state import (
    Activity,
    Direction,
    FailureInput,
    JournalEntry,
    Link,
    Outcome,
    RetryPolicy,
    StateStore,
)
from qbsf.sync.write_back import WriteBacks

logger = logging.getLogger(__name__)

SF_TO_QB = Direction.SF_TO_QB
# The reconciliation window reaches this far back before the oldest in-flight Add (clocks disagree a little).
RECONCILE_SLACK = timedelta(minutes=5)
_NOW_DUE = RetryPolicy(max_attempts=1_000_000, base=timedelta(0), cap=timedelta(0))


@dataclass
class OutboundConfig:
    """The settings the outbound engine reads (built from qbsf's Settings by the engine)."""

    eligibility: dict[str, str] = field(default_factory=dict)
    income_account: str = ""
    cogs_account: str = ""
    asset_account: str = ""
    expense_account: str = ""
    ar_account: str = ""
    default_item_type: str = "Service"
    # What to do when an unlinked QuickBooks record already has the name: "link" it, or "report" a conflict.
    on_existing_name: str = "link"
    qb_batch_size: int = 200
    exclude_user: str | None = None
    # Who wins a round-trip field changed on both sides since the last sync: newest, salesforce or quickbooks.
    conflict_policy: str = "newest"
    # Per Salesforce object with lines: "salesforce" (Salesforce owns the lines: QuickBooks-only lines are removed)
    # or "both" (default: lines merged line by line, QuickBooks-only lines kept and reported).
    line_owner: dict[str, str] = field(default_factory=dict)
    # Per Salesforce object: what qbsf does in QuickBooks when a synced record is deleted, merged or no longer
    # eligible (report, inactivate, memo; see qbsf.sync.lifecycle), and how often it looks (minutes; 0 = every pass).
    on_sf_gone: dict[str, str] = field(default_factory=dict)
    lifecycle_check_minutes: float = 60


# What one cycle did with one entity: the report type both directions share.
EntityReport = BatchReport


@dataclass
class _Work:
    """One record on its way through a batch."""

    spec: EntitySpec
    record: dict[str, Any]
    sf_id: str
    version: str
    name: str
    link: Link | None = None
    target: dict[str, Any] | None = None
    qb_type: str = ""
    payload_hash: str | None = None
    error: SyncError | None = None
    outcome: Outcome | None = None
    operation: str = ""
    write: QbWrite | None = None
    journal_id: int | None = None
    adopt: QbFound | None = None
    # The values both sides last agreed on (None: never synced with a base), the Salesforce side's current values
    # keyed like it, and the three-way merge's decision for this pass.
    base: Base | None = None
    source: dict[str, Any] = field(default_factory=dict)
    merge: FieldMerge | None = None
    send_lines: bool = True
    # Invoice lines: each Salesforce line (id, source values, mapped line) and the line-by-line merge.
    sf_lines: list[SourceLine] = field(default_factory=list)
    line_merge: LineMerge | None = None
    wanted_type: str = ""  # the item type Salesforce asks for (QuickBooks may hold another)
    # QuickBooks' record as read before the Mod (to tell what the Mod did to an invoice with payments).
    qb_before: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.error is not None


def payload_hash(qb_type: str, target: Mapping[str, Any]) -> str:
    """A stable hash of what would be sent to QuickBooks (type + fields + lines), to skip unchanged records."""
    text = json.dumps([qb_type, target], sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _lines_of(record: Mapping[str, Any], relationship: str) -> list[dict[str, Any]]:
    value = record.get(relationship)
    if isinstance(value, Mapping):
        return list(value.get("records") or [])
    if isinstance(value, list):
        return value
    return []


def _set_path(record: dict[str, Any], path: str, value: Any) -> None:
    """Set ``Parent.Field`` inside a SOQL row (creating the parent dict, as a relationship query returns it)."""
    head, _, tail = path.partition(".")
    if not tail:
        record[head] = value
        return
    parent = record.get(head)
    if not isinstance(parent, dict):
        parent = {}
        record[head] = parent
    parent[tail] = value


def _get_path(record: Mapping[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _qb_class(spec: EntitySpec) -> type | None:
    """The QuickBooks record class whose field names ``spec``'s mapping writes (for one spelling per field)."""
    return spec.hooks.record_class(spec.declared)


def _describe(error: SyncError) -> str:
    return str(error)


def _failed(work: _Work) -> FailedRecord:
    """A failed record as the shared failure recording takes it (keyed by its Salesforce Id)."""
    assert work.error is not None
    return FailedRecord(work.sf_id, work.name, work.error, _describe(work.error), work.version,
                        work.operation or "sync", sf_id=work.sf_id, qb_id=work.link.qb_id if work.link else None)


def _line_label(flat: Mapping[str, Any]) -> str:
    """How a bookkeeper names an invoice line: its item and description."""
    item = flat.get("ItemRef.FullName") or flat.get("ItemRef.ListID") or ""
    text = str(flat.get("Desc") or "")
    return f"{item} – {text}" if item and text and text != item else str(item or text or "a line")


class OutboundSync:
    """Runs batches of changed Salesforce records into QuickBooks (see the module docstring for the steps)."""

    def __init__(self, config: OutboundConfig, sf: SalesforcePort, qb: QuickBooksPort, state: StateStore,
                 mappings: Mapping[str, Any], *, link_resolver: Any = None, dry_run: bool = False,
                 cycle: str | None = None) -> None:
        self.config = config
        self.sf = sf
        self.qb = qb
        self.state = state
        self.mappings = mappings
        self.link_resolver = link_resolver
        self.dry_run = dry_run
        self.cycle = cycle
        self.reports: dict[str, EntityReport] = defaultdict(EntityReport)
        # Records finished in this cycle: (entity, sf id) → None when synced, else why it failed.
        self.finished: dict[tuple[str, str], str | None] = {}
        self.bases = BaseStore(state)
        self.notices = Notices(state)
        # Records relinked this cycle to the QuickBooks record of a deleted one: (spec, QuickBooks id, new Id).
        self.relinked: list[tuple[EntitySpec, str, str]] = []
        self.sink = QuickBooksSink(qb, state, config, self._full_name)
        self.write_backs = WriteBacks(self)

    # ------------------------------------------------------------------------------------------ public
    def mapping_for(self, spec: EntitySpec) -> Any:
        """The compiled mapping of ``spec`` (None when none is configured)."""
        return self.mappings.get(spec.sheet)

    def child_mapping_for(self, spec: EntitySpec) -> Any:
        """The compiled child (lines) mapping of ``spec``."""
        return self.mappings.get(spec.child.sheet) if spec.child is not None else None

    def read_ids(self, spec: EntitySpec, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Read listed eligible records of ``spec`` with the fields its mappings need."""
        mapping, child = self.mapping_for(spec), self.child_mapping_for(spec)
        records: list[dict[str, Any]] = []
        for start in range(0, len(ids), IDS_PER_QUERY):
            soql = build_query(spec, mapped=mapping.source_fields if mapping else (),
                               mapped_child=child.source_fields if child else (), ids=ids[start:start + IDS_PER_QUERY],
                               eligibility=self.config.eligibility).soql()
            records.extend(self.sf.query(soql))
        return records

    def sync_batch(self, spec: EntitySpec, records: Sequence[dict[str, Any]], *, depth: int = 0) -> list[_Work]:
        """Sync one batch of one entity; returns every record's work item (outcome or error set)."""
        return run_batch(_OutboundBatch(self, spec, depth), records)

    # ------------------------------------------------------------------------------------------ steps
    def _work(self, spec: EntitySpec, record: dict[str, Any]) -> _Work:
        stamp = record.get("SystemModstamp")
        version = soql_datetime(parse_sf_datetime(str(stamp))) if stamp else ""
        name = str(record.get(spec.name_field) or record.get("Name") or record["Id"])
        return _Work(spec=spec, record=record, sf_id=record["Id"], version=version, name=name)

    def _skip_parked_and_backing_off(self, spec: EntitySpec, works: list[_Work],
                                     report: EntityReport) -> list[_Work]:
        if self.dry_run:
            return works
        self.state.unpark_changed(spec.name, SF_TO_QB, {w.sf_id: w.version for w in works})
        failures = self.state.failures_for(spec.name, SF_TO_QB, [w.sf_id for w in works])
        now = self.state.now()
        kept: list[_Work] = []
        for work in works:
            failure = failures.get(work.sf_id)
            # A record that changed since it failed is tried at once; an unchanged one waits as the policy says
            # (its backoff, its parent, a person).
            if failure is not None and failure.version == work.version and not failure.due(now):
                report.waiting += 1
                self.finished[(spec.name, work.sf_id)] = failure.message
                continue
            kept.append(work)
        return kept

    def _resolve_parents(self, spec: EntitySpec, works: list[_Work], depth: int) -> None:
        """Fill parents' QuickBooks ids; sync missing parents now; fail children whose parent cannot sync."""
        refs: list[tuple[_Work, dict[str, Any], Any]] = []  # (work, row holding the reference, ParentRef)
        for work in works:
            for parent in spec.parents:
                refs.append((work, work.record, parent))
            if spec.child is not None:
                for line in _lines_of(work.record, spec.child.relationship):
                    for parent in spec.child.parents:
                        refs.append((work, line, parent))
        if not refs:
            return
        for attempt in range(2):
            missing: dict[str, set[str]] = defaultdict(set)
            by_parent: dict[str, set[str]] = defaultdict(set)
            for _work, row, parent in refs:
                if row.get(parent.field):
                    by_parent[parent.entity].add(row[parent.field])
            known = {name: self.state.lookup_many(name, ids) for name, ids in by_parent.items()}
            for work, row, parent in refs:
                parent_id = row.get(parent.field)
                if not parent_id or work.failed:
                    continue
                link = known[parent.entity].get(parent_id)
                if link is not None:
                    _set_path(row, parent.qb_id_path, link.qb_id)
                    if row is work.record:
                        work.record.setdefault("_parent_full_name", link.qb_name)
                elif _get_path(row, parent.qb_id_path):
                    # Linked by an earlier install or by hand in Salesforce: trust the id Salesforce holds.
                    continue
                else:
                    missing[parent.entity].add(parent_id)
            if not missing or attempt == 1 or depth >= 2:
                break
            for parent_spec in [s for s in BY_NAME.values() if s.name in missing]:
                ids = sorted(i for i in missing[parent_spec.name] if (parent_spec.name, i) not in self.finished)
                if ids:
                    logger.info("%s: syncing %d missing %s parent(s) first", spec.name, len(ids), parent_spec.name)
                    parents = self.read_ids(parent_spec, ids)
                    self.sync_batch(parent_spec, parents, depth=depth + 1)
                    for parent_id in ids:
                        self.finished.setdefault((parent_spec.name, parent_id), "not eligible to sync, or deleted")
        for work, row, parent in refs:
            parent_id = row.get(parent.field)
            if work.failed or not parent_id:
                continue
            if _get_path(row, parent.qb_id_path):
                continue
            key = (parent.entity, parent_id)
            if self.dry_run and key in self.finished and self.finished[key] is None:
                # The parent would be created by this (dry) run: plan the child against it.
                _set_path(row, parent.qb_id_path, f"(new {parent.entity} {parent_id})")
                continue
            why = self.finished.get(key) or "it is not in QuickBooks yet"
            work.error = AfterDependency(
                f"Link: No {parent.entity} found in QuickBooks for {spec.name} {work.name!r} "
                f"({parent.field}={parent_id}): {why}",
                hint=f"sync the {parent.entity} first, then retry the {spec.name}", parent=(parent.entity, parent_id))

    def _map(self, spec: EntitySpec, works: list[_Work]) -> None:
        mapping = self.mapping_for(spec)
        todo = [w for w in works if not w.failed]
        if mapping is None:
            for work in todo:
                work.error = NeedsUser(f"no {spec.sheet} mapping is configured, so {spec.name} records cannot sync",
                                       hint=f"add a {spec.sheet}.csv mapping (see examples/mappings)")
            return
        results = map_each(mapping, [w.record for w in todo], resolver=self.link_resolver, label=spec.name)
        for work, result in zip(todo, results, strict=True):
            if isinstance(result, dict):
                work.target = result
            else:
                work.error = result
        if spec.child is not None:
            self._map_lines(spec, [w for w in todo if not w.failed])
        sources, line_sources = sources_of(mapping), sources_of(self.child_mapping_for(spec))
        for work in todo:
            if not work.failed:
                assert work.target is not None
                # A value qbXML cannot carry fails this record here, before any message is built.
                work.error = refuse_unsendable(f"{spec.name} {work.name!r}", work.target, sources, line_sources)
            if not work.failed:
                self._complete_target(spec, work)

    def _map_lines(self, spec: EntitySpec, works: list[_Work]) -> None:
        assert spec.child is not None
        child = self.child_mapping_for(spec)
        if child is None:
            for work in works:
                work.error = NeedsUser(f"no {spec.child.sheet} mapping is configured, so invoice lines cannot sync",
                                       hint=f"add a {spec.child.sheet}.csv mapping (see examples/mappings)")
            return
        owners: list[_Work] = []
        lines: list[dict[str, Any]] = []
        for work in works:
            for line in _lines_of(work.record, spec.child.relationship):
                owners.append(work)
                lines.append(line)
        results = map_each(child, lines, resolver=self.link_resolver, label=f"{spec.name} line")
        mapped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        names = child.source_fields
        for work, line, result in zip(owners, lines, results, strict=True):
            if isinstance(result, dict):
                mapped[work.sf_id].append(result)
                work.sf_lines.append(SourceLine(str(line.get("Id") or ""), {
                    name.casefold(): _get_path(line, name) for name in names}, result))
            elif not work.failed:
                work.error = result
                if isinstance(work.error, AfterDependency) and spec.child.parents:
                    parent = spec.child.parents[0]
                    value = line.get(parent.field) or "?"
                    work.error = AfterDependency(
                        f"QB {spec.qb_entity} error: a line of {spec.name} {work.name!r} refers to {parent.entity} "
                        f"{value}, which is not in QuickBooks ({result.message})",
                        hint=f"sync the {parent.entity} to QuickBooks before the {spec.name}",
                        parent=(parent.entity, value) if line.get(parent.field) else None)
        for work in works:
            if work.target is not None and not work.failed:
                if not mapped.get(work.sf_id):
                    work.error = NeedsUser(f"{spec.name} {work.name!r} has no line items, so it cannot become an "
                                           f"invoice", hint="add products to the Opportunity, then save it again")
                    continue
                work.target["lines"] = mapped[work.sf_id]

    def _complete_target(self, spec: EntitySpec, work: _Work) -> None:
        """Add what QuickBooks needs beyond the mapping: the entity type, parent refs, item type and accounts."""
        target = work.target
        assert target is not None
        try:
            work.qb_type = spec.hooks.qb_type(spec.declared, target, work.record, self.config)
        except SyncError as exc:
            work.error = exc
            return
        if work.qb_type != spec.qb_entity:
            work.wanted_type = work.qb_type  # a type chosen per record (an item's), which QuickBooks may not allow
        for parent in spec.parents:
            # The parent's QuickBooks id fills its reference (a sub-customer's ParentRef, an invoice's CustomerRef)
            # unless the mapping set it.
            parent_id = _get_path(work.record, parent.qb_id_path)
            ref = parent.qb_ref
            if ref and parent_id and not target.get(f"{ref}.ListID") and not target.get(f"{ref}.FullName"):
                target[f"{ref}.ListID"] = parent_id
        work.payload_hash = payload_hash(work.qb_type, target)

    def _skip_unchanged(self, spec: EntitySpec, works: list[_Work], report: EntityReport) -> None:
        """Linked records none of whose mapped Salesforce fields changed since both sides last agreed: no Mod.

        The base is the merge's (:mod:`qbsf.sync.merge`); a record synced before qbsf kept one falls back to the
        inbound snapshot (what the QuickBooks → Salesforce pass wrote) and to the hash of what was last sent.
        """
        linked = [w for w in works if not w.failed and w.link is not None]
        if not linked:
            return
        bases = self.bases.get_many(spec.name, [w.link.qb_id for w in linked if w.link])
        snapshots = self._inbound_snapshots(spec, [w for w in linked if w.link and w.link.qb_id not in bases])
        legacy: list[_Work] = []
        for work in linked:
            assert work.link is not None and work.target is not None
            work.source = self._source_values(spec, work)
            base = bases.get(work.link.qb_id)
            if base is not None and base.sf_id not in (None, work.sf_id):
                base = None  # the QuickBooks record was linked to another Salesforce record before
            if base is None:
                snapshot = snapshots.get(work.link.qb_id)
                if snapshot is not None and snapshot.sf_id == work.sf_id:
                    base = Base(sf_id=work.sf_id, salesforce={k.casefold(): v for k, v in snapshot.items()})
                else:
                    legacy.append(work)
            work.base = base
        hashes = self.state.hashes_many(spec.name, SF_TO_QB, [w.sf_id for w in legacy])
        for work in linked:
            if work.base is not None:
                agreed_type = (work.base.salesforce or {}).get(OWN + "qb_type")
                unchanged = not source_changes(work.base.salesforce, work.source, self._header(work),
                                               self._feeds(spec), target_key=self._target_key(spec)) \
                    and not self._lines_changed(work) and (agreed_type is None or agreed_type == work.qb_type)
            else:
                unchanged = hashes.get(work.sf_id) == work.payload_hash
            if unchanged:
                work.outcome = Outcome.UNCHANGED
                report.unchanged += 1

    def _inbound_snapshots(self, spec: EntitySpec, works: list[_Work]) -> dict[str, Any]:
        # The QuickBooks → Salesforce side of the same pair: its snapshots tell what the inbound sync wrote.
        inbound = spec.declared.inbound
        if not works or inbound is None:
            return {}
        from qbsf.sync.inbound_state import InboundState

        return InboundState(self.state).snapshots(inbound.name, [w.link.qb_id for w in works if w.link])

    @staticmethod
    def _header(work: _Work) -> dict[str, Any]:
        return {k: v for k, v in (work.target or {}).items() if k != "lines"}

    def _feeds(self, spec: EntitySpec) -> dict[str, tuple[str, ...]]:
        mapping = self.mapping_for(spec)
        return feeds_of(mapping.rules) if mapping is not None else {}

    def _carried_back(self, spec: EntitySpec) -> Any:
        """Whether the QuickBooks → Salesforce mapping of ``spec`` carries a QuickBooks field (a target field of the
        outbound sheet) back to the Salesforce field it is made from: where a QuickBooks win can reach Salesforce.

        A field no Salesforce field feeds (a Static value) has nothing to carry back to and counts as carried.
        """
        sheet = spec.declared.inbound_sheet
        inbound = self.mappings.get(sheet) if sheet else None
        feeds = self._feeds(spec)
        target_key = self._target_key(spec)
        rules = [(rule.target.casefold(), target_key(rule.source),
                  any(getattr(step, "name", "") == "AddressJoin" for step in getattr(rule, "steps", ())))
                 for rule in (getattr(inbound, "rules", None) or ())]

        def carried(name: str) -> bool:
            sources = feeds.get(name) or ()
            if not sources:
                return True
            key = target_key(name)
            return any(sf_field in sources and (qb_field == key or (joined and key.rpartition(".")[0]
                                                                    == qb_field.rpartition(".")[0]))
                       for sf_field, qb_field, joined in rules)
        return carried

    def _stuck(self, spec: EntitySpec, work: _Work) -> None:
        """Fail a record whose conflicts QuickBooks won but no mapping carries back (see ``merge.stuck_error``)."""
        stuck = [*(work.merge.stuck if work.merge is not None else ()),
                 *(work.line_merge.stuck if work.line_merge is not None else ())]
        if not stuck:
            return
        work.error = stuck_failure(f"{spec.name} {work.name!r}", stuck, source_side=SALESFORCE,
                                   policy=self.config.conflict_policy, reverse_sheet=spec.declared.inbound_sheet)

    def _target_key(self, spec: EntitySpec) -> Any:
        cls = _qb_class(spec)
        return lambda name: qb_key(cls, name)

    def _source_values(self, spec: EntitySpec, work: _Work) -> dict[str, Any]:
        """The Salesforce values the mapping reads, keyed like the base (casefolded field paths)."""
        mapping = self.mapping_for(spec)
        names = mapping.source_fields if mapping is not None else []
        return {name.casefold(): _get_path(work.record, name) for name in names}

    def _lines_changed(self, work: _Work) -> bool:
        """Whether a Salesforce line was added, removed or changed since both sides last agreed on the lines."""
        if work.target is None or "lines" not in work.target:
            return False
        if work.base is not None and work.base.lines:
            return lines_changed(work.base, SALESFORCE, work.sf_lines, self._line_feeds(work.spec))
        # Synced before line bases were kept: the lines as last sent, whole.
        base = work.base.salesforce if work.base is not None and work.base.salesforce is not None else None
        return base is None or not same(work.target["lines"], base.get(OWN + "lines"))

    def _line_feeds(self, spec: EntitySpec) -> dict[str, tuple[str, ...]]:
        child = self.child_mapping_for(spec)
        return feeds_of(child.rules) if child is not None else {}

    def _line_owner(self, spec: EntitySpec) -> str:
        owners = {name.casefold(): value for name, value in (self.config.line_owner or {}).items()}
        return str(owners.get(spec.name.casefold()) or owners.get(spec.sf_object.casefold()) or "both")

    def _merge_lines(self, spec: EntitySpec, work: _Work, qb_modified: Any, sf_modified: Any) -> None:
        """Invoice lines merged line by line (:func:`qbsf.sync.merge.merge_lines`), keyed OpportunityLineItem Id ↔
        TxnLineID: QuickBooks' own lines and edits are kept unless Salesforce owns the lines."""
        line_class = spec.hooks.line_class(spec.declared)
        current_lines = getattr(self.qb, "current_lines", None)
        assert work.link is not None
        existing = current_lines(work.link.qb_id) if current_lines is not None else None
        if existing is None:
            return  # QuickBooks' lines unknown: the lines are sent whole when they changed
        names = [rule.target for rule in self.child_mapping_for(spec).rules]
        targets = []
        for line_id, flat in existing:
            by_key = {qb_key(line_class, name): value for name, value in flat.items()}
            targets.append(TargetLine(line_id, {name: by_key.get(qb_key(line_class, name)) for name in names},
                                      label=_line_label(flat), amount=flat.get("Amount")))
        work.line_merge = merge_lines(
            base=work.base if work.base is not None and work.base.lines else None, source=work.sf_lines,
            target=targets, feeds=self._line_feeds(spec), policy=self.config.conflict_policy, source_side=SALESFORCE,
            source_modified=sf_modified, target_modified=qb_modified,
            source_owns_lines=self._line_owner(spec) == SALESFORCE, identity=("ItemRef.ListID", "ItemRef.FullName"),
            target_key=lambda name: qb_key(line_class, name), lines_carried=False)
        work.send_lines = work.line_merge.lines is not None

    def _full_name(self, spec: EntitySpec, work: _Work) -> str:
        assert work.target is not None
        name = str(work.target.get("Name") or "")
        parent = work.record.get("_parent_full_name")
        return spec.hooks.full_name(spec.declared, name, str(parent) if parent else None)

    def _match_existing(self, spec: EntitySpec, adds: list[_Work]) -> None:
        """Before adding: records already in QuickBooks under the same name are linked or reported, never doubled."""
        if not spec.declared.matches_by_name:
            return
        names = {self._full_name(spec, w): w for w in adds}
        found = self.qb.find_by_names(spec.qb_entity, [n for n in names if n])
        if not found:
            return
        linked_elsewhere = self.state.lookup_qb_many(spec.name, [f.qb_id for f in found])
        for existing in found:
            work = names.get(existing.full_name) or next(
                (w for n, w in names.items() if n.casefold() == existing.full_name.casefold()), None)
            if work is None:
                continue
            other = linked_elsewhere.get(existing.qb_id)
            if other is not None and other.sf_id != work.sf_id and self._gone(spec, other.sf_id):
                # Linked to a Salesforce record deleted or merged away since: this one (recreated) takes it over.
                logger.info("%s %s: relinked to QuickBooks %s %r (its record %s was deleted in Salesforce)",
                            spec.name, work.sf_id, spec.qb_entity, existing.full_name, other.sf_id)
                self.state.unlink(spec.name, other.sf_id)
                self.notices.resolve(spec.name, [other.sf_id])
                self.relinked.append((spec, existing.qb_id, work.sf_id))
                self.bases.forget(spec.name, [existing.qb_id])
                other = None
                work.adopt = existing
                work.link = Link(spec.name, work.sf_id, existing.qb_id, edit_sequence=existing.edit_sequence,
                                 external_guid=existing.external_guid, qb_name=existing.full_name)
                continue
            ours = existing.external_guid and existing.external_guid.casefold() == \
                self.qb.external_guid(work.sf_id).casefold()
            if other is not None and other.sf_id != work.sf_id:
                work.error = NeedsUser(
                    f"QuickBooks already has a {spec.qb_entity} named {existing.full_name!r}, synced with "
                    f"{spec.name} {other.sf_id}", hint="rename one of the two Salesforce records")
            elif ours or self.config.on_existing_name == "link":
                work.adopt = existing
                work.link = Link(spec.name, work.sf_id, existing.qb_id, edit_sequence=existing.edit_sequence,
                                 external_guid=existing.external_guid, qb_name=existing.full_name)
            else:
                work.error = NeedsUser(
                    f"QuickBooks already has a {spec.qb_entity} named {existing.full_name!r} that is not linked "
                    f"to {spec.name} {work.sf_id}",
                    hint=f"run `qbsf link --entity {spec.name}` to link them, or rename one")

    def _relink_references(self, spec: EntitySpec, works: list[_Work]) -> None:
        """Salesforce records that pointed at a deleted record now relinked (an invoice's Account): point them at
        the record that took its place. Found through the inbound mappings' Link rows (e.g. CustomerRef.ListID →
        Linked_Account__c) and the merge's bases, so nothing has to change in QuickBooks for them to follow."""
        done = {w.sf_id for w in works if w.outcome is Outcome.LINKED}
        relinked = [(qb_id, sf_id) for s, qb_id, sf_id in self.relinked if s.name == spec.name and sf_id in done]
        if not relinked:
            return
        for inbound in INBOUND_SPECS:
            mapping = self.mappings.get(inbound.sheet)
            rules = [rule for rule in getattr(mapping, "rules", ()) if any(
                obj.casefold() == spec.sf_object.casefold() and field_name.casefold() == spec.qb_id_field.casefold()
                for obj, field_name in rule.links)]
            for rule in rules:
                key = qb_key(None, rule.source)
                updates, bases = [], {}
                for qb_id, sf_id in relinked:
                    for txn_id, base in self.bases.holding(inbound.crosswalk, QUICKBOOKS, key, qb_id).items():
                        if base.sf_id:
                            updates.append({"Id": base.sf_id, rule.target: sf_id})
                            bases[txn_id] = base.updated(salesforce={rule.target.casefold(): sf_id})
                if not updates:
                    continue
                results = self.sf.update_many(inbound.sf_object, updates)
                self.bases.put_many(inbound.crosswalk, {k: b for (k, b), r in zip(bases.items(), results, strict=True)
                                                        if r.ok})
                logger.info("%s: %d %s record(s) pointed again at the relinked %s", spec.name,
                            sum(1 for r in results if r.ok), inbound.sf_object, spec.sf_object)

    def _gone(self, spec: EntitySpec, sf_id: str) -> bool:
        """Whether Salesforce record ``sf_id`` was deleted or merged away after it synced (an open notice says so,
        or Salesforce no longer has it)."""
        notice = self.notices.get_many(spec.name, [sf_id]).get(sf_id)
        if notice is not None:
            return notice.kind in ("deleted", "merged")
        return not self.sf.query(f"SELECT Id FROM {spec.sf_object} WHERE Id = {quote(sf_id)}")

    def _plan(self, spec: EntitySpec, adds: list[_Work], mods: list[_Work], report: EntityReport) -> None:
        for work, operation in [*((w, "create") for w in adds), *((w, "update") for w in mods)]:
            assert work.target is not None
            report.planned.append((operation, work.sf_id, work.name, dict(work.target)))
            work.outcome = Outcome.WOULD_CREATE if operation == "create" else Outcome.WOULD_UPDATE
        for work in [w for w in adds + mods if w.failed]:
            report.failures.append((work.sf_id, work.name, _describe(work.error)))  # type: ignore[arg-type]

    def _merge(self, spec: EntitySpec, mods: list[_Work]) -> None:
        """Three-way merge of each Mod with QuickBooks' current record (:func:`qbsf.sync.merge.merge_fields`).

        Fields Salesforce changed since the base are sent; fields QuickBooks changed are left for the QuickBooks →
        Salesforce pass; fields changed on both sides are decided by the conflict policy and logged here.
        """
        current_values = getattr(self.qb, "current_values", None)
        policy = ConflictPolicy.parse(self.config.conflict_policy)
        feeds = self._feeds(spec)
        target_key = self._target_key(spec)
        carried = self._carried_back(spec)
        for work in mods:
            assert work.link is not None and work.target is not None
            if not work.source:
                work.source = self._source_values(spec, work)
            current = current_values(work.link.qb_id) if current_values is not None else None
            flat, qb_modified = current if current is not None else ({}, None)
            by_key = {target_key(name): value for name, value in flat.items()}
            header = self._header(work)
            stamp = work.record.get("LastModifiedDate") or work.record.get("SystemModstamp")
            sf_modified = parse_sf_datetime(str(stamp)) if stamp else None
            base = work.base
            work.merge = merge_fields(
                base_source=base.salesforce if base is not None else None,
                base_target=base.quickbooks if base is not None else None, source=work.source, proposed=header,
                feeds=feeds, target={name: by_key.get(target_key(name)) for name in header} if current else None,
                policy=policy, source_side=SALESFORCE, source_modified=sf_modified, target_modified=qb_modified,
                target_key=target_key, carried=carried)
            work.send_lines = self._lines_changed(work)
            work.qb_before = dict(flat)
            if "lines" in work.target and (work.send_lines or (base is not None and base.lines)):
                self._merge_lines(spec, work, qb_modified, sf_modified)
            for conflict in work.merge.conflicts:
                logger.info("%s %s: %s", spec.name, work.sf_id, conflict.describe())
            self._stuck(spec, work)

    def _line_reports(self, spec: EntitySpec, work: _Work, qb_id: str) -> list[Activity]:
        """QuickBooks-only lines kept (reported once) or removed (Salesforce owns the lines): told in the log."""
        merged = work.line_merge
        if merged is None:
            return []
        reported = set(work.base.reported if work.base is not None else ())
        events: list[Activity] = []
        invoice = f"the invoice of {spec.name} {work.name!r}"
        for line in merged.kept:
            if line.line_id in reported:
                continue
            message = (f"{invoice}: line {line.label!r} (amount {line.amount}) exists only in QuickBooks (added "
                       f"there): kept. To have Salesforce's lines replace QuickBooks' on this kind of record, set "
                       f"sync.line_owner.{spec.name} = salesforce")
            logger.warning("%s", message)
            events.append(Activity(spec.name, SF_TO_QB, "line", Outcome.SKIPPED, sf_id=work.sf_id, qb_id=qb_id,
                                   message=message, cycle=self.cycle))
        for line in merged.removed:
            message = (f"{invoice}: removed line {line.label!r} (amount {line.amount}) that exists only in "
                       f"QuickBooks: Salesforce owns the lines (sync.line_owner.{spec.name} = salesforce)")
            logger.warning("%s", message)
            events.append(Activity(spec.name, SF_TO_QB, "line", Outcome.UPDATED, sf_id=work.sf_id, qb_id=qb_id,
                                   message=message, cycle=self.cycle))
        return events

    def _paid_invoice_warning(self, spec: EntitySpec, work: _Work, qb_id: str) -> list[Activity]:
        """What the entity says about a Mod, from QuickBooks' record before and after it (an invoice with payments
        applied whose total moved: the new open balance)."""
        current_values = getattr(self.qb, "current_values", None)
        if work.operation != "mod" or current_values is None or not work.qb_before:
            return []
        after = current_values(qb_id)
        if after is None:
            return []
        message = spec.hooks.after_mod(spec.declared, label=f"{spec.name} {work.name!r}", before=work.qb_before,
                                       after=after[0])
        if message is None:
            return []
        logger.warning("%s", message)
        return [Activity(spec.name, SF_TO_QB, "paid_invoice", Outcome.UPDATED, sf_id=work.sf_id, qb_id=qb_id,
                         message=message, cycle=self.cycle)]

    def _full_merge(self, spec: EntitySpec, work: _Work) -> FieldMerge:
        """An Add (or a Mod with nothing known of QuickBooks): every mapped field is sent and agreed."""
        if not work.source:
            work.source = self._source_values(spec, work)
        return merge_fields(base_source=None, base_target=None, source=work.source, proposed=self._header(work),
                            feeds=self._feeds(spec), target=None, policy=self.config.conflict_policy,
                            source_side=SALESFORCE, source_modified=None, target_modified=None,
                            target_key=self._target_key(spec))

    def _agreed(self, spec: EntitySpec, work: _Work, merged: FieldMerge, qb_id: str) -> Base:
        """The base after a successful write: what this merge accounted for, QuickBooks' side as it answered."""
        target_key = self._target_key(spec)
        current_values = getattr(self.qb, "current_values", None)
        after = current_values(qb_id) if current_values is not None else None
        answered = {target_key(name): value for name, value in after[0].items()} if after is not None else {}
        agreed_qb = {key: answered.get(key, value) for key, value in merged.agreed_target.items()}
        # What QuickBooks holds beyond the mapping, as it is now, for fields the base does not know yet: the inbound
        # pass then reads only later changes of them as changes (not this write's echo).
        # Not for a record whose QuickBooks side was never known (synced before bases were kept, or just linked):
        # QuickBooks' own edits since may be in it, and they must still reach Salesforce.
        known = work.base.quickbooks if work.base is not None else None
        if work.operation == "add" or known is not None:
            left = {target_key(name) for name in merged.left}
            agreed_qb.update({key: value for key, value in answered.items()
                              if value is not None and key not in (known or {}) and key not in agreed_qb
                              and key not in left})
        agreed_sf = dict(merged.agreed_source)
        if work.wanted_type:
            agreed_sf[OWN + "qb_type"] = work.wanted_type
        if work.target is not None and "lines" in work.target and (work.operation == "add" or work.send_lines):
            agreed_sf[OWN + "lines"] = work.target["lines"]
        base = work.base or Base(sf_id=work.sf_id, salesforce={}, quickbooks={})
        return self._agreed_lines(spec, work, base.updated(sf_id=work.sf_id, salesforce=agreed_sf,
                                                           quickbooks=agreed_qb), qb_id)

    def _agreed_lines(self, spec: EntitySpec, work: _Work, base: Base, qb_id: str) -> Base:
        """The line bases after a write: each Salesforce line ↔ its TxnLineID, both sides' values as agreed."""
        line_class = spec.hooks.line_class(spec.declared)
        current_lines = getattr(self.qb, "current_lines", None)
        after = current_lines(qb_id) if current_lines is not None and work.sf_lines else None
        if after is None:
            return base
        key = lambda name: qb_key(line_class, name)  # noqa: E731
        feeds = self._line_feeds(spec)
        by_id = {line_id: {key(k): v for k, v in flat.items()} for line_id, flat in after}
        lines = dict(base.lines)

        def whole(line: SourceLine) -> FieldMerge:
            return merge_fields(base_source=None, base_target=None, source=line.values, proposed=line.proposed,
                                feeds=feeds, target=None, policy=self.config.conflict_policy,
                                source_side=SALESFORCE, source_modified=None, target_modified=None, target_key=key)

        def read_back(target_id: str | None, keys: Any) -> dict[str, Any]:
            flat = by_id.get(target_id or "", {})
            return {k: flat.get(k) for k in keys}

        merged = work.line_merge
        if merged is None:
            if work.operation != "add" and not work.send_lines:
                return base
            # Lines sent whole (an Add, or lines never merged before): the n-th line sent is the n-th line now.
            if len(after) != len(work.sf_lines):
                return base
            lines = {}
            for line, (target_id, _) in zip(work.sf_lines, after, strict=True):
                agreed = whole(line)
                lines[line.line_id] = {"target": target_id, SALESFORCE: agreed.agreed_source,
                                       QUICKBOOKS: read_back(target_id, agreed.agreed_target)}
        else:
            sent = merged.lines or []
            position = {entry["source_id"]: index for index, entry in enumerate(sent) if entry.get("source_id")}
            for line_id, agreed in merged.agreed.items():
                target_id = agreed.get("target")
                if target_id is None and line_id in position and len(after) == len(sent):
                    target_id = after[position[line_id]][0]
                before = lines.get(line_id) or {}
                lines[line_id] = {"target": target_id,
                                  SALESFORCE: {**(before.get(SALESFORCE) or {}), **agreed[SALESFORCE]},
                                  QUICKBOOKS: {**(before.get(QUICKBOOKS) or {}),
                                               **read_back(target_id, agreed[QUICKBOOKS])}}
            for line_id in merged.dropped:
                lines.pop(line_id, None)
            base.reported = list(dict.fromkeys([*base.reported, *(line.line_id for line in merged.kept)]))
        base.lines = {line_id: {k: (stored(v) if k != "target" else v) for k, v in entry.items()}
                      for line_id, entry in lines.items()}
        return base

    def _record(self, spec: EntitySpec, works: list[_Work], report: EntityReport) -> None:
        """One transaction: crosswalk, journal, hashes, failures and activity for the whole batch."""
        links: list[Link] = []
        completed: dict[int, str | None] = {}
        abandoned: dict[int, str] = {}
        hashes: dict[str, str] = {}
        succeeded: list[str] = []
        failed: list[_Work] = []
        events: list[Activity] = []
        bases: dict[str, Base] = {}
        for work in works:
            if work.outcome is Outcome.UNCHANGED:
                succeeded.append(work.sf_id)
                continue
            if work.error is not None:
                if work.journal_id is not None:
                    abandoned[work.journal_id] = _describe(work.error)
                failed.append(work)
                continue
            write = work.write
            assert write is not None and write.qb_id is not None
            previous = work.link
            merged = work.merge or self._full_merge(spec, work)
            bases[write.qb_id] = self._agreed(spec, work, merged, write.qb_id)
            # This version is all qbsf's own write only when nothing QuickBooks changed was left in it: otherwise the
            # inbound pass must read it (not skip it as an echo) to bring QuickBooks' changes to Salesforce.
            own = previous.edit_sequence if write.unchanged and previous is not None else write.edit_sequence
            left = bool(merged.left) or bool(work.line_merge and work.line_merge.left)
            links.append(Link(spec.name, work.sf_id, write.qb_id,
                              edit_sequence=None if left else own,
                              external_guid=previous.external_guid if previous else self.qb.external_guid(work.sf_id),
                              qb_name=write.full_name or (previous.qb_name if previous else None)
                              or self._full_name(spec, work),
                              written_back=bool(previous and previous.written_back
                                                and previous.qb_id == write.qb_id)))
            if work.journal_id is not None:
                completed[work.journal_id] = write.qb_id
            if work.payload_hash:
                hashes[work.sf_id] = work.payload_hash
            succeeded.append(work.sf_id)
            line_conflicts = work.line_merge.conflicts if work.line_merge is not None else []
            events.extend(Activity(spec.name, SF_TO_QB, "conflict",
                                   Outcome.UPDATED if conflict.winner == SALESFORCE else Outcome.SKIPPED,
                                   sf_id=work.sf_id, qb_id=write.qb_id, cycle=self.cycle,
                                   message=f"{spec.name} {work.name!r}: {conflict.describe()}")
                          for conflict in [*merged.conflicts, *line_conflicts])
            events.extend(self._line_reports(spec, work, write.qb_id))
            events.extend(self._paid_invoice_warning(spec, work, write.qb_id))
            if work.adopt is not None:
                work.outcome = Outcome.LINKED
                report.linked += 1
                message = f"linked to the existing QuickBooks {spec.qb_entity} {work.adopt.full_name!r} and updated"
            elif write.unchanged:
                # QuickBooks already held every value (e.g. the record came from QuickBooks): nothing was sent.
                work.outcome = Outcome.UNCHANGED
                report.unchanged += 1
                continue
            elif work.operation == "add":
                work.outcome = Outcome.CREATED
                report.created += 1
                message = f"created QuickBooks {spec.qb_entity} {write.full_name or work.name!r}"
            else:
                work.outcome = Outcome.UPDATED
                report.updated += 1
                message = f"updated QuickBooks {spec.qb_entity} {write.full_name or work.name!r}"
            events.append(Activity(spec.name, SF_TO_QB, work.operation, work.outcome, sf_id=work.sf_id,
                                   qb_id=write.qb_id, message=message, cycle=self.cycle))
        with self.state.batch():
            self.state.record_many(links)
            self.state.journal_complete_many(completed)
            self.state.journal_abandon_many(abandoned)
            self.state.set_hashes_many(spec.name, SF_TO_QB, hashes)
            self.bases.put_many(spec.name, bases)
            self.notices.resolve(spec.name, succeeded)
            self.state.clear_failures_many(spec.name, SF_TO_QB, succeeded)
            states = record_failures(self.state, spec.name, SF_TO_QB, [_failed(work) for work in failed], report,
                                     cycle=self.cycle, events=events)
            for work, failure in zip(failed, states, strict=True):
                work.outcome = failure_outcome(failure)
            self.state.log_many(events)
        crash_point("after_local_record")

    def _write_back(self, spec: EntitySpec, report: EntityReport) -> None:
        """Write QuickBooks ids Salesforce does not hold yet (this batch's, and any a crash left behind): sent
        beside the next batch's QuickBooks work, finished before the next write-back (:mod:`qbsf.sync.write_back`:
        one composite call per 400 ids, the engine's own writes remembered)."""
        self.write_backs.start(spec, report)

    def settle_write_backs(self, *, quiet: bool = False) -> None:
        """Finish the write-back still on its way (before the poll of its entity or the pass ends)."""
        self.write_backs.settle(quiet=quiet)

    def write_back_left_behind(self, spec: EntitySpec) -> None:
        """Write back QuickBooks ids an interrupted cycle (or a reconcile) left unwritten, though no record of
        ``spec`` changed since: without this they would wait for the record's next change."""
        self.write_backs.start(spec, self.reports[spec.name], now=True)

    # ------------------------------------------------------------------------------------------ reconcile
    def reconcile_in_flight(self) -> int:
        """Settle Adds journaled by a cycle that died: found in QuickBooks → linked; absent → retried now.

        Returns how many journal entries were settled. Runs before anything new is sent.
        """
        entries = self.state.in_flight()
        if not entries:
            return 0
        by_entity: dict[str, list[JournalEntry]] = defaultdict(list)
        for entry in entries:
            by_entity[entry.entity].append(entry)
        for name, group in by_entity.items():
            spec = entity(name)
            starts = [e.started_at for e in group if e.started_at]
            since = (min(starts) if starts else self.state.now()) - RECONCILE_SLACK
            found = spec.hooks.find_written(spec.declared, self.qb, sorted({e.qb_name for e in group if e.qb_name}),
                                            since)
            by_guid = {f.external_guid.casefold(): f for f in found if f.external_guid}
            links: list[Link] = []
            completed: dict[int, str | None] = {}
            abandoned: dict[int, str] = {}
            hashes: dict[str, str] = {}
            retry: list[FailureInput] = []
            events: list[Activity] = []
            for entry in group:
                assert entry.id is not None
                match = by_guid.get((entry.external_guid or "").casefold())
                if match is not None:
                    links.append(Link(name, entry.sf_id, match.qb_id, edit_sequence=match.edit_sequence,
                                      external_guid=entry.external_guid, qb_name=match.full_name))
                    completed[entry.id] = match.qb_id
                    if entry.payload_hash:
                        hashes[entry.sf_id] = entry.payload_hash
                    events.append(Activity(name, SF_TO_QB, "reconcile", Outcome.CREATED, sf_id=entry.sf_id,
                                           qb_id=match.qb_id, cycle=self.cycle,
                                           message="an interrupted Add had reached QuickBooks: linked, not repeated"))
                else:
                    abandoned[entry.id] = "interrupted before QuickBooks saved it"
                    retry.append(FailureInput(entry.sf_id, "Retriable", "an interrupted Add is retried",
                                              version=None))
            with self.state.batch():
                self.state.record_many(links)
                self.state.journal_complete_many(completed)
                self.state.journal_abandon_many(abandoned)
                self.state.set_hashes_many(name, SF_TO_QB, hashes)
                self.state.fail_many(name, SF_TO_QB, retry, policy=_NOW_DUE)
                self.state.log_many(events)
            logger.info("%s: reconciled %d interrupted Add(s): %d had reached QuickBooks", name, len(group),
                        len(links))
        return len(entries)


class SoqlLinkResolver:
    """The mapping's ``LinkResolver``: one SOQL query per (object, field) and batch of values."""

    def __init__(self, sf: SalesforcePort) -> None:
        self.sf = sf

    def find_ids(self, sobject: str, field_name: str, values: Collection[str]) -> dict[str, str]:
        """Map each value to the Id of the ``sobject`` record whose ``field_name`` equals it."""
        wanted = sorted(set(values))
        found: dict[str, str] = {}
        for start in range(0, len(wanted), IDS_PER_QUERY):
            chunk = wanted[start:start + IDS_PER_QUERY]
            soql = (f"SELECT Id, {field_name} FROM {sobject} WHERE {field_name} IN "
                    f"({', '.join(quote(v) for v in chunk)})")
            for row in self.sf.query(soql):
                value = row.get(field_name)
                if value is not None:
                    found.setdefault(str(value), row["Id"])
        return found



class _OutboundBatch:
    """Salesforce → QuickBooks stages of one batch (:func:`qbsf.sync.pipeline.batch.run_batch`)."""

    def __init__(self, sync: OutboundSync, spec: EntitySpec, depth: int) -> None:
        self.sync = sync
        self.spec = spec
        self.depth = depth
        self.report = sync.reports[spec.name]
        self.adds: list[_Work] = []
        self.mods: list[_Work] = []

    def read(self, records: Sequence[dict[str, Any]]) -> list[_Work]:
        sync, spec = self.sync, self.spec
        works = [sync._work(spec, record) for record in records if (spec.name, record["Id"]) not in sync.finished]
        self.report.read += len(works)
        return works

    def skip_seen(self, works: list[_Work]) -> list[_Work]:
        # Parked records and records still backing off or waiting for their parent stay for later.
        kept = self.sync._skip_parked_and_backing_off(self.spec, works, self.report)
        links = self.sync.state.lookup_many(self.spec.name, [w.sf_id for w in kept])
        for work in kept:
            work.link = links.get(work.sf_id)
        return kept

    def map(self, works: list[_Work]) -> None:
        self.sync._resolve_parents(self.spec, works, self.depth)
        self.sync._map(self.spec, works)

    def diff(self, works: list[_Work]) -> None:
        """Unchanged records skipped; unlinked ones matched to same-named QuickBooks records; Mods merged with
        QuickBooks' current record (:mod:`qbsf.sync.merge`)."""
        sync, spec = self.sync, self.spec
        sync._skip_unchanged(spec, works, self.report)
        pending = [w for w in works if not w.failed and w.outcome is None]
        adds = [w for w in pending if w.link is None]
        mods = [w for w in pending if w.link is not None]
        if adds:
            sync._match_existing(spec, adds)
            mods.extend(w for w in adds if w.adopt is not None and not w.failed)
            adds = [w for w in adds if w.adopt is None and not w.failed]
        if mods and not sync.dry_run:
            sync.sink.edit_sequences(spec, mods)
            sync._merge(spec, [w for w in mods if not w.failed])
        self.adds, self.mods = adds, mods

    def write(self, works: list[_Work]) -> None:
        if self.sync.dry_run:
            self.sync._plan(self.spec, self.adds, self.mods, self.report)
        else:
            self.sync.sink.write(self.spec, works)

    def record(self, works: list[_Work]) -> None:
        if not self.sync.dry_run:
            self.sync._record(self.spec, works, self.report)
            self.sync._relink_references(self.spec, works)

    def ack(self, works: list[_Work]) -> None:
        """QuickBooks ids written back to Salesforce; every record of the batch is finished for this cycle."""
        if not self.sync.dry_run:
            self.sync._write_back(self.spec, self.report)
        for work in works:
            self.sync.finished[(self.spec.name, work.sf_id)] = _describe(work.error) if work.error else None
