"""Crash points: let tests kill the engine (SIGKILL, no cleanup) at a named step boundary of a cycle.

Set ``QBSF_CRASH_AT=<point>`` (or ``<point>:<n>`` to crash on the n-th time the point is reached) in the
environment of a process running a cycle. Without the variable, :func:`crash_point` costs one dict lookup.
"""

from __future__ import annotations

import logging
import os
import signal

logger = logging.getLogger(__name__)

ENV_VAR = "QBSF_CRASH_AT"
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
_hits: dict[str, int] = {}


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
        logger.warning("crash point %s reached: killing the process", name)
        os.kill(os.getpid(), signal.SIGKILL)
