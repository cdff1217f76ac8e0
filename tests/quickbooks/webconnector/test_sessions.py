"""Whole Web Connector sessions over real HTTP, played by clients we did not write (zeep, qbwc-kit) and our stand-in.

An engine thread calls ``WebConnectorTransport.send`` as the sync engine does; the Web Connector side
answers every request with the QuickBooks simulator; every qbXML message is checked against Intuit's schema.
"""

from __future__ import annotations

import httpx
import pytest
from qbwc_kit.testing import FakeWebConnector

from qbsf.errors import Retriable
from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
from qbsf.sim.webconnector import WebConnectorStandIn

NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra"]


def _transport(service, company="acme", **kw):
    return WebConnectorTransport(service.bridge(company), session_wait=kw.get("session_wait", 10.0),
                                 response_timeout=kw.get("response_timeout", 10.0))


@pytest.mark.parametrize("soap12", [False, True], ids=["soap11", "soap12"])
def test_zeep_plays_a_whole_session_that_syncs_customers(service, zeep_connector, quickbooks, checked_quickbooks,
                                                         validating, engine, messages, soap12) -> None:
    transport = validating(_transport(service))
    adds = [messages.customer_add(name, i) for i, name in enumerate(NAMES, 1)]
    eng = engine(transport, [*adds, messages.customer_query(99, max_returned=10)])
    hcp = checked_quickbooks.send('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq '
                                  'onError="continueOnError"><HostQueryRq/><CompanyQueryRq/><PreferencesQueryRq/>'
                                  "</QBXMLMsgsRq></QBXML>")
    log = zeep_connector(soap12=soap12).run_session("acme-qbwc", "acme-password-1", checked_quickbooks.send, hcp=hcp)
    eng.join()
    assert eng.error is None
    assert log["status"] in ("", None) and log["client"] in ("", None)  # zeep reads an empty string as None
    assert len(log["requests"]) == len(NAMES) + 1
    assert log["percents"][-1] == 100 and all(0 < p < 100 for p in log["percents"][:-1])
    assert log["errors"] == [] and "5 message(s)" in log["close"]
    assert sorted(c["Name"] for c in quickbooks.customers()) == sorted(NAMES)
    assert all(name in eng.responses[-1] for name in NAMES)
    # What QuickBooks said about itself reached the engine's side.
    assert transport.host_info.supports("16.0") and transport.qbxml_version == "16.0"
    assert transport.company_settings.company_name == "Acme Supplies"
    assert transport.status().last_session.outcome == "completed"


def test_a_second_session_resumes_what_a_cut_off_one_left(service, zeep_connector, quickbooks, checked_quickbooks,
                                                          engine, messages) -> None:
    transport = _transport(service)
    adds = [messages.customer_add(name, i) for i, name in enumerate(NAMES, 1)]
    first = engine(transport, adds)
    wc = zeep_connector()
    cut = wc.run_session("acme-qbwc", "acme-password-1", checked_quickbooks.send, cut_off_after=2)
    first.join()
    # The second request was taken but QuickBooks never ran it: the engine sees a Retriable, nothing half-done.
    assert cut["connectionError"] == "done"
    assert isinstance(first.error, Retriable) and len(first.responses) == 1
    assert "could not reach QuickBooks" in cut["close"]
    assert [c["Name"] for c in quickbooks.customers()] == NAMES[:1]
    assert transport.status().last_session.outcome.startswith("cut off")
    # The journal resumes from the first unconfirmed message, in a new session.
    second = engine(transport, adds[len(first.responses):])
    log = wc.run_session("acme-qbwc", "acme-password-1", checked_quickbooks.send)
    second.join()
    assert second.error is None and log["percents"][-1] == 100
    assert sorted(c["Name"] for c in quickbooks.customers()) == sorted(NAMES)
    assert log["ticket"] != cut["ticket"]


