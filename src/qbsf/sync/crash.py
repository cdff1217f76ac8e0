"""Crash points: let tests kill the engine (SIGKILL, no cleanup) at a named step boundary of a cycle.

Set ``QBSF_CRASH_AT=<point>`` (or ``<point>:<n>`` to crash on the n-th time the point is reached) in the
environment of a process running a cycle: :data:`POINTS` are Salesforce → QuickBooks boundaries,
:data:`INBOUND_POINTS` QuickBooks → Salesforce ones, :data:`LIFECYCLE_POINTS` those of the Salesforce → QuickBooks
life-cycle check (a record deleted, merged or no longer eligible in Salesforce, and the action it asks). Without
the variable, :func:`crash_point` costs one dict lookup.

With ``QBSF_CRASH_HOW=raise`` the point raises :class:`CrashPointReached` instead: an unexpected error escaping the
pass, every ``with`` block on the way out unwinding (an open state transaction rolls back), the process alive.
"""

from __future__ import annotations

import logging
import os
import signal

logger = logging.getLogger(__name__)

ENV_VAR = "QBSF_CRASH_AT"
HOW_VAR = "QBSF_CRASH_HOW"
# The step boundaries of one outbound batch, in the order a cycle reaches them.
POINTS = (
    "after_journal",        # Adds journaled, nothing sent to QuickBooks yet
    "mid_batch",            # the first of several QuickBooks messages of a batch answered
    "after_qb_write",       # every QuickBooks message of the batch answered, nothing recorded locally
    "after_local_record",   # crosswalk, journal and hashes committed; Salesforce not told yet
    "mid_write_back",       # the first write-back collection sent to Salesforce
    "after_write_back",     # Salesforce holds the QuickBooks ids, not yet marked locally
    "after_ack",            # the change source acknowledged (watermark moved)
)
# The step boundaries of a QuickBooks → Salesforce pass: each batch's, then the pass's own (the read window, the
# deletions read), in the order a pass reaches them.
INBOUND_POINTS = (
    "inbound_after_read",               # a batch read from QuickBooks, nothing mapped or written
    "inbound_before_sf_write",          # the batch mapped and compared with Salesforce, nothing written there
    "inbound_mid_write",                # the batch's records written to Salesforce, the entity's lines not yet
    "inbound_after_sf_write",           # every Salesforce write of the batch answered, nothing recorded locally
    "inbound_after_record",             # the batch recorded locally and its versions marked seen (one transaction)
    "inbound_in_window_move",           # inside the transaction that moves the read window: none of it stays
    "inbound_after_window_move",        # the read window moved and committed; deletions and status not done yet
    "inbound_after_deletions_written",  # deletions' actions written to Salesforce, nothing of them recorded
    "inbound_in_deletions_record",      # inside the transaction that records the deletions and marks them seen
    "inbound_after_deletions",          # the deletions recorded and committed
)
# The step boundaries of the life-cycle check (qbsf.sync.lifecycle), per record it finds, then the check's own.
LIFECYCLE_POINTS = (
    "lifecycle_after_qb_action",     # the action (inactivate, memo, void) written to QuickBooks, nothing recorded
    "lifecycle_in_record",           # inside the transaction that records the notice, activity, failure and unlink
    "lifecycle_after_record",        # the record's notice committed; the check's key not moved yet
    "lifecycle_in_checked_move",     # inside the transaction that moves the check's key: none of it stays
    "lifecycle_after_checked_move",  # the check's key moved and committed
)
_hits: dict[str, int] = {}


class CrashPointReached(RuntimeError):
    """Raised at a crash point when ``QBSF_CRASH_HOW=raise`` (not a qbsf error: nothing on the way catches it)."""


def reset() -> None:
    """Forget how often each point was reached (a process that runs several passes, one of them crashed)."""
    _hits.clear()


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL when ``QBSF_CRASH_AT`` names ``name`` (at its n-th hit with ``name:n``)."""
    wanted = os.environ.get(ENV_VAR)
    if not wanted:
        return
    point, _, count = wanted.partition(":")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= (int(count) if count.isdigit() else 1):
        if os.environ.get(HOW_VAR) == "raise":
            logger.warning("crash point %s reached: raising", name)
            raise CrashPointReached(f"crash point {name} reached")
        logger.warning("crash point %s reached: killing the process", name)
        os.kill(os.getpid(), signal.SIGKILL)
