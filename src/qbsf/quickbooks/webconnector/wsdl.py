"""The WSDL qbsf serves at ``/qbwc?wsdl``: the Web Connector contract, written out for the real address.

Equivalent for clients to Intuit's ``QBWebConnectorSvc.wsdl``: the same
namespace, element names, part types and occurrence bounds, message names,
operations and SOAP actions, with a SOAP 1.1 and a SOAP 1.2 binding.
"""

from __future__ import annotations

from lxml import etree

from qbsf.quickbooks.webconnector.soap import QBWC_NS

_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_XSD = "http://www.w3.org/2001/XMLSchema"
_SOAP11_BINDING = "http://schemas.xmlsoap.org/wsdl/soap/"
_SOAP12_BINDING = "http://schemas.xmlsoap.org/wsdl/soap12/"
_HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"

SERVICE_NAME = "QBWebConnectorSvc"

# (operation, request parts, response type); a part is (name, xsd type, required). Order is Intuit's.
_OPERATIONS: tuple[tuple[str, tuple[tuple[str, str, bool], ...], str], ...] = (
    ("serverVersion", (), "s:string"),
    ("clientVersion", (("strVersion", "s:string", False),), "s:string"),
    ("authenticate", (("strUserName", "s:string", False), ("strPassword", "s:string", False)), "tns:ArrayOfString"),
    ("connectionError", (("ticket", "s:string", False), ("hresult", "s:string", False),
                         ("message", "s:string", False)), "s:string"),
    ("sendRequestXML", (("ticket", "s:string", False), ("strHCPResponse", "s:string", False),
                        ("strCompanyFileName", "s:string", False), ("qbXMLCountry", "s:string", False),
                        ("qbXMLMajorVers", "s:int", True), ("qbXMLMinorVers", "s:int", True)), "s:string"),
    ("receiveResponseXML", (("ticket", "s:string", False), ("response", "s:string", False),
                            ("hresult", "s:string", False), ("message", "s:string", False)), "s:int"),
    ("getLastError", (("ticket", "s:string", False),), "s:string"),
    ("closeConnection", (("ticket", "s:string", False),), "s:string"),
)


def _w(tag: str) -> str:
    return f"{{{_WSDL}}}{tag}"


def _s(tag: str) -> str:
    return f"{{{_XSD}}}{tag}"


def _element(parent: etree._Element, name: str, xsd_type: str, required: bool) -> None:
    etree.SubElement(parent, _s("element"), minOccurs="1" if required else "0", maxOccurs="1",
                     name=name, type=xsd_type)


def _schema(types: etree._Element) -> None:
    schema = etree.SubElement(types, _s("schema"), elementFormDefault="qualified", targetNamespace=QBWC_NS)
    for operation, parts, result_type in _OPERATIONS:
        request = etree.SubElement(schema, _s("element"), name=operation)
        complex_type = etree.SubElement(request, _s("complexType"))
        if parts:
            sequence = etree.SubElement(complex_type, _s("sequence"))
            for name, xsd_type, required in parts:
                _element(sequence, name, xsd_type, required)
        response = etree.SubElement(schema, _s("element"), name=f"{operation}Response")
        sequence = etree.SubElement(etree.SubElement(response, _s("complexType")), _s("sequence"))
        # receiveResponseXML's int result is required, as in Intuit's contract; the strings are optional.
        _element(sequence, f"{operation}Result", result_type, result_type == "s:int")
        if operation == "authenticate":
            array = etree.SubElement(schema, _s("complexType"), name="ArrayOfString")
            etree.SubElement(etree.SubElement(array, _s("sequence")), _s("element"), minOccurs="0",
                             maxOccurs="unbounded", name="string", nillable="true", type="s:string")


def _binding(root: etree._Element, name: str, binding_ns: str) -> None:
    binding = etree.SubElement(root, _w("binding"), name=name, type=f"tns:{SERVICE_NAME}Soap")
    etree.SubElement(binding, f"{{{binding_ns}}}binding", transport=_HTTP_TRANSPORT)
    for operation, _parts, _result in _OPERATIONS:
        op = etree.SubElement(binding, _w("operation"), name=operation)
        etree.SubElement(op, f"{{{binding_ns}}}operation", soapAction=f"{QBWC_NS}{operation}", style="document")
        for direction in ("input", "output"):
            etree.SubElement(etree.SubElement(op, _w(direction)), f"{{{binding_ns}}}body", use="literal")


def wsdl_document(address: str) -> bytes:
    """The Web Connector service description with both ports at ``address`` (the endpoint's public URL)."""
    root = etree.Element(_w("definitions"), targetNamespace=QBWC_NS, nsmap={
        "wsdl": _WSDL, "s": _XSD, "tns": QBWC_NS, "soap": _SOAP11_BINDING, "soap12": _SOAP12_BINDING})
    etree.SubElement(root, _w("documentation")).text = "qbsf: QuickBooks Web Connector service"
    _schema(etree.SubElement(root, _w("types")))
    for operation, _parts, _result in _OPERATIONS:
        for suffix, element in (("SoapIn", operation), ("SoapOut", f"{operation}Response")):
            message = etree.SubElement(root, _w("message"), name=f"{operation}{suffix}")
            etree.SubElement(message, _w("part"), name="parameters", element=f"tns:{element}")
    port_type = etree.SubElement(root, _w("portType"), name=f"{SERVICE_NAME}Soap")
    for operation, _parts, _result in _OPERATIONS:
        op = etree.SubElement(port_type, _w("operation"), name=operation)
        etree.SubElement(op, _w("input"), message=f"tns:{operation}SoapIn")
        etree.SubElement(op, _w("output"), message=f"tns:{operation}SoapOut")
    _binding(root, f"{SERVICE_NAME}Soap", _SOAP11_BINDING)
    _binding(root, f"{SERVICE_NAME}Soap12", _SOAP12_BINDING)
    service = etree.SubElement(root, _w("service"), name=SERVICE_NAME)
    for port, binding_ns in ((f"{SERVICE_NAME}Soap", _SOAP11_BINDING), (f"{SERVICE_NAME}Soap12", _SOAP12_BINDING)):
        port_element = etree.SubElement(service, _w("port"), name=port, binding=f"tns:{port}")
        etree.SubElement(port_element, f"{{{binding_ns}}}address", location=address)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