def test_closing_mid_way_and_vanishing_leave_nothing_half_done(service, endpoint, quickbooks, engine,
                                                               messages) -> None:
    transport = _transport(service, response_timeout=1.0)
    with WebConnectorStandIn(endpoint.url, "acme-qbwc", "acme-password-1", quickbooks) as wc:
        eng = engine(transport, [messages.customer_add("Ada"), messages.customer_add("Bob")])
        closed = wc.run_session(cut_off_after=1, cut_off="closeConnection")
        eng.join()
        assert isinstance(eng.error, Retriable) and "closed the connection" in closed.close_message
        eng = engine(transport, [messages.customer_add("Cy")])
        vanished = wc.run_session(cut_off_after=1, cut_off="vanish")
        eng.join()
        assert vanished.close_message == "" and "no answer from the Web Connector" in str(eng.error)
        # Its ticket is dead: the Web Connector would be told so, and a new session starts cleanly.
        assert wc.call("sendRequestXML", ("ticket", vanished.ticket), ("qbXMLMajorVers", "16"),
                       ("qbXMLMinorVers", "0")) == ""
        assert "no answer from the Web Connector" in wc.call("getLastError", ("ticket", vanished.ticket))
        eng = engine(transport, [messages.customer_add("Dee")])
        assert wc.run_session().completed
        eng.join()
    assert [c["Name"] for c in quickbooks.customers()] == ["Dee"]


def test_stand_in_sessions_with_noop_waits_and_no_work(service, endpoint, quickbooks, engine, messages) -> None:
    transport = _transport(service)
    import threading

    noop_heard = threading.Event()

    class Listening(WebConnectorStandIn):
        """The stand-in, noting when the endpoint told it NoOp."""

        def call(self, operation, *parts):
            result = super().call(operation, *parts)
            if operation == "getLastError" and result == "NoOp":
                noop_heard.set()
            return result

    with Listening(endpoint.url, "acme-qbwc", "acme-password-1", quickbooks, soap_version="1.2") as wc:
        assert wc.run_session().auth_status == "none", "no work: the Web Connector is told so, no empty request"
        transport.want_session()
        # The engine prepares its first message slowly (e.g. Salesforce is being read): QBWC hears NoOp meanwhile.
        first = [messages.customer_add("Ada")]
        slow = threading.Thread(target=lambda: noop_heard.wait(10) and engine(transport, first))
        slow.start()
        t = wc.run_session()
        slow.join()
        assert t.noops >= 1 and t.completed and t.last_errors == []
        assert t.server_version.startswith("qbsf")
    assert [c["Name"] for c in quickbooks.customers()] == ["Ada"]


def test_qbwc_kit_fake_web_connector_drives_the_endpoint(service, endpoint, quickbooks, engine, messages) -> None:
    def post(body: str) -> str:
        return httpx.post(endpoint.url, content=body.encode("utf-8"),
                          headers={"Content-Type": "text/xml; charset=utf-8"}).text

    transport = _transport(service, company="globex")
    eng = engine(transport, [messages.customer_add("Globex One", version="13.0"),
                             messages.customer_add("Globex Two", version="13.0")])
    fake = FakeWebConnector(transport=post, username="globex-qbwc", password="globex-password-2",
                            qbxml_version=(13, 0))
    result = fake.run_update(quickbooks.process)
    eng.join()
    assert result.authenticated and not result.failed
    assert result.round_trips == 2 and result.progress[-1] == 100
    assert sorted(c["Name"] for c in quickbooks.customers()) == ["Globex One", "Globex Two"]
    assert FakeWebConnector(transport=post, username="globex-qbwc", password="nope").run_update().last_error == "nvu"
    assert FakeWebConnector(transport=post, username="globex-qbwc",
                            password="globex-password-2").run_update().last_error == "none"


