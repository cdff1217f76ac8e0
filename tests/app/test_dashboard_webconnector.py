"""The dashboard's Web Connector panel, fed by a real WebConnectorService that the stand-in drives through sessions."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from qbsf.app.commands.qbwc import attach_dashboard, build_service, endpoint_url
from qbsf.app.context import AppContext
from qbsf.app.dashboard import Dashboard, create_app
from qbsf.app.logging import configure_logging, reset_logging
from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
from qbsf.quickbooks.webconnector import WebConnectorService
from qbsf.quickbooks.webconnector import create_app as create_endpoint
from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sim.webconnector import WebConnectorStandIn

ENDPOINT = "http://127.0.0.1:8090/qbwc"


def customer_add(name: str, request_id: int) -> str:
    """A CustomerAdd message, as the sync engine would send it."""
    return (f'<?xml version="1.0" encoding="utf-8"?><?qbxml version="16.0"?><QBXML>'
            f'<QBXMLMsgsRq onError="stopOnError"><CustomerAddRq requestID="{request_id}"><CustomerAdd>'
            f"<Name>{name}</Name></CustomerAdd></CustomerAddRq></QBXMLMsgsRq></QBXML>")


class Engine(threading.Thread):
    """Plays the sync engine's side: announce a cycle, send the messages, finish (as WebConnectorServices does)."""

    def __init__(self, transport: WebConnectorTransport, messages: list[str]) -> None:
        super().__init__(daemon=True)
        self.transport, self.messages = transport, messages
        self.error: Exception | None = None
        self.start()

    def run(self) -> None:
        self.transport.want_session()
        try:
            for message in self.messages:
                self.transport.send(message)
        except Exception as exc:  # the test looks at what the engine saw
            self.error = exc
        finally:
            self.transport.finish()


class RefusingQuickBooks:
    """A QuickBooks that refuses every message the way QBWC reports it (an HRESULT and its text)."""

    def process(self, request_xml: str) -> str:
        if "HostQueryRq" in request_xml:
            return QuickBooksSimulator(company_name="Acme Supplies").process(request_xml)
        error = RuntimeError("The company file is in single-user mode")
        error.hresult = 0x80040416  # type: ignore[attr-defined]
        raise error


@pytest.fixture
def registry(tmp_path: Path) -> WebConnectorRegistry:
    reg = WebConnectorRegistry.load(tmp_path / "webconnector.json")
    reg.register("acme", password="acme-password-1", run_every_minutes=5)
    reg.register("globex", password="globex-password-2", run_every_minutes=30)
    return reg


@pytest.fixture
def service(registry: WebConnectorRegistry) -> WebConnectorService:
    return build_service(registry, poll_wait=0.3)


@pytest.fixture
def board(config_file: Path, memory_secrets, registry, service) -> Iterator[Dashboard]:
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("[sync]\npolling_interval = 3600\n")
    buffer = configure_logging(console=False)
    dash = Dashboard(app_context=AppContext(secrets=memory_secrets), log_buffer=buffer, allowed_hosts=("testserver",))
    attach_dashboard(dash, service, registry, ENDPOINT)
    yield dash
    reset_logging()


@pytest.fixture
def client(board: Dashboard, dashboard_client) -> TestClient:
    return dashboard_client(board)


@pytest.fixture
def web_connector(service) -> Iterator[Callable[..., WebConnectorStandIn]]:
    """A stand-in Web Connector for a company, calling the endpoint in process (TestClient is an httpx.Client)."""
    endpoint = TestClient(create_endpoint(service))
    made: list[WebConnectorStandIn] = []

    def make(quickbooks, username="acme-qbwc", password="acme-password-1") -> WebConnectorStandIn:
        standin = WebConnectorStandIn("http://testserver/qbwc", username, password, quickbooks, http=endpoint)
        made.append(standin)
        return standin

    yield make
    endpoint.close()


def _row(html: str, company: str) -> str:
    start = html.index(f'data-company="{company}"')
    return html[start:html.index("</tr>", start)]


