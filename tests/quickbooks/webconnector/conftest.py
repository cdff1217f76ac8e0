"""Fixtures for the Web Connector tests: users, a service with short waits, a live endpoint, a QuickBooks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from qbsf.quickbooks.webconnector import UserDirectory, WebConnectorService, create_app
from qbsf.quickbooks.webconnector.server import BackgroundServer
from qbsf.sim.quickbooks import QuickBooksSimulator

REPO_ROOT = Path(__file__).resolve().parents[3]
PASSWORDS = {"acme-qbwc": "acme-password-1", "globex-qbwc": "globex-password-2"}
COMPANIES = {"acme-qbwc": "acme", "globex-qbwc": "globex"}


def intuit_wsdl() -> Path | None:
    """Intuit's QBWebConnectorSvc.wsdl, found the way tests/conftest.py finds the qbXML schemas."""
    configured = os.environ.get("QBXML_SCHEMA_DIR")
    root = Path(configured) if configured else REPO_ROOT.parent / "shared" / "qbxml"
    candidate = root / "webconnector" / "QBWebConnectorSvc.wsdl"
    return candidate if candidate.is_file() else None


@pytest.fixture(scope="session")
def user_hashes() -> dict[str, str]:
    """Password hashes made once per session, at a low scrypt cost: every login verifies one, and the production
    cost is deliberately slow (the stored hash carries its cost, so the checking code is the same)."""
    from qbsf.quickbooks.webconnector.users import hash_password

    return {name: hash_password(password, cost=2**10) for name, password in PASSWORDS.items()}


@pytest.fixture
def users(user_hashes: dict[str, str]) -> UserDirectory:
    """Two Web Connector users, one per company (acme, globex)."""
    directory = UserDirectory()
    for name, password_hash in user_hashes.items():
        directory.add_hashed(name, password_hash, COMPANIES[name])
    return directory


@pytest.fixture
def service(users: UserDirectory) -> WebConnectorService:
    """The service with waits short enough for tests."""
    svc = WebConnectorService(users, poll_wait=0.3, idle_timeout=30.0)
    svc.add_company("acme")
    svc.add_company("globex")
    return svc


@pytest.fixture
def endpoint(service: WebConnectorService) -> Iterator[BackgroundServer]:
    """The endpoint served over real HTTP on a free 127.0.0.1 port, stopped at teardown."""
    with BackgroundServer(create_app(service, max_body_bytes=512 * 1024)) as server:
        yield server


@pytest.fixture
def quickbooks() -> QuickBooksSimulator:
    """An in-memory QuickBooks company."""
    return QuickBooksSimulator(company_name="Acme Supplies")


def customer_add(name: str, request_id: int = 1, version: str = "16.0") -> str:
    """A CustomerAdd message, as the engine would send it."""
    return (f'<?xml version="1.0" encoding="utf-8"?><?qbxml version="{version}"?><QBXML>'
            f'<QBXMLMsgsRq onError="stopOnError"><CustomerAddRq requestID="{request_id}"><CustomerAdd>'
            f"<Name>{name}</Name></CustomerAdd></CustomerAddRq></QBXMLMsgsRq></QBXML>")


def customer_query(request_id: int = 1, version: str = "16.0", *, iterator: str | None = None,
                   iterator_id: str | None = None, max_returned: int = 2) -> str:
    """A CustomerQuery message, optionally an iterator Start/Continue."""
    attrs = f' iterator="{iterator}"' if iterator else ""
    attrs += f' iteratorID="{iterator_id}"' if iterator_id else ""
    return (f'<?xml version="1.0" encoding="utf-8"?><?qbxml version="{version}"?><QBXML>'
            f'<QBXMLMsgsRq onError="stopOnError"><CustomerQueryRq requestID="{request_id}"{attrs}>'
            f"<MaxReturned>{max_returned}</MaxReturned></CustomerQueryRq></QBXMLMsgsRq></QBXML>")


class EngineThread:
    """A sync-engine stand-in on its own thread: sends messages through a transport, then finishes.

    It records each response or the error that ended it — what the real engine would see.
    """

    def __init__(self, transport, messages, *, finish: bool = True) -> None:
        import threading

        self.transport = transport
        self.messages = list(messages)
        self.finish = finish
        self.responses: list[str] = []
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            for message in self.messages:
                self.responses.append(self.transport.send(message))
        except Exception as exc:  # the test inspects what the engine would have caught
            self.error = exc
        finally:
            if self.finish:
                self.transport.finish()

    def start(self) -> EngineThread:
        # The runtime announces work before its cycle, so a poll racing the thread's first send opens a session.
        self.transport.want_session()
        self._thread.start()
        return self

    def join(self, timeout: float = 20.0) -> EngineThread:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "engine thread still blocked"
        return self


