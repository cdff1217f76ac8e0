"""Fixtures for the QuickBooks simulator tests: a simulator on a fixed clock behind the schema-checking transport.

Requests in these tests are hand-written qbXML (never built with qbsf's client), so the
simulator is checked against Intuit's schema and documented behaviour, not against our own code.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from qbsf.sim.quickbooks import QuickBooksSimulator

START = datetime(2026, 3, 2, 17, 0, 0, tzinfo=UTC)  # 09:00 in the company's UTC-8


class QbxmlSession:
    """Sends hand-written requests through the validating transport and hands back the *Rs elements."""

    def __init__(self, sim: QuickBooksSimulator, transport) -> None:
        self.sim = sim
        self.transport = transport

    def envelope(self, *requests: str, version: str = "16.0", on_error: str = "continueOnError") -> str:
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="{version}"?>\n'
                f'<QBXML><QBXMLMsgsRq onError="{on_error}">{"".join(requests)}</QBXMLMsgsRq></QBXML>')

    def call(self, *requests: str, version: str = "16.0", on_error: str = "continueOnError") -> list[etree._Element]:
        response = self.transport.send(self.envelope(*requests, version=version, on_error=on_error))
        root = etree.fromstring(response.split("\n", 2)[2].encode())
        return list(root.find("QBXMLMsgsRs"))

    def one(self, request: str, version: str = "16.0") -> etree._Element:
        (response,) = self.call(request, version=version)
        return response

    def ok(self, request: str, version: str = "16.0") -> etree._Element:
        """The single *Ret of a request that must succeed (statusCode 0)."""
        response = self.one(request, version)
        assert response.get("statusCode") == "0", (response.get("statusCode"), response.get("statusMessage"))
        return response[0]


def text(element: etree._Element, path: str) -> str | None:
    """Text at a child path like 'CustomerRef/FullName', or None."""
    found = element.find(path)
    return None if found is None else found.text


@pytest.fixture
def sim():
    simulator = QuickBooksSimulator(clock=lambda: START)
    yield simulator
    simulator.close()


@pytest.fixture
def qb(sim, validating) -> QbxmlSession:
    return QbxmlSession(sim, validating(sim))


@pytest.fixture
def txt():
    return text