def test_the_panel_follows_sessions_completed_cut_off_and_failed(client, service, web_connector) -> None:
    page = client.get("/").text
    assert 'id="webconnector"' in page and 'href="#webconnector"' in page
    assert "no session yet" in _row(page, "acme") and "no session yet" in _row(page, "globex")
    assert client.get("/api/webconnector").json()["companies"][0]["last_session"] is None

    quickbooks = QuickBooksSimulator(company_name="Acme Supplies")
    transport = WebConnectorTransport(service.bridge("acme"), session_wait=10, response_timeout=10)
    engine = Engine(transport, [customer_add("Ada Lovelace", 1), customer_add("Grace Hopper", 2)])
    done = web_connector(quickbooks).run_session()
    engine.join(10)
    assert done.completed and engine.error is None
    row = _row(client.get("/partials/webconnector").text, "acme")
    assert "#1" in row and 'wc-outcome ok">completed' in row and '<td class="wc-messages">2' in row
    assert "UTC (" in row and "in 5 min" in row, "the next poll is RunEveryNMinutes after the session started"
    assert "no session yet" in _row(client.get("/partials/webconnector").text, "globex")
    acme = client.get("/api/webconnector").json()["companies"][0]
    assert acme["company"] == "acme" and acme["last_session"]["outcome"] == "completed"
    assert acme["last_session"]["messages"] == 2 and acme["last_session"]["ended"] and acme["next_poll_expected"]

    # QuickBooks closed mid-session: cut off, with what the Web Connector said, and nothing half-done.
    engine = Engine(transport, [customer_add("Alan Turing", 3), customer_add("Edsger Dijkstra", 4)])
    cut = web_connector(quickbooks).run_session(cut_off_after=1, cut_off="connectionError")
    engine.join(10)
    assert cut.cut_off == "connectionError" and engine.error is not None
    row = _row(client.get("/").text, "acme")
    assert "#2" in row and 'wc-outcome fail">cut off' in row
    assert "could not reach QuickBooks (0x80040408): QuickBooks could not open the company file." in row
    assert '<td class="wc-messages">0' in row

    # QuickBooks refused the message: an error, in QuickBooks' own words.
    engine = Engine(transport, [customer_add("Barbara Liskov", 5)])
    failed = web_connector(RefusingQuickBooks()).run_session()
    engine.join(10)
    assert failed.failed and engine.error is not None
    row = _row(client.get("/partials/webconnector").text, "acme")
    assert "#3" in row and 'wc-outcome fail">error' in row and "single-user mode" in row
    assert sorted(c["Name"] for c in quickbooks.customers()) == ["Ada Lovelace", "Grace Hopper"]


def test_a_running_session_shows_as_running(client, service, web_connector) -> None:
    transport = WebConnectorTransport(service.bridge("globex"), session_wait=10, response_timeout=10)
    standin = web_connector(QuickBooksSimulator(), username="globex-qbwc", password="globex-password-2")
    seen: list[str] = []

    class Watching:
        """Looks at the dashboard while QuickBooks is busy with the message."""

        def process(self, request_xml: str) -> str:
            if "CustomerAddRq" in request_xml:
                seen.append(_row(client.get("/partials/webconnector").text, "globex"))
            return standin_quickbooks.process(request_xml)

    standin_quickbooks = QuickBooksSimulator()
    standin.answer = Watching().process
    engine = Engine(transport, [customer_add("Initech", 1)])
    assert standin.run_session().completed
    engine.join(10)
    assert seen and 'wc-outcome warn">running' in seen[0] and "in progress" in seen[0]
    assert 'wc-outcome ok">completed' in _row(client.get("/partials/webconnector").text, "globex")


