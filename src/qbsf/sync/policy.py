"""What happens next to a record that failed: one policy, decided by the error's class.

=================  =====================================================================================
error class        what happens next
=================  =====================================================================================
Retriable          **backoff**: tried again after an exponential delay; parked after ``max_attempts``.
AfterDependency    **after parent**: waits, with no timer, until the parent it names is linked (the store
                   makes it due in the same transaction that records the parent's link). One that names no
                   parent (QuickBooks' "invalid reference", a mapping Link lookup) backs off like Retriable.
NeedsUser          **park**: parked at the first failure, with its message; un-parked when the record
                   changes or a person asks for a retry (``qbsf sync retry``, the dashboard's Retry).
Skippable          **record**: the failure is recorded and the record is not tried again — until it
                   changes or a person asks for a retry.
=================  =====================================================================================

Failures are stored with the error's class name (``RecordBusy``, ``NameInUse``…); :func:`step_for_kind` finds
the policy class it belongs to through the error hierarchy, so a new error class needs no change here.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from qbsf.errors import AfterDependency, NeedsUser, Retriable, Skippable

if TYPE_CHECKING:
    from qbsf.sync.state import Failure, Outcome


class NextStep(StrEnum):
    """What the engine does with a failed record (stored in the failure table's ``next_step`` column)."""

    BACKOFF = "backoff"
    AFTER_PARENT = "after_parent"
    PARK = "park"
    RECORD = "record"


_BY_BASE: tuple[tuple[type[BaseException], NextStep], ...] = (
    (NeedsUser, NextStep.PARK),
    (Skippable, NextStep.RECORD),
    (AfterDependency, NextStep.AFTER_PARENT),
    (Retriable, NextStep.BACKOFF),
)


def step_for(error: BaseException) -> NextStep:
    """The next step for an error; anything outside the four classes backs off (the safe default)."""
    for base, step in _BY_BASE:
        if isinstance(error, base):
            return step
    return NextStep.BACKOFF


def _subclasses(base: type) -> list[type]:
    found, todo = [], [base]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(current.__subclasses__())
    return found


def step_for_kind(kind: str) -> NextStep:
    """The next step for a stored error class name (``NameInUse`` → park); unknown names back off."""
    for base, step in _BY_BASE:
        if any(cls.__name__ == kind for cls in _subclasses(base)):
            return step
    return NextStep.BACKOFF


def waits_for(error: BaseException | None) -> tuple[str, str] | None:
    """The parent (entity, Salesforce Id or QuickBooks id) an AfterDependency error waits for, when it names one."""
    parent = getattr(error, "parent", None) if isinstance(error, AfterDependency) else None
    return parent if isinstance(parent, tuple) and len(parent) == 2 and all(parent) else None


def is_due(failure: Failure, now: datetime) -> bool:
    """Whether a failed record, unchanged since it failed, may be tried again at ``now``."""
    return (not failure.parked and failure.next_step == NextStep.BACKOFF and failure.waits_for is None
            and failure.next_attempt_at <= now)


def outcome(failure: Failure) -> Outcome:
    """The activity log's outcome for a failed attempt: parked, skipped (recorded only) or failed."""
    from qbsf.sync.state import Outcome

    if failure.parked:
        return Outcome.PARKED
    if failure.next_step == NextStep.RECORD:
        return Outcome.SKIPPED
    return Outcome.FAILED


def explain(failure: Failure) -> str:
    """What happens next, in words, appended to the failure's message in the log and the dashboard."""
    if failure.parked and failure.next_step == NextStep.PARK:
        return " (parked: fix it, then `qbsf sync retry`; a change to the record retries it too)"
    if failure.parked:
        return f" (parked after {failure.attempts} attempts: fix it, then `qbsf sync retry`)"
    if failure.waits_for is not None:
        entity, key = failure.waits_for
        return f" (waiting for {entity} {key}: retried as soon as it syncs)"
    if failure.next_step == NextStep.RECORD:
        return " (skipped: not retried unless the record changes or you retry it)"
    return f" (attempt {failure.attempts}; retrying at {failure.next_attempt_at:%H:%M:%S} UTC)"