def test_a_ticket_of_one_company_never_reaches_another(service, endpoint, quickbooks, engine, messages) -> None:
    acme, globex = _transport(service, "acme"), _transport(service, "globex")
    acme_engine = engine(acme, [messages.customer_add("Acme Secret")])
    globex_engine = engine(globex, [messages.customer_add("Globex Secret")])
    with WebConnectorStandIn(endpoint.url, "globex-qbwc", "globex-password-2", quickbooks) as wc:
        auth = wc.call("authenticate", ("strUserName", "globex-qbwc"), ("strPassword", "globex-password-2"))
        ticket = auth[0]
        request = wc.call("sendRequestXML", ("ticket", ticket), ("qbXMLMajorVers", "16"), ("qbXMLMinorVers", "0"))
        assert "Globex Secret" in request and "Acme" not in request
        # A guessed ticket reaches nobody's work.
        guessed = ticket[:-4] + "AAAA"
        assert wc.call("sendRequestXML", ("ticket", guessed), ("qbXMLMajorVers", "16"), ("qbXMLMinorVers", "0")) == ""
        assert wc.call("receiveResponseXML", ("ticket", guessed), ("response", "<QBXML/>"), ("hresult", ""),
                       ("message", "")) == -1
        assert "unknown or has expired" in wc.call("getLastError", ("ticket", guessed))
        # Globex's ticket answers with a forged response: only Globex's engine may receive it.
        assert wc.call("receiveResponseXML", ("ticket", ticket), ("response", "<QBXML>forged</QBXML>"),
                       ("hresult", ""), ("message", "")) == 100
        wc.call("closeConnection", ("ticket", ticket))
    globex_engine.join()
    assert globex_engine.responses == ["<QBXML>forged</QBXML>"]
    assert acme_engine.responses == [] and service.bridge("acme").status().queued_requests == 1
    # Acme's work is still waiting for Acme's own Web Connector, and is delivered to Acme only.
    with WebConnectorStandIn(endpoint.url, "acme-qbwc", "acme-password-1", quickbooks) as wc:
        assert wc.run_session().completed
    acme_engine.join()
    assert "Acme Secret" in acme_engine.responses[0]


def test_two_companies_syncing_at_the_same_time_never_see_each_others_messages(service, endpoint, engine,
                                                                                messages) -> None:
    import threading

    from qbsf.sim.quickbooks import QuickBooksSimulator

    books = {"acme": QuickBooksSimulator(company_name="Acme"), "globex": QuickBooksSimulator(company_name="Globex")}
    logins = {"acme": ("acme-qbwc", "acme-password-1"), "globex": ("globex-qbwc", "globex-password-2")}
    engines = {company: engine(_transport(service, company),
                               [messages.customer_add(f"{company} customer {i}", i) for i in range(12)])
               for company in books}
    transcripts: dict = {}

    def play(company: str) -> None:
        with WebConnectorStandIn(endpoint.url, *logins[company], books[company]) as wc:
            transcripts[company] = wc.run_session()

    players = [threading.Thread(target=play, args=(company,)) for company in books]
    for player in players:
        player.start()
    for player in players:
        player.join(30)
    for company, book in books.items():
        engines[company].join()
        assert engines[company].error is None
        assert transcripts[company].completed
        names = {c["Name"] for c in book.customers()}
        assert names == {f"{company} customer {i}" for i in range(12)}, f"{company} got another's messages"
        assert all(company in request for request in transcripts[company].requests if "CustomerAdd" in request)
        book.close()


def test_zeep_built_from_the_served_wsdl_runs_a_whole_session(service, endpoint, zeep_connector, quickbooks,
                                                              engine, messages) -> None:
    eng = engine(_transport(service), [messages.customer_add("From Our WSDL")])
    log = zeep_connector(wsdl=endpoint.url + "?wsdl").run_session("acme-qbwc", "acme-password-1",
                                                                  quickbooks.process)
    eng.join()
    assert eng.error is None and log["percents"][-1] == 100
    assert [c["Name"] for c in quickbooks.customers()] == ["From Our WSDL"]
