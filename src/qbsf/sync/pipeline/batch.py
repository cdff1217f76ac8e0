"""The one batch step both directions run: read → skip seen → map → diff → write → record → ack.

A direction supplies its :class:`Stages` — how its records become work items, what it already has, its mapping,
its diff (the three-way merge of :mod:`qbsf.sync.merge`), the write to the other system's sink
(:mod:`qbsf.sync.pipeline.sink`), the local record (crosswalk, journal, bases, failures and the activity log in one
transaction; a failed record is recorded by :func:`qbsf.sync.pipeline.failures.record_failures` in both
directions) and the acknowledgement to the source — and
:func:`run_batch` runs them in this one order for every batch of every entity. Each stage gets the batch's work
items and marks a record it cannot take further (an error, or an outcome such as unchanged); a record that fails
fails alone, the rest of the batch goes on.

What each direction fills in:

===========  ==========================================  ==========================================
stage        Salesforce → QuickBooks                     QuickBooks → Salesforce
===========  ==========================================  ==========================================
read         SOQL rows → work items                      QuickBooks records → flat work items
skip_seen    records finished this cycle, parked or      crosswalk, snapshots and bases; records
             backing off; crosswalk links                the entity does not hold (sub-customers)
map          parents synced first, CSV mapping, lines    CSV mapping, Link lookups, status/origin
diff         unchanged (base) skipped; same-named        echoes and unchanged skipped; same-named
             records linked; Mods merged with QB         records linked; Salesforce read and merged
write        QuickBooksSink: journal, then Adds/Mods     SalesforceSink: update by Id / upsert by
             many per message                            external id, then the entity's lines
record       one transaction (crosswalk, journal, …)     one transaction (snapshots, crosswalk, …)
             failures: record_failures (one function)    failures: record_failures (one function)
ack          QuickBooks ids written back to Salesforce   the batch's ids + versions marked seen (in
                                                         the record's transaction): a restart skips
                                                         them; the read window moves when every
                                                         batch is recorded
===========  ==========================================  ==========================================

:class:`BatchReport` is what one pass did with one entity, in either direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

W = TypeVar("W")

STEPS = ("read", "skip_seen", "map", "diff", "write", "record", "ack")


class Stages(Protocol[W]):
    """One direction's stages for one batch of one entity (see the module docstring)."""

    def read(self, records: Sequence[Any]) -> list[W]:
        """The batch's records as work items (a record that cannot be read is a failed work item, not an error)."""
        ...

    def skip_seen(self, works: list[W]) -> list[W]:
        """The work items still to handle: drop what this cycle finished or what waits (backoff, parent, a person)."""
        ...

    def map(self, works: list[W]) -> None:
        """Map each record to the other system's shape (errors are set on the work item)."""
        ...

    def diff(self, works: list[W]) -> None:
        """Decide what each record sends: nothing when unchanged, a merge when the other side changed too."""
        ...

    def write(self, works: list[W]) -> None:
        """Send to the other system, many records per call."""
        ...

    def record(self, works: list[W]) -> None:
        """Record the batch locally in one transaction (links, journal, bases, failures, activity)."""
        ...

    def ack(self, works: list[W]) -> None:
        """Tell the source the batch is handled."""
        ...


def run_batch(stages: Stages[W], records: Sequence[Any]) -> list[W]:
    """Run one batch through every stage in order; returns the work items handled (each with its outcome or
    error), not those :meth:`Stages.skip_seen` left for later."""
    works = stages.read(records)
    if not works:
        return []
    kept = stages.skip_seen(works)
    stages.map(kept)
    stages.diff(kept)
    stages.write(kept)
    stages.record(kept)
    stages.ack(kept)
    return kept


@dataclass
class BatchReport:
    """What one pass did with one entity, in either direction."""

    read: int = 0             # records read (QuickBooks → Salesforce: not counting what the overlap read again)
    reread: int = 0           # versions the read overlap saw again, already handled: skipped at no cost
    created: int = 0
    updated: int = 0
    linked: int = 0           # linked to a same-named record of the other side (and updated)
    unchanged: int = 0
    echoes: int = 0           # qbsf's own write seen coming back
    skipped: int = 0          # not for this entity (a sub-customer is no Account) or not to be created
    failed: int = 0
    parked: int = 0           # failed and waiting for a person (the error policy)
    waiting: int = 0          # not tried this pass: backing off, or waiting for a parent or a person
    conflicts: int = 0
    written_back: int = 0     # QuickBooks ids written to Salesforce
    deleted: int = 0
    inactivated: int = 0
    status_refreshed: int = 0
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (record id, name, message)
    planned: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)  # dry run: op, id, name, QB

    _COUNTERS = ("read", "reread", "created", "updated", "linked", "unchanged", "echoes", "skipped", "failed",
                 "parked", "waiting", "conflicts", "written_back", "deleted", "inactivated", "status_refreshed")

    @property
    def queried(self) -> int:
        """Records read from QuickBooks (the inbound pass's word for :attr:`read`)."""
        return self.read

    @queried.setter
    def queried(self, value: int) -> None:
        self.read = value

    @property
    def synced(self) -> int:
        """Records written to the other system in this pass (unchanged ones are not counted)."""
        return self.created + self.updated + self.linked

    def add(self, other: BatchReport) -> None:
        """Add another report's counts and failures to this one."""
        for name in self._COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.failures.extend(other.failures)
        self.planned.extend(other.planned)
