"""The one interface between the QuickBooks client and QuickBooks: one qbXML message in, its response out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Transport(Protocol):
    """Carries qbXML to QuickBooks: the in-process simulator, the Windows COM request processor, or the
    Web Connector. A transport keeps one QuickBooks session open between ``send`` calls (iterators live
    only as long as that session) and ends it on ``close``."""

    def send(self, request_xml: str) -> str:
        """Deliver one qbXML request document and return QuickBooks' response document."""
        ...

    def close(self) -> None:
        """End the QuickBooks session so QuickBooks can close; safe to call twice."""
        ...