def test_qwc_download_serves_the_registered_companies_only(client, registry) -> None:
    page = client.get("/").text
    assert 'href="/webconnector/acme.qwc"' in _row(page, "acme")
    reply = client.get("/webconnector/acme.qwc")
    assert reply.status_code == 200 and 'filename="acme.qwc"' in reply.headers["content-disposition"]
    qwc = etree.fromstring(reply.content)
    assert qwc.findtext("AppURL") == ENDPOINT and qwc.findtext("UserName") == "acme-qbwc"
    assert qwc.findtext("FileID") == registry.companies["acme"].file_id
    assert qwc.findtext("Scheduler/RunEveryNMinutes") == "5"
    assert client.get("/webconnector/initech.qwc").status_code == 404
    assert client.get("/webconnector/..%2Fsecrets.qwc").status_code == 404


def test_no_download_link_without_an_address_the_web_connector_accepts(board, service, registry, client) -> None:
    board.webconnector_qwc = None
    attach_dashboard(board, service, registry, endpoint_url("0.0.0.0", 8090, tls=True))
    assert "wc-qwc" not in client.get("/partials/webconnector").text
    attach_dashboard(board, service, registry, endpoint_url("qbsf.example.com", 8090, tls=False))
    assert "wc-qwc" not in client.get("/partials/webconnector").text, "QBWC refuses plain http to another host"
    attach_dashboard(board, service, registry, endpoint_url("qbsf.example.com", 8443, tls=True))
    assert client.get("/webconnector/acme.qwc").status_code == 200
    assert endpoint_url("0.0.0.0", 1, tls=False, public_url="https://p.example/qbwc") == "https://p.example/qbwc"


def test_a_dashboard_without_the_web_connector_has_no_panel(board, client) -> None:
    board.webconnector_statuses = None
    board.webconnector_qwc = None
    page = client.get("/").text
    assert 'id="webconnector"' not in page and "#webconnector" not in page
    assert client.get("/partials/webconnector").status_code == 404
    assert client.get("/api/webconnector").status_code == 404
    assert client.get("/webconnector/acme.qwc").status_code == 404


def test_the_panel_needs_the_token(board) -> None:
    anonymous = TestClient(create_app(board))
    assert anonymous.get("/api/webconnector").status_code == 401
    assert anonymous.get("/webconnector/acme.qwc").status_code == 401


def test_wrong_passwords_from_another_address_are_shown_and_never_stop_the_real_web_connector(
        client, service, registry, caplog) -> None:
    attacker_http = TestClient(create_endpoint(service), client=("203.0.113.9", 40000))
    attacker = WebConnectorStandIn("http://testserver/qbwc", "acme-qbwc", "guess", QuickBooksSimulator(),
                                   http=attacker_http)
    with caplog.at_level("WARNING"):
        answers = [attacker.call("authenticate", ("strUserName", "acme-qbwc"), ("strPassword", f"guess-{i}"))[1]
                   for i in range(12)]
    assert set(answers) == {"nvu"}
    assert "refused" in caplog.text and "from 203.0.113.9" in caplog.text and "guess-" not in caplog.text
    # the company's own Web Connector, from its own address, still gets in (today it was locked out for 15 min)
    real = WebConnectorStandIn("http://testserver/qbwc", "acme-qbwc", "acme-password-1", QuickBooksSimulator(),
                               http=TestClient(create_endpoint(service), client=("10.0.0.5", 50000)))
    auth = real.call("authenticate", ("strUserName", "acme-qbwc"), ("strPassword", "acme-password-1"))
    assert auth[1] != "nvu"
    panel = client.get("/partials/webconnector").text
    assert 'id="wc-throttles"' in panel and "203.0.113.9" in panel and "acme-qbwc" in panel
    row = panel[panel.index("203.0.113.9") - 300:panel.index("203.0.113.9") + 300]
    assert '<td class="wc-failures">4</td><td class="wc-refused">8</td>' in row and "<td>acme</td>" in row
    listed = client.get("/api/webconnector").json()["login_throttles"]
    pair = next(entry for entry in listed if entry["username"] == "acme-qbwc")
    # three wrong passwords are free, the fourth starts a 2 s delay; the other eight were turned away unchecked
    assert (pair["client"], pair["failures"], pair["refused"], pair["company"]) == ("203.0.113.9", 4, 8, "acme")
    attacker_http.close()
