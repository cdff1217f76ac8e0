"""The cycle's Salesforce reads in ONE call: the package's Apex REST resource, else ``/composite`` subrequests.

A scheduled cycle starts by reading the same few things every time — the change polls' first pages (or the queue's
claim read), the hourly life-cycle check's reads, and where the Salesforce package is installed the heartbeat, the
pending sync requests and the in-org app's rows. Sent one by one they cost one API call each even when nothing
changed. :class:`CycleCall` sends them together: to ``POST /services/apexrest/qbsf/cycle`` (``QBSFCycleResource`` in
salesforce/force-app, one API call for every read) when the org's package has it, else as ``/composite`` subrequests
(Salesforce runs at most 5 queries a composite call, so ~14 reads cost 3 calls); only the resource answers digest
reads (:data:`DIGEST`: a settling check of a read window, see :mod:`qbsf.sync.changes`). A package without the
resource is found out by the first call (404 NOT_FOUND) and remembered. The change sources expose the SOQL they will run
(``cycle_reads``) and accept the pages read here (``accept_reads``): they never see which way the reads went.
Anything beyond a first page is read by the source itself, which only happens when records changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from qbsf.errors import QbsfError
from qbsf.salesforce.client import is_missing_resource

logger = logging.getLogger(__name__)

COMPOSITE_LIMIT = 25  # Salesforce runs at most 25 subrequests per composite request
APEX_CYCLE = "qbsf/cycle"  # QBSFCycleResource's url mapping
READ_LIMIT = 50  # QBSFCycleResource.MAX_READS: reads one cycle call runs (the rest answer LIMIT_EXCEEDED)
# Reads the cycle's call holds besides the engine's: the pending sync requests and the in-org app's six reads
# (qbsf.app.presence, qbsf.app.org_app), and room to spare.
RESERVED = 8
# A referenceId starting with this runs as ``queryAll`` (deleted and merged records included), not ``query``.
QUERY_ALL = "queryAll_"
# A referenceId starting with this is a digest read: the cycle resource answers ``{totalSize, digest}`` of the
# (Id, SystemModstamp) pairs the SOQL selects instead of records (QBSFCycleResource.runDigest). ``/composite`` has
# no such read: there it is left out, and the source reads what it needs itself.
DIGEST = "digest_"


def query_subrequest(reference: str, soql: str) -> dict[str, Any]:
    """A composite ``query`` subrequest (the query string travels in the url, as composite requires); a
    ``queryAll`` one when ``reference`` starts with :data:`QUERY_ALL`."""
    resource = "queryAll" if reference.startswith(QUERY_ALL) else "query"
    return {"method": "GET", "referenceId": reference, "url": f"{resource}?{urlencode({'q': soql})}"}


def room_for(reads: Mapping[str, str], more: Mapping[str, str]) -> dict[str, str]:
    """As many of ``more`` as fit in the cycle's one call beside ``reads`` (the rest are read alone)."""
    room = max(0, READ_LIMIT - RESERVED - len(reads))
    return dict(list(more.items())[:room])


