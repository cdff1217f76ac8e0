"""The WSDL qbsf serves is equivalent, for a client, to Intuit's QBWebConnectorSvc.wsdl."""

from __future__ import annotations

import httpx
from lxml import etree

from qbsf.quickbooks.webconnector.wsdl import wsdl_document

W = "{http://schemas.xmlsoap.org/wsdl/}"
S = "{http://www.w3.org/2001/XMLSchema}"


def _contract(document: bytes) -> dict:
    """What a client depends on: elements (parts, types, bounds), messages, operations, actions, bindings."""
    root = etree.fromstring(document)
    schema = root.find(f"{W}types/{S}schema")
    elements = {}
    for element in schema.findall(f"{S}element"):
        parts = [(p.get("name"), p.get("type"), p.get("minOccurs"), p.get("maxOccurs"))
                 for p in element.iter(f"{S}element") if p is not element]
        elements[element.get("name")] = parts
    types = {t.get("name"): [(e.get("name"), e.get("type"), e.get("maxOccurs"), e.get("nillable"))
                             for e in t.iter(f"{S}element")] for t in schema.findall(f"{S}complexType")}
    messages = {m.get("name"): [(p.get("name"), p.get("element")) for p in m.findall(f"{W}part")]
                for m in root.findall(f"{W}message")}
    operations = [(o.get("name"), o.find(f"{W}input").get("message"), o.find(f"{W}output").get("message"))
                  for o in root.find(f"{W}portType").findall(f"{W}operation")]
    bindings = []
    for binding in root.findall(f"{W}binding"):
        transport = binding[0]
        actions = sorted((o.get("name"), o[0].get("soapAction"), o[0].get("style"),
                          o.find(f"{W}input")[0].get("use"), o.find(f"{W}output")[0].get("use"))
                         for o in binding.findall(f"{W}operation"))
        bindings.append((etree.QName(transport).namespace, transport.get("transport"), actions))
    return {"targetNamespace": root.get("targetNamespace"), "schemaNamespace": schema.get("targetNamespace"),
            "elementFormDefault": schema.get("elementFormDefault"), "elements": elements, "types": types,
            "messages": messages, "operations": sorted(operations), "bindings": sorted(bindings)}


def test_served_wsdl_matches_intuits_contract(intuit_wsdl_path) -> None:
    ours = _contract(wsdl_document("https://qbsf.example.com/qbwc"))
    theirs = _contract(intuit_wsdl_path.read_bytes())
    assert ours == theirs
    assert len(ours["operations"]) == 8


def test_wsdl_is_served_with_the_real_address(endpoint) -> None:
    reply = httpx.get(endpoint.url + "?wsdl")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/xml")
    root = etree.fromstring(reply.content)
    locations = {a.get("location") for a in root.iter("{*}address")}
    assert locations == {endpoint.url}
    page = httpx.get(endpoint.url)
    assert page.status_code == 200 and "qbsf" in page.text


def test_zeep_builds_a_client_from_the_served_wsdl(endpoint) -> None:
    import zeep

    client = zeep.Client(endpoint.url + "?wsdl")
    assert client.service.serverVersion().startswith("qbsf")
    assert client.service.clientVersion("2.3.0.217") is None  # "" comes back as an empty (absent) string
    assert client.service.closeConnection("no-such-ticket") == "OK"


def test_behind_a_reverse_proxy_the_wsdl_names_the_public_https_address(endpoint, service) -> None:
    proxied = httpx.get(endpoint.url + "?wsdl", headers={"X-Forwarded-Proto": "https",
                                                         "Host": "qbsf.example.com"})
    locations = {a.get("location") for a in etree.fromstring(proxied.content).iter("{*}address")}
    assert locations == {"https://qbsf.example.com/qbwc"}


def test_public_url_pins_the_address(service) -> None:
    from qbsf.quickbooks.webconnector import create_app
    from qbsf.quickbooks.webconnector.server import BackgroundServer

    with BackgroundServer(create_app(service, public_url="https://sync.example.org/qbwc")) as server:
        body = httpx.get(server.url + "?WSDL").content
    assert {a.get("location") for a in etree.fromstring(body).iter("{*}address")} == {"https://sync.example.org/qbwc"}
