"""Bad input over HTTP: every case gets a SOAP fault or the documented answer, and the endpoint keeps serving."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

ENV = ('<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>{}</soap:Body>'
       "</soap:Envelope>")
XML11 = {"Content-Type": "text/xml; charset=utf-8"}
XML12 = {"Content-Type": "application/soap+xml; charset=utf-8"}


def _faultstring(reply: httpx.Response) -> str:
    root = etree.fromstring(reply.content)
    return " ".join(root.find(".//{*}Fault").itertext())


@pytest.mark.parametrize("body, fragment", [
    (b"<<<this is not xml", "not well-formed"),
    (b"", "not well-formed"),
    (ENV.format("<serverVersion/>").encode(), "namespace"),
    (ENV.format('<launchMissiles xmlns="http://developer.intuit.com/"/>').encode(), "unknown"),
    (ENV.format('<sendRequestXML xmlns="http://developer.intuit.com/"><ticket>t</ticket>'
                "<qbXMLMajorVers>x</qbXMLMajorVers></sendRequestXML>").encode(), "must be an integer"),
])
def test_malformed_soap_gets_a_soap11_fault(endpoint, body: bytes, fragment: str) -> None:
    reply = httpx.post(endpoint.url, content=body, headers=XML11)
    assert reply.status_code == 500 and reply.headers["content-type"].startswith("text/xml")
    assert fragment in _faultstring(reply)


def test_soap12_faults_are_soap12_with_status_400(endpoint) -> None:
    reply = httpx.post(endpoint.url, content=b"<nope", headers=XML12)
    assert reply.status_code == 400 and reply.headers["content-type"].startswith("application/soap+xml")
    assert etree.fromstring(reply.content).tag == "{http://www.w3.org/2003/05/soap-envelope}Envelope"
    assert "soap:Sender" in _faultstring(reply)


def test_entity_declarations_are_refused_without_expansion_or_fetch(endpoint, tmp_path) -> None:
    (tmp_path / "passwd").write_text("root:SECRET")
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
              f'<!ENTITY file SYSTEM "file://{tmp_path / "passwd"}">]>'
              + ENV.format('<clientVersion xmlns="http://developer.intuit.com/"><strVersion>&lol2;&file;'
                           "</strVersion></clientVersion>"))
    reply = httpx.post(endpoint.url, content=laughs.encode(), headers=XML11)
    assert reply.status_code == 500
    text = _faultstring(reply)
    assert "DOCTYPE" in text and "SECRET" not in reply.text and "lollol" not in reply.text


def test_oversized_bodies_get_413_with_a_fault(endpoint) -> None:
    big = ENV.format('<receiveResponseXML xmlns="http://developer.intuit.com/"><response>'
                     + "x" * (600 * 1024) + "</response></receiveResponseXML>").encode()
    reply = httpx.post(endpoint.url, content=big, headers=XML11)
    assert reply.status_code == 413 and "exceeds" in _faultstring(reply)

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(40):
            yield b"y" * 32 * 1024

    streamed = httpx.post(endpoint.url, content=chunks(), headers=XML11)
    assert streamed.status_code == 413


def test_unknown_tickets_over_http_get_documented_answers_and_the_endpoint_keeps_serving(endpoint) -> None:
    def call(op: str, inner: str) -> str:
        body = ENV.format(f'<{op} xmlns="http://developer.intuit.com/">{inner}</{op}>').encode()
        reply = httpx.post(endpoint.url, content=body, headers=XML11)
        assert reply.status_code == 200
        return etree.fromstring(reply.content).findtext(f".//{{http://developer.intuit.com/}}{op}Result") or ""

    assert call("sendRequestXML", "<ticket>nope</ticket><qbXMLMajorVers>16</qbXMLMajorVers>"
                                  "<qbXMLMinorVers>0</qbXMLMinorVers>") == ""
    assert call("receiveResponseXML", "<ticket>nope</ticket><response>&lt;QBXML/&gt;</response>") == "-1"
    assert "unknown or has expired" in call("getLastError", "<ticket>nope</ticket>")
    assert call("connectionError", "<ticket>nope</ticket>") == "done"
    assert call("serverVersion", "").startswith("qbsf")


def test_an_unexpected_failure_becomes_a_server_fault(endpoint, service, monkeypatch) -> None:
    def explode(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service, "server_version", explode)
    reply = httpx.post(endpoint.url, content=ENV.format('<serverVersion xmlns="http://developer.intuit.com/"/>')
                       .encode(), headers=XML11)
    assert reply.status_code == 500
    text = _faultstring(reply)
    assert "soap:Server" in text and "disk on fire" not in text
