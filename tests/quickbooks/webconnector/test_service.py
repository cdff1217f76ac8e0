"""The eight operations' documented answers, called in-process (no HTTP)."""

from __future__ import annotations

import logging

import pytest

from qbsf.errors import Retriable
from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
from qbsf.quickbooks.webconnector import WebConnectorService
from qbsf.quickbooks.webconnector.service import NO_OP, UNKNOWN_TICKET, closing_request, parse_version
from qbsf.quickbooks.webconnector.soap import SoapCall, SoapFault

ACME = ("acme-qbwc", "acme-password-1")


def _transport(service: WebConnectorService, company: str = "acme") -> WebConnectorTransport:
    return WebConnectorTransport(service.bridge(company), session_wait=5, response_timeout=5)


def _open(service: WebConnectorService) -> str:
    ticket, status = service.authenticate(*ACME)
    assert status == "", status
    return ticket


@pytest.mark.parametrize("version, answer", [
    ("2.3.0.217", ""), ("2.2.0.71", ""), ("", ""),
    ("2.1.0.30", "W:"), ("2.0.1.6", "E:"), ("1.5", "E:"),
])
def test_client_version_warns_or_refuses_old_web_connectors(service, version, answer) -> None:
    result = service.client_version(version)
    assert result.startswith(answer) if answer else result == ""
    assert parse_version("2.3.0.217") == (2, 3, 0, 217) and parse_version("x.2") == (0, 2)


def test_authenticate_answers_nvu_none_then_a_fresh_ticket_bound_to_the_company(service, caplog) -> None:
    caplog.set_level(logging.INFO)
    bad = service.authenticate("acme-qbwc", "acme-password-X")
    assert bad[1] == "nvu" and service.sessions() == []
    assert service.authenticate(*ACME)[1] == "none", "no work queued: QBWC must not get an empty request"
    service.bridge("acme").want_session()
    first = _open(service)
    assert len(first) >= 40 and service.sessions()[0].company == "acme"
    assert "acme-password" not in caplog.text and first not in caplog.text
    # A second Web Connector for the same company while the first runs hears "busy".
    assert service.authenticate(*ACME)[1] == "busy"
    service.close_connection(first)
    service.bridge("acme").want_session()
    assert _open(service) != first


def test_company_file_path_is_returned_when_the_profile_names_one(users) -> None:
    service = WebConnectorService(users, poll_wait=0.05)
    service.add_company("acme", company_file=r"C:\Data\Acme.QBW").want_session()
    assert service.authenticate(*ACME)[1] == r"C:\Data\Acme.QBW"


def test_no_op_while_the_engine_prepares_then_a_closing_read_when_it_finishes(service, messages) -> None:
    bridge = service.bridge("acme")
    bridge.want_session()
    ticket = _open(service)
    assert service.send_request_xml(ticket, "", "", "US", 13, 0) == ""
    assert service.get_last_error(ticket) == NO_OP
    bridge.finish()
    closing = service.send_request_xml(ticket, "", "", "US", 13, 0)
    assert "<HostQueryRq" in closing and '<?qbxml version="13.0"?>' in closing
    assert service.receive_response_xml(ticket, "<QBXML/>", "", "") == 100
    assert "0 message(s)" in service.close_connection(ticket)
    assert bridge.status().last_session.outcome == "completed"


def test_the_closing_read_is_valid_qbxml(require_qbxml_schemas) -> None:
    for version in ("13.0", "16.0"):
        require_qbxml_schemas.validate(closing_request(version), "request")


def test_quickbooks_errors_reach_the_engine_as_retriable_and_get_last_error_explains(service, engine,
                                                                                    messages) -> None:
    eng = engine(_transport(service), [messages.customer_add("Ada")])
    ticket = _open(service)
    assert "<CustomerAddRq" in service.send_request_xml(ticket, "", "", "US", 16, 0)
    assert service.receive_response_xml(ticket, "", "0x80040400", "QuickBooks found an error parsing XML") == -1
    eng.join()
    assert isinstance(eng.error, Retriable)
    error = service.get_last_error(ticket)
    assert "0x80040400" in error and "parsing XML" in error
    assert service.close_connection(ticket).startswith("qbsf: QuickBooks could not process")


