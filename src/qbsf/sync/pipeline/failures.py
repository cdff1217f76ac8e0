"""A record that failed, recorded the same way in both directions (the ``record`` stage of every batch).

:func:`record_failures` is the one place a failed record becomes visible and gets its next step:

- its **failure row** (entity, direction, record key, error class, message, version), which the error policy
  (:mod:`qbsf.sync.policy`) turns into what happens next — back off, wait for the parent, park for a person, or
  record only — and which the dashboard's failure list, ``/api/status`` and ``qbsf status`` read;
- one **activity log line** per record, the message followed by what happens next, in words
  (:func:`qbsf.sync.policy.explain`): the Live Log, the console and ``qbsf.jsonl``;
- the batch's **report**: failed, parked and the (record, name, message) list the pass summary prints.

:func:`stuck_failure` is the error for a record whose conflicts the other side won but no mapping carries back
(:func:`qbsf.sync.merge.stuck_error`), in either direction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qbsf.errors import NeedsUser, SyncError
from qbsf.sync.merge import stuck_error
from qbsf.sync.pipeline.batch import BatchReport
from qbsf.sync.policy import explain, outcome, waits_for
from qbsf.sync.state import Activity, Direction, Failure, FailureInput, StateStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FailedRecord:
    """One record of a batch that failed, as its direction names it."""

    key: str                  # the failure row's key: the source record's id (Salesforce Id, QuickBooks id)
    name: str                 # how the report names the record
    error: SyncError
    message: str              # what the failure row, the report and the log say (the log adds what happens next)
    version: str | None       # the source version that failed: a newer one is tried at once
    operation: str            # the activity log's operation (add, mod, upsert, sync)
    sf_id: str | None = None
    qb_id: str | None = None


def record_failures(state: StateStore, entity: str, direction: Direction, failed: Sequence[FailedRecord],
                    report: BatchReport, *, cycle: str | None, events: list[Activity]) -> list[Failure]:
    """Record ``failed`` (see the module docstring); their log lines are appended to ``events``, which the caller
    writes in the same transaction. Returns each record's new failure state, in order."""
    if not failed:
        return []
    states = state.fail_many(entity, direction, [
        FailureInput(item.key, type(item.error).__name__, item.message, version=item.version,
                     waits_for=waits_for(item.error)) for item in failed])
    for item, failure in zip(failed, states, strict=True):
        report.failed += 1
        if failure.parked:
            report.parked += 1
        report.failures.append((item.key, item.name, item.message))
        events.append(Activity(entity, direction, item.operation, outcome(failure), sf_id=item.sf_id,
                               qb_id=item.qb_id, message=item.message + explain(failure), cycle=cycle))
    return states


def stuck_failure(record: str, stuck: Any, *, source_side: str, policy: Any, reverse_sheet: str | None) -> NeedsUser:
    """The error of a record whose conflicts the target side won but no mapping of the other direction carries
    back (``record`` is how the message names it); logged as a warning with what to do."""
    message, hint = stuck_error(record, stuck, source_side=source_side, policy=policy, reverse_sheet=reverse_sheet)
    logger.warning("%s → %s", message, hint)
    return NeedsUser(message, hint=hint)
