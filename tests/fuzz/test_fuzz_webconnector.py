"""Fuzz the Web Connector SOAP endpoint: any body, any operation sequence with hostile parts (tickets, HCP
responses, qbXML answers, HRESULTs) → a SOAP answer or a SOAP fault, never an unhandled error, never a hang.

A sync engine keeps sending messages through the company's bridge the whole time, so real sessions open and the
fuzzed answers reach the code that hands QuickBooks' responses back to the engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from qbsf.errors import QbsfError
from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
from qbsf.quickbooks.webconnector import UserDirectory, WebConnectorService, create_app
from qbsf.quickbooks.webconnector.soap import OPERATIONS, QBWC_NS, SOAP11_NS, SOAP12_NS
from qbsf.quickbooks.webconnector.users import LoginThrottle, hash_password
from qbsf.sim.quickbooks import QuickBooksSimulator

PASSWORD = "acme-password-1"
CUSTOMER_ADD = ('<?xml version="1.0" encoding="utf-8"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq '
                'onError="stopOnError"><CustomerAddRq requestID="1"><CustomerAdd><Name>Fuzz</Name></CustomerAdd>'
                "</CustomerAddRq></QBXMLMsgsRq></QBXML>")
GOOD_RESPONSE = QuickBooksSimulator(company_name="Fuzz Co").process(CUSTOMER_ADD)


class Failures(logging.Handler):
    """Collects the endpoint's 'operation failed' errors: each one is an exception the service did not handle."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[TestClient, Failures, list[BaseException]]]:
    # No throttle to speak of: the fuzzer logs in thousands of times from one address.
    users = UserDirectory(LoginThrottle(free_failures=10**9, address_free_failures=10**9))
    users.add_hashed("acme-qbwc", hash_password(PASSWORD, cost=2**4), "acme")
    service = WebConnectorService(users, poll_wait=0.01, idle_timeout=2.0, quiet_timeout=1.0, stale_after=0.0)
    service.add_company("acme")
    transport = WebConnectorTransport(service.bridge("acme"), session_wait=0.5, response_timeout=0.5)
    stop, unexpected = threading.Event(), []

    def engine() -> None:
        while not stop.is_set():
            transport.want_session()
            try:
                transport.send(CUSTOMER_ADD)
            except QbsfError:
                pass  # timeouts, cut-off sessions, refused answers: what the engine is built to handle
            except Exception as exc:  # anything else is a bug the fuzzer found
                unexpected.append(exc)
            finally:
                transport.finish()

    worker = threading.Thread(target=engine, daemon=True)
    worker.start()
    failures = Failures()
    logging.getLogger("qbsf.quickbooks.webconnector").addHandler(failures)
    client = TestClient(create_app(service, max_body_bytes=64 * 1024), raise_server_exceptions=True)
    try:
        yield client, failures, unexpected
    finally:
        stop.set()
        service.bridge("acme").cancel_waiting("fuzzing over")
        worker.join(5)
        logging.getLogger("qbsf.quickbooks.webconnector").removeHandler(failures)
        client.close()