def test_an_empty_response_without_hresult_is_an_error_not_an_answer(service, engine, messages) -> None:
    eng = engine(_transport(service), [messages.customer_add("Ada")])
    ticket = _open(service)
    service.send_request_xml(ticket, "", "", "US", 16, 0)
    assert service.receive_response_xml(ticket, "   ", "", "") == -1
    eng.join()
    assert isinstance(eng.error, Retriable) and eng.responses == []


def test_connection_error_ends_the_session_with_done(service, engine, messages) -> None:
    eng = engine(_transport(service), [messages.customer_add("Ada")])
    ticket = _open(service)
    service.send_request_xml(ticket, "", "", "US", 16, 0)
    assert service.connection_error(ticket, "0x80040408", "Could not start QuickBooks.") == "done"
    eng.join()
    assert "could not reach QuickBooks" in str(eng.error)
    assert service.send_request_xml(ticket, "", "", "US", 16, 0) == ""
    assert "Could not start QuickBooks" in service.get_last_error(ticket)
    assert service.connection_error("unknown", "", "") == "done"


@pytest.mark.parametrize("op, args, answer", [
    ("send_request_xml", ("", "", "US", 16, 0), ""),
    ("receive_response_xml", ("<QBXML/>", "", ""), -1),
    ("get_last_error", (), UNKNOWN_TICKET),
    ("close_connection", (), "OK"),
])
def test_unknown_tickets_get_the_documented_error_answers(service, op, args, answer) -> None:
    assert getattr(service, op)("forged-ticket", *args) == answer


def test_tickets_expire_and_cut_the_session_off(users, engine, messages) -> None:
    now = [0.0]
    service = WebConnectorService(users, poll_wait=0.05, ticket_ttl=60, clock=lambda: now[0])
    eng = engine(_transport(service), [messages.customer_add("Ada")])
    ticket = _open(service)
    service.send_request_xml(ticket, "", "", "US", 16, 0)
    now[0] = 61
    assert service.dispatch(SoapCall("getLastError", {"ticket": ticket})) == UNKNOWN_TICKET
    eng.join()
    assert "no call from the Web Connector" in str(eng.error)


def test_asking_again_before_answering_cuts_the_session_off(service, engine, messages) -> None:
    eng = engine(_transport(service), [messages.customer_add("Ada"), messages.customer_add("Bob")])
    ticket = _open(service)
    service.send_request_xml(ticket, "", "", "US", 16, 0)
    assert service.send_request_xml(ticket, "", "", "US", 16, 0) == ""
    assert "before answering the previous one" in service.get_last_error(ticket)
    eng.join()
    assert isinstance(eng.error, Retriable)


def test_dispatch_checks_integer_parts(service) -> None:
    with pytest.raises(SoapFault, match="qbXMLMajorVers must be an integer"):
        service.dispatch(SoapCall("sendRequestXML", {"ticket": "t", "qbXMLMajorVers": "sixteen"}))
    assert service.dispatch(SoapCall("serverVersion")).startswith("qbsf")
    assert service.dispatch(SoapCall("clientVersion", {"strVersion": "1.0"})).startswith("E:")


def test_the_engine_learns_the_version_from_the_call_when_hcp_is_missing(service, engine, messages) -> None:
    transport = _transport(service)
    eng = engine(transport, [messages.customer_add("Ada", version="13.0")])
    ticket = _open(service)
    service.send_request_xml(ticket, "", r"C:\QB\Acme.QBW", "CA", 13, 0)
    assert transport.qbxml_version == "13.0" and service.bridge("acme").country == "CA"
    assert transport.host_info is None
    service.receive_response_xml(ticket, "<QBXML/>", "", "")
    eng.join()


def test_a_new_login_replaces_a_session_whose_web_connector_went_silent(users, engine, messages) -> None:
    now = [0.0]
    service = WebConnectorService(users, poll_wait=0.05, stale_after=120, clock=lambda: now[0])
    eng = engine(_transport(service), [messages.customer_add("Ada")])
    old = _open(service)
    assert "<CustomerAddRq" in service.send_request_xml(old, "", "", "US", 16, 0)
    now[0] = 60
    assert service.authenticate(*ACME)[1] == "busy", "still talking a minute ago: a second session must wait"
    now[0] = 200
    service.bridge("acme").want_session()
    new = _open(service)
    eng.join()
    assert "went silent" in str(eng.error) and isinstance(eng.error, Retriable)
    assert new != old and service.get_last_error(old) == UNKNOWN_TICKET
