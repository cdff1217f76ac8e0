"""SOAP 1.1 and 1.2 envelopes for the Web Connector's eight document/literal operations.

The Web Connector only ever sends one operation element in the body, whose
children are simple strings (and two ints). This module turns such an envelope
into a :class:`SoapCall`, and a Python result back into the envelope QBWC
expects — ``<opResponse><opResult>…</opResult></opResponse>`` in Intuit's
namespace — or into a SOAP fault of the request's SOAP version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lxml import etree

from qbsf.errors import QbsfError, XmlError
from qbsf.xmlsafe import parse_xml

QBWC_NS = "http://developer.intuit.com/"
SOAP11_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_NS = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_CONTENT_TYPE = "text/xml; charset=utf-8"
SOAP12_CONTENT_TYPE = "application/soap+xml; charset=utf-8"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

#: The operations of Intuit's QBWebConnectorSvc WSDL with their request parts, in WSDL order.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "serverVersion": (),
    "clientVersion": ("strVersion",),
    "authenticate": ("strUserName", "strPassword"),
    "connectionError": ("ticket", "hresult", "message"),
    "sendRequestXML": ("ticket", "strHCPResponse", "strCompanyFileName", "qbXMLCountry", "qbXMLMajorVers",
                       "qbXMLMinorVers"),
    "receiveResponseXML": ("ticket", "response", "hresult", "message"),
    "getLastError": ("ticket",),
    "closeConnection": ("ticket",),
}


class SoapFault(QbsfError):
    """A request the endpoint answers with a SOAP fault; ``client`` says whose fault it is."""

    def __init__(self, message: str, *, client: bool = True, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.client = client


@dataclass(frozen=True)
class SoapCall:
    """One decoded Web Connector call: the operation, its parts by name, and the SOAP version it came in."""

    operation: str
    params: dict[str, str] = field(default_factory=dict)
    soap_version: str = "1.1"

    def get(self, name: str, default: str = "") -> str:
        """The part ``name`` as text (``default`` when the client left it out)."""
        return self.params.get(name, default)


def _localname(element: etree._Element) -> str:
    return etree.QName(element).localname


def _namespace(element: etree._Element) -> str | None:
    return etree.QName(element).namespace


def _text(element: etree._Element) -> str:
    # A part holds text only; itertext also keeps a qbXML payload a client sent as CDATA or split text.
    return "".join(element.itertext())


def parse_call(body: bytes | str) -> SoapCall:
    """Decode a SOAP 1.1 or 1.2 envelope carrying one Web Connector operation.

    Raises :class:`SoapFault` (client's fault) for anything else: not XML, a DOCTYPE or entity
    declaration, not an envelope, no body, an unknown operation or a wrong namespace.
    """
    try:
        root = parse_xml(body, source="SOAP request")
    except XmlError as exc:
        raise SoapFault(str(exc.message), hint=exc.hint) from None
    if _localname(root) != "Envelope" or _namespace(root) not in (SOAP11_NS, SOAP12_NS):
        raise SoapFault(f"SOAP request's root element is {root.tag!r}, not a SOAP 1.1 or 1.2 Envelope",
                        hint="post a SOAP envelope in the http://schemas.xmlsoap.org/soap/envelope/ namespace")
    envelope_ns = _namespace(root)
    version = "1.1" if envelope_ns == SOAP11_NS else "1.2"
    bodies = [child for child in root if isinstance(child.tag, str) and child.tag == f"{{{envelope_ns}}}Body"]
    if len(bodies) != 1:
        raise SoapFault(f"SOAP {version} envelope has {len(bodies)} Body elements, expected exactly one")
    calls = [child for child in bodies[0] if isinstance(child.tag, str)]
    if len(calls) != 1:
        raise SoapFault(f"SOAP Body holds {len(calls)} elements, expected exactly one operation")
    call = calls[0]
    operation = _localname(call)
    if _namespace(call) != QBWC_NS:
        raise SoapFault(f"operation {operation!r} is in namespace {_namespace(call)!r}",
                        hint=f"Web Connector operations live in {QBWC_NS}")
    if operation not in OPERATIONS:
        raise SoapFault(f"unknown Web Connector operation {operation!r}",
                        hint="the operations are " + ", ".join(OPERATIONS))
    params: dict[str, str] = {}
    for part in call:
        if not isinstance(part.tag, str):
            continue
        name = _localname(part)
        # Parts are qualified per the WSDL (elementFormDefault="qualified"); unqualified ones are tolerated.
        if _namespace(part) not in (QBWC_NS, None):
            raise SoapFault(f"part {name!r} of {operation} is in namespace {_namespace(part)!r}")
        if part.get(f"{{{_XSI_NS}}}nil") in ("true", "1"):
            continue
        params[name] = _text(part)
    return SoapCall(operation=operation, params=params, soap_version=version)


def _envelope(version: str) -> tuple[etree._Element, etree._Element, str]:
    ns = SOAP11_NS if version == "1.1" else SOAP12_NS
    envelope = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    body = etree.SubElement(envelope, f"{{{ns}}}Body")
    return envelope, body, ns


def _serialize(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def build_response(operation: str, result: str | int | Sequence[str], *, soap_version: str = "1.1") -> bytes:
    """Serialize ``result`` as ``<operationResponse><operationResult>`` (a string array as ``<string>`` items)."""
    if isinstance(result, bool):
        raise TypeError("the Web Connector WSDL has no boolean results")
    envelope, body, _ = _envelope(soap_version)
    response = etree.SubElement(body, f"{{{QBWC_NS}}}{operation}Response", nsmap={None: QBWC_NS})
    result_element = etree.SubElement(response, f"{{{QBWC_NS}}}{operation}Result")
    if isinstance(result, str):
        result_element.text = result
    elif isinstance(result, int):
        result_element.text = str(result)
    else:
        for item in result:
            etree.SubElement(result_element, f"{{{QBWC_NS}}}string").text = item
    return _serialize(envelope)


def build_fault(message: str, *, client: bool = True, soap_version: str = "1.1") -> bytes:
    """Serialize a SOAP fault of ``soap_version``: Client/Sender when the request was wrong, else Server/Receiver."""
    envelope, body, ns = _envelope(soap_version)
    fault = etree.SubElement(body, f"{{{ns}}}Fault")
    if soap_version == "1.1":
        etree.SubElement(fault, "faultcode").text = "soap:Client" if client else "soap:Server"
        etree.SubElement(fault, "faultstring").text = message
    else:
        code = etree.SubElement(fault, f"{{{ns}}}Code")
        etree.SubElement(code, f"{{{ns}}}Value").text = "soap:Sender" if client else "soap:Receiver"
        reason = etree.SubElement(fault, f"{{{ns}}}Reason")
        text = etree.SubElement(reason, f"{{{ns}}}Text")
        text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        text.text = message
    return _serialize(envelope)


def content_type(soap_version: str) -> str:
    """The HTTP Content-Type of a message in ``soap_version``."""
    return SOAP11_CONTENT_TYPE if soap_version == "1.1" else SOAP12_CONTENT_TYPE


def version_from_content_type(header: str | None) -> str:
    """Guess the SOAP version from a request's Content-Type (``application/soap+xml`` is 1.2)."""
    return "1.2" if header and "application/soap+xml" in header.lower() else "1.1"