xml_text = st.text(max_size=60).map(lambda text: "".join(
    ch for ch in text if ch in "\t\n\r" or " " <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd"))
qbxml_answers = st.sampled_from([GOOD_RESPONSE, GOOD_RESPONSE[:80], GOOD_RESPONSE.replace("statusCode=\"0\"",
                                                                                          "statusCode=\"3100\""),
                                 "<QBXML/>", "not xml", "", "<!DOCTYPE x [<!ENTITY e 'x'>]><QBXML>&e;</QBXML>",
                                 '<?xml version="1.0"?><QBXML><QBXMLMsgsRs><CustomerAddRs requestID="999" '
                                 'statusCode="0"/></QBXMLMsgsRs></QBXML>']) | xml_text
hcp = st.sampled_from(["", "<QBXML><QBXMLMsgsRs><HostQueryRs statusCode=\"0\"><HostRet><SupportedQBXMLVersion>"
                           "16.0</SupportedQBXMLVersion></HostRet></HostQueryRs></QBXMLMsgsRs></QBXML>",
                       "<bad", "<QBXML/>"]) | xml_text
part_values = {
    "strUserName": st.sampled_from(["acme-qbwc", "ACME-QBWC ", "nobody", ""]) | xml_text,
    "strPassword": st.sampled_from([PASSWORD, "wrong", ""]) | xml_text,
    "strVersion": st.sampled_from(["2.3.0.217", "1.0", "", "99.99.99.99", "x.y"]) | xml_text,
    "strHCPResponse": hcp,
    "response": qbxml_answers,
    "hresult": st.sampled_from(["", "0x80040400", "junk"]) | xml_text,
    "qbXMLMajorVers": st.sampled_from(["16", "", "-1", "x", "99999999999999999999"]) | xml_text,
    "qbXMLMinorVers": st.sampled_from(["0", "", "x"]) | xml_text,
}


@st.composite
def call(draw: st.DrawFn) -> tuple[str, list[tuple[str, str | None]]]:
    operation = draw(st.sampled_from([*OPERATIONS, "authenticate", "authenticate", "sendRequestXML",
                                      "receiveResponseXML", "bogusOperation"]))
    parts: list[tuple[str, str | None]] = []
    for name in OPERATIONS.get(operation, ("ticket",)):
        if draw(st.integers(0, 9)) == 0:
            continue  # a part left out
        if name == "ticket":
            parts.append((name, None))  # filled in with the session's ticket or a made-up one
        else:
            parts.append((name, draw(part_values.get(name, xml_text))))
    return operation, parts


def envelope(operation: str, parts: list[tuple[str, str]], soap: str) -> bytes:
    ns = SOAP11_NS if soap == "1.1" else SOAP12_NS
    root = etree.Element(f"{{{ns}}}Envelope", nsmap={"soap": ns})
    body = etree.SubElement(root, f"{{{ns}}}Body")
    op = etree.SubElement(body, f"{{{QBWC_NS}}}{operation}", nsmap={None: QBWC_NS})
    for name, value in parts:
        etree.SubElement(op, f"{{{QBWC_NS}}}{name}").text = value
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def post(client: TestClient, body: bytes, soap: str) -> str:
    content_type = "text/xml; charset=utf-8" if soap == "1.1" else "application/soap+xml; charset=utf-8"
    reply = client.post("/qbwc", content=body, headers={"Content-Type": content_type})
    assert reply.status_code in (200, 400, 413, 500), reply.status_code
    root = etree.fromstring(reply.content)  # always a SOAP document
    assert etree.QName(root).localname == "Envelope"
    return reply.text


def ticket_of(answer: str) -> str | None:
    root = etree.fromstring(answer.encode())
    strings = root.findall(f".//{{{QBWC_NS}}}string")
    return strings[0].text if len(strings) >= 2 and strings[1].text not in ("nvu", "none", "busy") else None


@settings(settings.get_profile("qbsf-fuzz-http"))
@given(calls=st.lists(call(), min_size=1, max_size=6), soap=st.sampled_from(["1.1", "1.2"]),
       made_up=st.sampled_from(["", "x" * 300, "../../etc", "\u202e"]) | xml_text)
def test_operation_sequences_get_soap_answers(stack, calls, soap: str, made_up: str, fuzz_case) -> None:
    client, failures, unexpected = stack
    ticket: str | None = None
    with fuzz_case("Web Connector SOAP endpoint: operation sequences").case():
        for operation, parts in calls:
            filled = [(name, (ticket or made_up) if value is None else value) for name, value in parts]
            answer = post(client, envelope(operation, filled, soap), soap)
            if operation == "authenticate" and "<soap:Fault" not in answer and "Fault>" not in answer:
                ticket = ticket_of(answer) or ticket
    assert not failures.records, [record.getMessage() for record in failures.records]
    assert not unexpected, unexpected


raw_bodies = (st.binary(max_size=3000)
              | st.sampled_from([b"", b"<", b"<Envelope/>", b"<?xml version='1.0'?><!DOCTYPE x SYSTEM "
                                 b"'http://example.com/x.dtd'><x/>", b"<a>" * 1000,
                                 b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                                 b"<soap:Body/></soap:Envelope>", b"x" * 70_000]))


@settings(settings.get_profile("qbsf-fuzz-http"))
@given(body=raw_bodies, soap=st.sampled_from(["1.1", "1.2"]))
def test_any_body_gets_a_soap_answer(stack, body: bytes, soap: str, fuzz_case) -> None:
    client, failures, unexpected = stack
    with fuzz_case("Web Connector SOAP endpoint: raw bodies").case():
        post(client, body, soap)
    assert not failures.records, [record.getMessage() for record in failures.records]
    assert not unexpected, unexpected


def test_the_fuzzed_stack_opens_real_sessions(stack) -> None:
    # the sequences above only reach the session code if a right password opens a session with work in it
    client, failures, unexpected = stack
    for _ in range(50):
        answer = post(client, envelope("authenticate", [("strUserName", "acme-qbwc"), ("strPassword", PASSWORD)],
                                       "1.1"), "1.1")
        ticket = ticket_of(answer)
        if ticket is None:
            continue
        request = post(client, envelope("sendRequestXML", [("ticket", ticket), ("strHCPResponse", ""),
                                                           ("strCompanyFileName", ""), ("qbXMLCountry", "US"),
                                                           ("qbXMLMajorVers", "16"), ("qbXMLMinorVers", "0")],
                                        "1.1"), "1.1")
        if "CustomerAddRq" in request:
            post(client, envelope("closeConnection", [("ticket", ticket)], "1.1"), "1.1")
            break
        post(client, envelope("closeConnection", [("ticket", ticket)], "1.1"), "1.1")
    else:
        raise AssertionError("no Web Connector session carried the engine's request")
    assert not failures.records and not unexpected
