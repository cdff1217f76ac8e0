"""SOAP envelopes: decoding calls, encoding results and faults, refusing what QBWC never sends."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from qbsf.quickbooks.webconnector import soap

ENV11 = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}</s:Body></s:Envelope>'
ENV12 = '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>{}</e:Body></e:Envelope>'


def test_decodes_a_soap11_call_with_escaped_qbxml_inside() -> None:
    body = ENV11.format('<receiveResponseXML xmlns="http://developer.intuit.com/"><ticket>T1</ticket>'
                        '<response>&lt;?xml version="1.0"?&gt;&lt;QBXML&gt;&amp;amp;&lt;/QBXML&gt;</response>'
                        '<hresult/><message></message></receiveResponseXML>')
    call = soap.parse_call(body)
    assert call.operation == "receiveResponseXML"
    assert call.soap_version == "1.1"
    assert call.get("ticket") == "T1"
    assert call.get("response") == '<?xml version="1.0"?><QBXML>&amp;</QBXML>'
    assert call.get("hresult") == ""


def test_decodes_soap12_and_cdata_payloads() -> None:
    body = ENV12.format('<i:sendRequestXML xmlns:i="http://developer.intuit.com/"><i:ticket>T2</i:ticket>'
                        '<i:strHCPResponse><![CDATA[<QBXML/>]]></i:strHCPResponse>'
                        '<i:qbXMLMajorVers>16</i:qbXMLMajorVers></i:sendRequestXML>')
    call = soap.parse_call(body)
    assert (call.operation, call.soap_version) == ("sendRequestXML", "1.2")
    assert call.get("strHCPResponse") == "<QBXML/>"
    assert call.get("qbXMLMajorVers") == "16"


@pytest.mark.parametrize("body, fragment", [
    ("not xml at all", "not well-formed"),
    ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', "DOCTYPE"),
    ("<Envelope/>", "not a SOAP 1.1 or 1.2 Envelope"),
    ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>', "0 Body"),
    (ENV11.format(""), "0 elements"),
    (ENV11.format('<serverVersion xmlns="urn:other"/>'), "namespace"),
    (ENV11.format('<dropTables xmlns="http://developer.intuit.com/"/>'), "unknown Web Connector operation"),
    (ENV11.format('<a xmlns="http://developer.intuit.com/"/><b xmlns="http://developer.intuit.com/"/>'), "2 elements"),
])
def test_refuses_what_the_web_connector_never_sends(body: str, fragment: str) -> None:
    with pytest.raises(soap.SoapFault) as caught:
        soap.parse_call(body)
    assert fragment in str(caught.value)
    assert caught.value.client


def test_external_entities_are_never_fetched(tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    body = (f'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file://{secret}">]>'
            + ENV11.format('<clientVersion xmlns="http://developer.intuit.com/"><strVersion>&x;</strVersion>'
                           '</clientVersion>'))
    with pytest.raises(soap.SoapFault) as caught:
        soap.parse_call(body)
    assert "TOP-SECRET" not in str(caught.value)


def test_builds_results_in_intuits_namespace() -> None:
    root = etree.fromstring(soap.build_response("authenticate", ["tick<et>", "none"]))
    result = root.find(".//{http://developer.intuit.com/}authenticateResult")
    assert [s.text for s in result] == ["tick<et>", "none"]
    assert root.find(".//{http://developer.intuit.com/}authenticateResponse") is not None
    as_int = etree.fromstring(soap.build_response("receiveResponseXML", -1, soap_version="1.2"))
    assert as_int.tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope"
    assert as_int.findtext(".//{http://developer.intuit.com/}receiveResponseXMLResult") == "-1"
    with pytest.raises(TypeError):
        soap.build_response("clientVersion", True)


def test_faults_follow_each_soap_version() -> None:
    f11 = etree.fromstring(soap.build_fault("bad & wrong"))
    assert f11.findtext(".//faultcode") == "soap:Client"
    assert f11.findtext(".//faultstring") == "bad & wrong"
    f12 = etree.fromstring(soap.build_fault("oops", client=False, soap_version="1.2"))
    ns = "{http://www.w3.org/2003/05/soap-envelope}"
    assert f12.findtext(f".//{ns}Code/{ns}Value") == "soap:Receiver"
    assert f12.findtext(f".//{ns}Reason/{ns}Text") == "oops"


def test_content_types() -> None:
    assert soap.version_from_content_type('application/soap+xml; charset=utf-8; action="x"') == "1.2"
    assert soap.version_from_content_type("text/xml") == "1.1"
    assert soap.version_from_content_type(None) == "1.1"
    assert soap.content_type("1.2").startswith("application/soap+xml")


_XML_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters="\r"), max_size=200)


@settings(max_examples=60, deadline=None)
@given(payload=_XML_TEXT, ticket=_XML_TEXT)
def test_any_text_survives_the_envelope_both_ways(payload: str, ticket: str) -> None:
    # What we answer, a client reads back unchanged…
    root = etree.fromstring(soap.build_response("sendRequestXML", payload, soap_version="1.2"))
    assert (root.findtext(".//{http://developer.intuit.com/}sendRequestXMLResult") or "") == payload
    # …and what a client sends in a part, we read back unchanged.
    envelope = etree.Element(f"{{{soap.SOAP11_NS}}}Envelope")
    body = etree.SubElement(envelope, f"{{{soap.SOAP11_NS}}}Body")
    call = etree.SubElement(body, f"{{{soap.QBWC_NS}}}receiveResponseXML")
    etree.SubElement(call, f"{{{soap.QBWC_NS}}}ticket").text = ticket
    etree.SubElement(call, f"{{{soap.QBWC_NS}}}response").text = payload
    parsed = soap.parse_call(etree.tostring(envelope, xml_declaration=True, encoding="utf-8"))
    assert parsed.get("response") == payload and parsed.get("ticket") == ticket
