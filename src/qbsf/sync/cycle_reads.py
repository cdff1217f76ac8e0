"""The cycle's Salesforce reads in one ``/composite`` call: SOQL queries as ``query`` subrequests.

A scheduled cycle starts by reading the same few things every time — the change polls' first pages (or the queue's
claim read), and where the Salesforce package is installed the heartbeat and pending sync requests. Sent one by
one they cost one API call each even when nothing changed; as subrequests of one composite request an idle cycle
costs a single call. The change sources expose the SOQL they will run (``cycle_reads``) and accept the pages read
here (``accept_reads``); anything beyond a first page is read by the source itself, which only happens when records
changed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from qbsf.errors import QbsfError

logger = logging.getLogger(__name__)

COMPOSITE_LIMIT = 25  # Salesforce runs at most 25 subrequests per composite request
# Subrequests the cycle's call holds besides the change reads: the heartbeat, the pending sync requests and the
# in-org app's six reads (qbsf.app.presence, qbsf.app.org_app).
RESERVED = 8
# A referenceId starting with this runs as ``queryAll`` (deleted and merged records included), not ``query``.
QUERY_ALL = "queryAll_"


def query_subrequest(reference: str, soql: str) -> dict[str, Any]:
    """A composite ``query`` subrequest (the query string travels in the url, as composite requires); a
    ``queryAll`` one when ``reference`` starts with :data:`QUERY_ALL`."""
    resource = "queryAll" if reference.startswith(QUERY_ALL) else "query"
    return {"method": "GET", "referenceId": reference, "url": f"{resource}?{urlencode({'q': soql})}"}


def room_for(reads: Mapping[str, str], more: Mapping[str, str]) -> dict[str, str]:
    """As many of ``more`` as fit in the cycle's one composite call beside ``reads`` (the rest are read alone)."""
    room = max(0, COMPOSITE_LIMIT - RESERVED - len(reads))
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


def read_in_one_call(sf: Any, queries: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Run ``queries`` (referenceId → SOQL, at most 25) as one composite call; referenceId → first page.

    A failed call returns no pages, so each source falls back to its own reads (and reports their errors).
    """
    if not queries:
        return {}
    if len(queries) > COMPOSITE_LIMIT:
        raise QbsfError(f"{len(queries)} cycle reads do not fit one composite call (at most {COMPOSITE_LIMIT})",
                        hint="sync fewer objects, or read the rest on their own")
    try:
        results = sf.composite([query_subrequest(ref, soql) for ref, soql in queries.items()])
    except QbsfError as exc:
        logger.warning("Salesforce change polls not read in one call: %s", exc)
        return {}
    return query_pages({r.reference_id: r for r in results}, queries)