@pytest.fixture
def messages():
    """Builders for the qbXML messages tests send: ``messages.customer_add``, ``messages.customer_query``."""
    import types

    return types.SimpleNamespace(customer_add=customer_add, customer_query=customer_query)


@pytest.fixture
def engine():
    """Factory: ``engine(transport, messages, finish=True)`` starts an :class:`EngineThread`."""
    started: list[EngineThread] = []

    def start(transport, msgs, *, finish: bool = True) -> EngineThread:
        thread = EngineThread(transport, msgs, finish=finish).start()
        started.append(thread)
        return thread

    yield start
    for thread in started:
        thread._thread.join(5)


@pytest.fixture(scope="session")
def intuit_wsdl_path(tmp_path_factory) -> Path:
    """Intuit's WSDL when present; otherwise qbsf's own, so the tests still run against a WSDL file."""
    found = intuit_wsdl()
    if found is not None:
        return found
    from qbsf.quickbooks.webconnector.wsdl import wsdl_document

    own = tmp_path_factory.mktemp("wsdl") / "QBWebConnectorSvc.wsdl"
    own.write_bytes(wsdl_document("http://127.0.0.1/qbwc"))
    return own


class ZeepWebConnector:
    """The Web Connector played by zeep, a SOAP client we did not write, built from Intuit's WSDL file."""

    def __init__(self, wsdl_path: Path | str, url: str, *, soap12: bool = False) -> None:
        import zeep

        self.client = zeep.Client(str(wsdl_path))
        wanted = "Soap12Binding" if soap12 else "Soap11Binding"
        binding = next(name for name, b in self.client.wsdl.bindings.items() if type(b).__name__ == wanted)
        self.service = self.client.create_service(binding, url)
        self.binding = binding

    def run_session(self, username: str, password: str, answer, *, cut_off_after: int | None = None,
                    hcp: str = "", max_noops: int = 500) -> dict:
        """clientVersion → authenticate → sendRequestXML/receiveResponseXML … → closeConnection."""
        import time

        svc = self.service
        log: dict = {"requests": [], "percents": [], "errors": [], "noops": 0}
        log["server"] = svc.serverVersion()
        log["client"] = svc.clientVersion("2.3.0.217")
        auth = list(svc.authenticate(username, password))
        log["ticket"], log["status"] = auth[0], auth[1]
        if auth[1] in ("nvu", "none", "busy"):
            return log
        noops = 0
        while True:
            request = svc.sendRequestXML(log["ticket"], hcp, r"C:\QB\Acme.QBW", "US", 16, 0)
            hcp = ""
            if not request:
                error = svc.getLastError(log["ticket"])
                if error == "NoOp" and noops < max_noops:
                    noops += 1
                    log["noops"] += 1
                    time.sleep(0.02)
                    continue
                log["errors"].append(error)
                break
            log["requests"].append(request)
            if cut_off_after is not None and len(log["requests"]) >= cut_off_after:
                log["connectionError"] = svc.connectionError(log["ticket"], "0x80040408", "QuickBooks closed")
                break
            percent = svc.receiveResponseXML(log["ticket"], answer(request), "", "")
            log["percents"].append(percent)
            if percent < 0:
                log["errors"].append(svc.getLastError(log["ticket"]))
                break
            if percent >= 100:
                break
        log["close"] = svc.closeConnection(log["ticket"])
        return log


@pytest.fixture
def zeep_connector(intuit_wsdl_path, endpoint):
    """Factory: ``zeep_connector(soap12=False, wsdl=None)`` — zeep from Intuit's WSDL (or ``wsdl``) at the endpoint."""
    def make(soap12: bool = False, wsdl: str | Path | None = None) -> ZeepWebConnector:
        return ZeepWebConnector(wsdl or intuit_wsdl_path, endpoint.url, soap12=soap12)

    return make


@pytest.fixture
def checked_quickbooks(quickbooks, validating):
    """The simulator behind a schema check: every qbXML request and response crossing it is validated."""
    from qbsf.quickbooks.transports.simulator import SimulatorTransport

    return validating(SimulatorTransport(quickbooks))