def complete_pages(queries: Mapping[str, str], pages: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """SOQL → records for each of ``queries`` whose first page is the whole answer (``done``); a query with more
    pages to come is left out, for its reader to run alone."""
    found: dict[str, list[dict[str, Any]]] = {}
    for reference, soql in queries.items():
        page = pages.get(reference)
        if isinstance(page, Mapping) and page.get("done", True) and isinstance(page.get("records"), list):
            found[soql] = [dict(record) for record in page["records"]]
    return found


def query_pages(results: Mapping[str, Any], queries: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """referenceId → query body for each of ``queries`` that succeeded; a failed one is left out (and logged at
    debug: the source re-runs it alone, where its error is reported with the entity it belongs to)."""
    pages: dict[str, dict[str, Any]] = {}
    for reference in queries:
        result = results.get(reference)
        if result is None:
            continue
        status = int(getattr(result, "status", 0))
        body = getattr(result, "body", None)
        if 200 <= status < 300 and isinstance(body, dict):
            pages[reference] = body
        else:
            logger.debug("composite read %s answered %s; read again on its own", reference, status)
    return pages


@dataclass(frozen=True)
class Answer:
    """One item's answer in the cycle call (the shape of a composite subrequest's result)."""

    reference_id: str
    status: int
    body: Any


class CycleCall:
    """The cycle's one Salesforce call over a client: the package's Apex REST resource while the org has it, else
    ``/composite`` (remembered after a 404 and said once in the log; tried again every :attr:`RECHECK` seconds, so
    a package updated while qbsf runs is used from then on)."""

    RECHECK = 3600.0  # seconds before a missing resource is tried again (a package updated while qbsf runs)

    def __init__(self, sf: Any, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.sf = sf
        self.clock = clock
        # None: not tried yet; False: the org's package has no cycle resource (older package, or none)
        self.resource: bool | None = None if callable(getattr(sf, "apex_post", None)) else False
        self._recheck_at: float | None = None
        self._told = False

    def send(self, reads: Mapping[str, str], *, heartbeat: Mapping[str, Any] | None = None,
             closes: Sequence[Mapping[str, Any]] = (),
             subrequests: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
        """Run ``reads`` (referenceId → SOQL; :data:`QUERY_ALL` references include deleted rows) with the
        heartbeat upsert and the sync request closes; referenceId → answer (``status``, ``body``).

        ``heartbeat`` and ``closes`` (``{"referenceId", "id", "status", "message"}``) are what the Apex resource
        takes; ``subrequests`` are the same writes as composite subrequests, sent when the org has no resource.
        A failed call raises (:class:`QbsfError`).
        """
        if self.resource is False and self._recheck_at is not None and self.clock() >= self._recheck_at:
            self.resource = None  # an hour on: the package may have been updated since
        if self.resource is not False:
            body = {"heartbeat": dict(heartbeat) if heartbeat is not None else None,
                    "close": [dict(close) for close in closes],
                    "reads": [{"referenceId": reference, "soql": soql, "all": reference.startswith(QUERY_ALL),
                               **({"digest": True} if reference.startswith(DIGEST) else {})}
                              for reference, soql in reads.items()]}
            try:
                answer = self.sf.apex_post(APEX_CYCLE, body)
            except QbsfError as exc:
                if not is_missing_resource(exc):
                    # the resource failed this time (a limit, an org error): the reads still go, as /composite
                    logger.warning("The Salesforce cycle resource failed (%s); this cycle reads through /composite",
                                   exc)
                    return self._composite(reads, subrequests)
                self.resource = False
                self._recheck_at = self.clock() + self.RECHECK
                if not self._told:
                    self._told = True
                    logger.info("The Salesforce package has no cycle resource (/services/apexrest/%s): each cycle "
                                "reads through /composite, 5 queries a call. Update the qbsf package in Salesforce "
                                "to make an idle cycle one API call.", APEX_CYCLE)
            else:
                if self.resource is None and self._told:
                    logger.info("The Salesforce package's cycle resource answers: an idle cycle is one API call again")
                self.resource = True
                items = answer.get("results") if isinstance(answer, Mapping) else None
                return {str(item.get("referenceId")): Answer(str(item.get("referenceId")),
                                                             int(item.get("httpStatusCode") or 0), item.get("body"))
                        for item in items or [] if isinstance(item, Mapping)}
        return self._composite(reads, subrequests)

    def _composite(self, reads: Mapping[str, str], subrequests: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        reads = {reference: soql for reference, soql in reads.items() if not reference.startswith(DIGEST)}
        if not subrequests and not reads:
            return {}
        calls = [*subrequests, *(query_subrequest(reference, soql) for reference, soql in reads.items())]
        return {result.reference_id: result for result in self.sf.composite(calls)}


def read_in_one_call(sf: Any, queries: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Run ``queries`` (referenceId → SOQL) in the cycle's call (``sf``: a client, or its :class:`CycleCall`);
    referenceId → first page.

    A failed call returns no pages, so each source falls back to its own reads (and reports their errors).
    """
    if not queries:
        return {}
    call = sf if isinstance(sf, CycleCall) else CycleCall(sf)
    try:
        results = call.send(queries)
    except QbsfError as exc:
        logger.warning("Salesforce change polls not read in one call: %s", exc)
        return {}
    return query_pages(results, queries)
