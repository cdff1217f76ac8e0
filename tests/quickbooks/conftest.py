"""Test doubles for the QuickBooks client tests: a fake of Intuit's COM request processor.

``FakeRequestProcessor`` behaves like the documented ``QBXMLRP2.RequestProcessor``: OpenConnection2 fails when
QuickBooks is not installed/reachable, BeginSession fails when no company file is open and none is named (or a
different one is open), ProcessRequest needs the ticket BeginSession returned and hands the qbXML to the
simulator, and EndSession/CloseConnection release the session. Errors are raised like pywin32's com_error,
with the HRESULTs the SDK documents.
"""

from __future__ import annotations

import uuid

import pytest
from lxml import etree

from qbsf.sim.quickbooks import QbxmlParseError


class FakeComError(Exception):
    """Shaped like pywintypes.com_error: (hresult, text)."""

    def __init__(self, hresult: int, text: str) -> None:
        super().__init__(hresult, text)
        self.hresult = hresult
        self.text = text


class FakeRequestProcessor:
    """QBXMLRP2.RequestProcessor over a QuickBooksSimulator, with QuickBooks' state as switches."""

    def __init__(self, sim, *, qb_running: bool = True, open_company: str | None = r"C:\Data\Company.QBW",
                 fail_begin_times: int = 0) -> None:
        self.sim = sim
        self.qb_running = qb_running
        self.open_company = open_company
        self.fail_begin_times = fail_begin_times
        self.calls: list[str] = []
        self.connected = False
        self.tickets: set[str] = set()

    def OpenConnection2(self, app_id: str, app_name: str, conn_type: int) -> None:
        self.calls.append(f"OpenConnection2({app_name!r}, {conn_type})")
        if not app_name:
            raise FakeComError(-2147220472, "The application name is missing.")
        if self.connected:
            raise FakeComError(-2147220458, "A connection is already open.")
        self.connected = True

    def BeginSession(self, company_file: str, open_mode: int) -> str:
        self.calls.append(f"BeginSession({company_file!r}, {open_mode})")
        if not self.connected:
            raise FakeComError(-2147220475, "OpenConnection2 has not been called.")
        if self.fail_begin_times > 0:
            self.fail_begin_times -= 1
            raise FakeComError(-2147220470, "Could not start QuickBooks.")
        if not self.qb_running or self.open_company is None:
            if not company_file:
                raise FakeComError(-2147220458, "If the QuickBooks company data file is not open, a call to the "
                                                "BeginSession method must include the name of the data file.")
            raise FakeComError(-2147220470, "Could not start QuickBooks.")
        if company_file and company_file.lower() != self.open_company.lower():
            raise FakeComError(-2147220457, "The QuickBooks company data file is already open and it is "
                                            "different from the one requested.")
        ticket = "{" + str(uuid.uuid4()).upper() + "}"
        self.tickets.add(ticket)
        return ticket

    def ProcessRequest(self, ticket: str, request_xml: str) -> str:
        self.calls.append("ProcessRequest")
        if ticket not in self.tickets:
            raise FakeComError(-2147220474, "The ticket parameter is invalid.")
        if not self.qb_running:
            raise FakeComError(-2147220470, "QuickBooks is no longer running.")
        try:
            return self.sim.process(request_xml)
        except QbxmlParseError as exc:
            raise FakeComError(-2147220480, str(exc)) from None

    def EndSession(self, ticket: str) -> None:
        self.calls.append("EndSession")
        if ticket not in self.tickets:
            raise FakeComError(-2147220474, "The ticket parameter is invalid.")
        self.tickets.discard(ticket)

    def CloseConnection(self) -> None:
        self.calls.append("CloseConnection")
        self.connected = False


@pytest.fixture
def fake_com(qb_sim):
    """A FakeRequestProcessor over the test's simulator, QuickBooks open with C:\\Data\\Company.QBW."""
    return FakeRequestProcessor(qb_sim)


XS = "{http://www.w3.org/2001/XMLSchema}"


class Xsd:
    """Just enough of an XSD reader to flatten a sequence (groups, choices, nested sequences) to element names."""

    def __init__(self, folder) -> None:
        self.elements: dict[str, etree._Element] = {}
        self.groups: dict[str, etree._Element] = {}
        self.types: dict[str, etree._Element] = {}
        for path in folder.glob("*.xsd"):
            for node in etree.parse(str(path)).getroot():
                name = node.get("name")
                if node.tag == XS + "element":
                    self.elements[name] = node
                elif node.tag == XS + "group":
                    self.groups[name] = node
                elif node.tag in (XS + "complexType", XS + "simpleType"):
                    self.types[name] = node

    def complex_type(self, name: str) -> etree._Element:
        if name.endswith("Rq"):
            return self.types[name + "Type"]
        element = self.elements[name]
        inline = element.find(XS + "complexType")
        return inline if inline is not None else self.types[element.get("type")]

    def children(self, node: etree._Element) -> list[etree._Element]:
        out: list[etree._Element] = []
        for child in node:
            if child.tag == XS + "element":
                out.append(child)
            elif child.tag == XS + "group":
                out += self.children(self.groups[child.get("ref")])
            elif child.tag in (XS + "sequence", XS + "choice", XS + "complexType"):
                out += self.children(child)
        return out

    def order(self, name: str) -> tuple[str, ...]:
        return tuple(c.get("name") or c.get("ref") for c in self.children(self.complex_type(name)))

    def max_length(self, parent: str, child: str) -> int | None:
        for node in self.children(self.complex_type(parent)):
            if (node.get("name") or node.get("ref")) == child:
                target = node if node.get("name") else self.elements[node.get("ref")]
                facet = target.find(f".//{XS}maxLength")
                if facet is None and target.get("type") in self.types:
                    facet = self.types[target.get("type")].find(f".//{XS}maxLength")
                return int(facet.get("value")) if facet is not None else None
        raise AssertionError(f"{parent} has no {child}")


_XSDS: dict[str, Xsd] = {}


@pytest.fixture
def qbxml_xsd(require_qbxml_schemas) -> dict[str, Xsd]:
    """Intuit's 13.0 and 16.0 schemas, read once per run: ``qbxml_xsd["16.0"].order("InvoiceAdd")``."""
    if not _XSDS:
        _XSDS.update({version: Xsd(require_qbxml_schemas.root / version) for version in ("13.0", "16.0")})
    return _XSDS
