"""Several queries in one qbXML message: each one's first page arrives together, the rest page on their own.

A QBXMLMsgsRq may hold many requests, each answered by requestID (``onError="continueOnError"``: one refused
request does not stop the others). A query started with ``iterator="Start"`` answers its first ``MaxReturned``
records with ``iteratorRemainingCount`` and an ``iteratorID``; each iterator then continues on its own
(``iterator="Continue"``) inside the same session, one message per page. So the delta reads of every entity and the
deleted-records reads of an idle pass, which find nothing, cost a single message instead of one each.
See Intuit's "Iterators" and "Error handling (onError)" pages of the QuickBooks Desktop SDK programmer's guide
(https://developer.intuit.com/app/developer/qbdesktop/docs/develop/exploring-the-quickbooks-desktop-sdk/query-requests-and-responses).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qbsf.quickbooks import entities
from qbsf.quickbooks.bodies import query_body, when
from qbsf.quickbooks.errors import TransportError
from qbsf.quickbooks.messages import Response, request


@dataclass(frozen=True)
class Query:
    """One query of a shared message: its request tag and body; ``paged`` starts an iterator."""

    rq_tag: str
    body: dict[str, Any] = field(default_factory=dict)
    paged: bool = True
    page_size: int | None = None  # records per page when paged (None: the client's page size)


def delta_query(kind: str, since: datetime | None, *, include_lines: bool = False,
                include_linked: bool = False, only: Sequence[str] = (), page_size: int | None = None) -> Query:
    """The query of ``kind`` records modified at or after ``since`` (every record when None), inactive ones
    included; a transaction's lines and the transactions linked to it only when asked — the client's one query
    by entity (:func:`qbsf.quickbooks.bodies.query_body`), paged where QuickBooks has an iterator for it.

    ``only`` names the only elements each record comes with (``IncludeRetElement``: e.g. its id, TimeModified and
    EditSequence — its version, at a fraction of the bytes); ``page_size`` overrides the client's page size."""
    declared = entities.entity(kind)
    body = query_body(declared, since=since, include_lines=include_lines, include_linked=include_linked,
                      include_inactive=True, only=only)
    return Query(declared.query_rq, body, paged=declared.paged, page_size=page_size)


def deleted_queries(list_types: Sequence[str], txn_types: Sequence[str], since: datetime | None) -> list[Query]:
    """ListDeletedQuery and TxnDeletedQuery for the given types (each only when it has types); no iterator."""
    window = {"DeletedDateRangeFilter": {"FromDeletedDate": when(since)}} if since is not None else {}
    queries = []
    if list_types:
        queries.append(Query("ListDeletedQueryRq", {"ListDelType": list(list_types), **window}, paged=False))
    if txn_types:
        queries.append(Query("TxnDeletedQueryRq", {"TxnDelType": list(txn_types), **window}, paged=False))
    return queries


def query_together(client: Any, queries: Sequence[Query]) -> list[Iterator[list[Any]]]:
    """Send ``queries`` in one message; one iterator of pages (parsed records) per query, in order.

    The message goes now; a query QuickBooks refused raises its error when its pages are read (the others are
    unaffected). Pages after the first are fetched as they are consumed.
    """
    if not queries:
        return []
    rqs = []
    for number, query in enumerate(queries):
        body = {"MaxReturned": query.page_size or client.page_size, **query.body} if query.paged \
            else dict(query.body)
        rqs.append(request(query.rq_tag, f"t{number}", body, attrs={"iterator": "Start"} if query.paged else None))
    answers = {response.request_id: response for response in client._send(rqs)}
    streams = []
    for number, query in enumerate(queries):
        response = answers.get(f"t{number}")
        if response is None:
            raise TransportError(f"QuickBooks returned no response for {query.rq_tag} t{number}",
                                 hint="the message may not have been processed; qbsf retries next cycle")
        streams.append(_pages(client, query, response))
    return streams


def _pages(client: Any, query: Query, response: Response) -> Iterator[list[Any]]:
    what = query.rq_tag.removesuffix("Rq")
    while True:
        client._raise_for(response, what)
        yield [record for record in (client._parse_ret(ret) for ret in response.rets) if record is not None]
        if not query.paged or not response.remaining or not response.iterator_id:
            return
        response = client._one(request(query.rq_tag, "page", {"MaxReturned": query.page_size or client.page_size},
                                        attrs={"iterator": "Continue", "iteratorID": response.iterator_id}))
