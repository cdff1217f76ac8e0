"""`qbsf qbwc serve`'s wiring: the connector runtime cycles the sync engine through Web Connector sessions."""

from __future__ import annotations

import time
from typing import ClassVar

import pytest

from qbsf.app.commands.qbwc import WebConnectorServices, build_service, sync_transport
from qbsf.app.runtime import Connector
from qbsf.app.settings import Settings
from qbsf.bench.outbound import EXAMPLE_MAPPINGS, seed_org
from qbsf.errors import ConfigError
from qbsf.quickbooks.webconnector import create_app
from qbsf.quickbooks.webconnector.qwc import WebConnectorRegistry
from qbsf.quickbooks.webconnector.server import BackgroundServer
from qbsf.sim.webconnector import WebConnectorStandIn


@pytest.fixture
def registry(tmp_path) -> WebConnectorRegistry:
    reg = WebConnectorRegistry.load(tmp_path / "webconnector.json")
    reg.register("acme", password="acme-password-1")
    return reg


def _settings(emulator, tmp_path, name: str) -> Settings:
    return Settings(
        salesforce={"instance_url": emulator.url, "client_id": emulator.client_id,
                    "client_secret": emulator.client_secret},
        quickbooks={"transport": "webconnector", "default_accounts": {
            "income": "Sales", "cogs": "Cost of Goods Sold", "inventory_asset": "Inventory Asset"}},
        sync={"polling_interval": 1}, state_url=f"sqlite:///{tmp_path / f'{name}-state.db'}",
        mappings_dir=str(EXAMPLE_MAPPINGS))


class TwoCompanies:
    """Acme (2 Accounts) and Globex (3 Accounts): each its own Salesforce org and emulator, its own QuickBooks
    company file and Web Connector user, engines behind one Web Connector service."""

    LOGINS: ClassVar[dict[str, tuple[str, str]]] = {"acme": ("acme-qbwc", "acme-password-1"),
                                                     "globex": ("globex-qbwc", "globex-password-2")}

    def __init__(self, registry: WebConnectorRegistry, sf_schema, tmp_path) -> None:
        from qbsf.app.commands.qbwc import CompanyEngines
        from qbsf.sim.quickbooks import QuickBooksSimulator
        from qbsf.sim.salesforce import SalesforceState, start_emulator

        registry.register("globex", password="globex-password-2")
        self.registry, self.tmp_path = registry, tmp_path
        self.orgs = {name: SalesforceState(sf_schema) for name in ("acme", "globex")}
        seed_org(self.orgs["acme"], accounts=2, prefix="Acme ")
        seed_org(self.orgs["globex"], accounts=3, prefix="Globex ")
        self.emulators = {name: start_emulator(org) for name, org in self.orgs.items()}
        self.books = {name: QuickBooksSimulator(company_name=name) for name in self.orgs}
        self.service = build_service(registry, poll_wait=0.2)
        self.engines = CompanyEngines()

    def settings(self, name: str, *, state_url: str | None = None, file_of: str | None = None) -> Settings:
        """``name``'s settings: its own state file (``file_of``'s to share another's), or ``state_url``."""
        settings = _settings(self.emulators[name], self.tmp_path, file_of or name)
        if state_url is not None:
            settings.state_url = state_url
        return settings

    def add(self, name: str, settings: Settings) -> None:
        self.engines.add(name, settings, None, sync_transport(self.service, self.registry, name))

    def sync(self, timeout: float) -> None:
        """Run both companies' Web Connector sessions until each file holds its org's Accounts (at most ``timeout``
        seconds), then stop."""
        self.engines.start()
        with BackgroundServer(create_app(self.service)) as server:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not (len(self.books["acme"].customers()) == 2
                                                       and len(self.books["globex"].customers()) == 3):
                for name, book in self.books.items():
                    with WebConnectorStandIn(server.url, *self.LOGINS[name], book) as wc:
                        wc.run_session()
            self.engines.stop()

    def close(self) -> None:
        self.engines.stop()
        for emulator in self.emulators.values():
            emulator.stop()
        for book in self.books.values():
            book.close()


@pytest.fixture
def two_companies(registry, sf_schema, tmp_path):
    world = TwoCompanies(registry, sf_schema, tmp_path)
    try:
        yield world
    finally:
        world.close()


def test_the_runtime_syncs_through_scheduled_web_connector_sessions(registry, sf_emulator, sf_state, qb_sim,
                                                                    tmp_path) -> None:
    settings = _settings(sf_emulator, tmp_path, "acme")
    seed_org(sf_state, accounts=3, contacts=1, products=1, opportunities=1, lines=1)
    service = build_service(registry, poll_wait=0.2)
    services = WebConnectorServices(settings, None, sync_transport(service, registry, "acme"))
    connector = Connector(services, settings)
    with BackgroundServer(create_app(service)) as server, WebConnectorStandIn(
            server.url, "acme-qbwc", "acme-password-1", qb_sim) as wc:
        connector.start()
        sessions = []
        deadline = time.monotonic() + 120  # a generous ceiling for a loaded machine: it ends once synced
        while len(qb_sim.invoices()) < 1 and time.monotonic() < deadline:
            sessions.append(wc.run_session())
            time.sleep(0.05)
        services.stop()
        connector.stop(wait=10)
        services.close()
    assert len([c for c in qb_sim.customers() if not c.get("ParentRef")]) == 3
    assert len(qb_sim.invoices()) == 1
    assert any(s.completed and s.percents for s in sessions)
    status = connector.status()
    assert status.last_cycle is not None and status.last_cycle.synced >= 6
    assert service.statuses()[0].last_session.outcome == "completed"


def test_sync_transport_needs_a_registered_company(registry) -> None:
    service = build_service(registry)
    with pytest.raises(ConfigError, match="not registered"):
        sync_transport(service, registry, "globex")
    transport = sync_transport(service, registry, "acme")
    assert transport.session_wait == 5 * 60 + 120, "a cycle may wait one Web Connector interval for its poll"


def test_each_company_syncs_its_own_org_into_its_own_file(two_companies) -> None:
    two = two_companies
    for name in ("acme", "globex"):
        two.add(name, two.settings(name))
    with pytest.raises(ConfigError, match="share the state database"):
        two.add("globex", two.settings("globex", file_of="acme"))
    two.sync(timeout=120)
    assert sorted(c["Name"][:5] for c in two.books["acme"].customers()) == ["Acme ", "Acme "]
    assert sorted(c["Name"][:7] for c in two.books["globex"].customers()) == ["Globex "] * 3


def test_sync_options_name_registered_companies_once(registry) -> None:
    from qbsf.app.commands.qbwc import parse_sync_options

    assert parse_sync_options(None, registry, "main.toml") == {"acme": "main.toml"}
    registry.register("globex", password="globex-password-2")
    with pytest.raises(ConfigError, match="several companies"):
        parse_sync_options(None, registry, None)
    assert parse_sync_options(["acme=a.toml", "globex"], registry, "main.toml") == {
        "acme": "a.toml", "globex": "main.toml"}
    with pytest.raises(ConfigError, match="not registered"):
        parse_sync_options(["initech=i.toml"], registry, None)
    with pytest.raises(ConfigError, match="twice"):
        parse_sync_options(["acme", "acme=b.toml"], registry, None)


def test_stopping_while_waiting_for_the_first_poll_does_not_hang(registry, sf_emulator, tmp_path) -> None:
    from qbsf.app.commands.qbwc import CompanyEngines

    service = build_service(registry, poll_wait=0.2)
    engines = CompanyEngines()
    engines.add("acme", _settings(sf_emulator, tmp_path, "acme"), None, sync_transport(service, registry, "acme"))
    engines.start()
    _services, connector = engines.running["acme"]
    deadline = time.monotonic() + 60
    while service.bridge("acme").status().queued_requests == 0 and time.monotonic() < deadline:
        time.sleep(0.02)  # the CompanyQuery is waiting for a Web Connector that never comes
    started = time.monotonic()
    engines.stop(wait=60)
    # A generous ceiling for a loaded machine, far below the 7 minutes the query would wait for a poll.
    assert time.monotonic() - started < 60
    connector.join(10)
    assert connector.status().state == "stopped"


def test_companies_registered_as_tenants_share_one_state_database_and_each_ticket_reaches_its_own(
        two_companies, tmp_path) -> None:
    """Two Web Connector companies, one state database: each user's sessions carry its own company's records only,
    and the state rows each engine wrote belong to its company."""
    from qbsf.sync.tenants import TenantRegistry

    two = two_companies
    shared = f"sqlite:///{tmp_path / 'hosted-state.db'}"
    with TenantRegistry(shared) as tenants:
        tenants.add("acme")
        tenants.add("globex")
    for name in ("acme", "globex"):
        two.add(name, two.settings(name, state_url=shared))
    assert {name: services.state.tenant for name, (services, _c) in two.engines.running.items()} == {
        "acme": "acme", "globex": "globex"}
    two.sync(timeout=120)
    assert sorted(c["Name"][:5] for c in two.books["acme"].customers()) == ["Acme "] * 2
    assert sorted(c["Name"][:7] for c in two.books["globex"].customers()) == ["Globex "] * 3
    with TenantRegistry(shared) as tenants:
        assert (tenants.rows("acme")["crosswalk"], tenants.rows("globex")["crosswalk"]) == (2, 3)
        assert "crosswalk" not in tenants.rows("default")


def test_a_company_not_registered_as_a_tenant_still_cannot_share_a_database(registry, sf_emulator, tmp_path) -> None:
    from qbsf.app.commands.qbwc import CompanyEngines
    from qbsf.sync.tenants import TenantRegistry

    registry.register("globex", password="globex-password-2")
    shared = f"sqlite:///{tmp_path / 'shared.db'}"
    with TenantRegistry(shared) as tenants:
        tenants.add("globex")
    service = build_service(registry, poll_wait=0.2)
    engines = CompanyEngines()
    acme = _settings(sf_emulator, tmp_path, "acme")
    acme.state_url = shared
    engines.add("acme", acme, None, sync_transport(service, registry, "acme"))
    assert engines.running["acme"][0].state.tenant == "default", "an unregistered company keeps the default"
    globex = _settings(sf_emulator, tmp_path, "globex")
    globex.state_url = shared
    with pytest.raises(ConfigError, match="qbsf tenants add NAME"):
        engines.add("globex", globex, None, sync_transport(service, registry, "globex"))
    engines.stop()


def test_a_tenant_company_gets_its_encrypted_secrets_and_the_public_login_callback(registry, sf_emulator, tmp_path,
                                                                                   monkeypatch) -> None:
    from qbsf.app.commands.qbwc import CompanyEngines, hosted_login
    from qbsf.app.hosted import CALLBACK_PATH
    from qbsf.secret_box import KEY_ENV, new_key
    from qbsf.sync.tenant_secrets import TenantSecretStore
    from qbsf.sync.tenants import TenantRegistry

    monkeypatch.setenv(KEY_ENV, new_key())
    shared = f"sqlite:///{tmp_path / 'hosted.db'}"
    with TenantRegistry(shared) as tenants:
        tenants.add("acme")
    engines = CompanyEngines()
    settings = _settings(sf_emulator, tmp_path, "acme")
    settings.state_url = shared
    other = _settings(sf_emulator, tmp_path, "globex")
    try:
        secrets = engines.tenant_secrets("acme", settings)
        assert isinstance(secrets, TenantSecretStore) and secrets.state.tenant == "acme"
        assert engines.tenant_secrets("globex", other) is None, "not a tenant: the machine's secret store"
        assert hosted_login(engines, None) is None
        login = hosted_login(engines, "https://qbsf.example.com/qbwc")
        assert login.redirect_uri == f"https://qbsf.example.com{CALLBACK_PATH}"
    finally:
        engines.stop()
    assert engines.tenancies == {}


@pytest.mark.parametrize(("option", "shown"), [((), True), (("--log-level", "warning"), False)])
def test_serve_without_a_dashboard_logs_like_qbsf_serve(registry, qb_sim, option, shown) -> None:
    """`qbsf qbwc serve` logs on standard error as `qbsf serve`'s workers do (the same console lines, INFO by
    default, --log-level to change it), with or without --dashboard-port."""
    import re
    import signal
    import subprocess
    import sys

    registry.save()
    proc = subprocess.Popen([sys.executable, "-m", "qbsf.app.cli", "qbwc", "serve", "--no-engine", "--port", "0",
                             "--registry", str(registry.path), *option], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/qbwc)", line)
        assert match, line + (proc.stderr.read() if proc.poll() is not None else "")
        with WebConnectorStandIn(match.group(1), "acme-qbwc", "acme-password-1", qb_sim) as wc:
            assert wc.run_session().auth_status == "none"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    log = proc.stderr.read()
    assert proc.returncode == 0 and "Traceback" not in log, log
    info = re.search(r"^\d\d:\d\d:\d\d Web Connector 'acme-qbwc': no work for company 'acme' company=acme$", log,
                     re.MULTILINE)
    assert bool(info) is shown, log


def test_a_request_on_its_way_when_qbsf_stops_is_cancelled_once_it_queues(registry) -> None:
    """■ Stop cancels the requests waiting for a poll; one the engine was sending at that moment queues just after
    the cancel: it is cancelled too, never left waiting the session allowance (here 10 minutes) for a poll."""
    import threading

    from qbsf.app.commands.qbwc import StoppableTransport
    from qbsf.quickbooks.transports.webconnector import WebConnectorTransport
    from qbsf.quickbooks.webconnector.bridge import SessionCutOff

    service = build_service(registry, poll_wait=0.2)
    bridge = service.bridge("acme")
    transport = WebConnectorTransport(bridge, session_wait=600, response_timeout=600)
    on_its_way, go_on = threading.Event(), threading.Event()
    real_send = transport.send

    def slow_send(request_xml: str) -> str:  # past the stop check, not yet queued
        on_its_way.set()
        go_on.wait()
        return real_send(request_xml)

    transport.send = slow_send  # type: ignore[method-assign]
    engine_side = StoppableTransport(transport, threading.Event())
    outcome: list[BaseException | str] = []

    def cycle() -> None:
        try:
            outcome.append(engine_side.send("<QBXML/>"))
        except BaseException as exc:  # the test reads what the cycle got
            outcome.append(exc)

    thread = threading.Thread(target=cycle, daemon=True)
    thread.start()
    assert on_its_way.wait(60)
    engine_side.stop()  # nothing waits yet: the cancel finds no request
    go_on.set()  # now it queues
    thread.join(120)  # a generous ceiling under load; without the fix it waits the 10 minutes
    assert not thread.is_alive(), "the request queued after the stop is still waiting for a poll"
    (error,) = outcome
    assert isinstance(error, SessionCutOff) and "cancelled: qbsf is stopping" in str(error)
    assert bridge.status().queued_requests == 0
    # A request the engine sends once the stop began is refused at once, never queued.
    with pytest.raises(SessionCutOff, match="not sent: qbsf is stopping"):
        engine_side.send("<QBXML/>")
    assert bridge.status().queued_requests == 0


def test_an_engine_started_after_a_session_asks_quickbooks_neither_version_nor_company(registry, sf_emulator,
                                                                                       tmp_path) -> None:
    # What the first sendRequestXML of a session told (its HCPResponse) is what a HostQuery and a CompanyQuery read:
    # an engine started later (a hosted company moved to another worker) goes straight to its work.
    import threading

    from qbsf.sim.quickbooks import QuickBooksSimulator

    book = QuickBooksSimulator(company_name="Acme Plumbing")
    service = build_service(registry, poll_wait=0.2)
    sent: list[str] = []
    first = WebConnectorServices(_settings(sf_emulator, tmp_path, "acme"), None,
                                 sync_transport(service, registry, "acme"))
    connected: list[str] = []
    thread = threading.Thread(target=lambda: connected.append(first.connect_quickbooks()), daemon=True)

    def answer(xml: str) -> str:
        sent.append(xml)
        return book.process(xml)

    with BackgroundServer(create_app(service)) as server, WebConnectorStandIn(
            server.url, "acme-qbwc", "acme-password-1", answer) as wc:
        session = threading.Thread(target=wc.run_session, daemon=True)
        session.start()
        thread.start()
        thread.join(60)
        first.transport.finish()  # the engine has nothing more: the session ends (100 %)
        session.join(30)
    assert connected == ["Acme Plumbing, through the Web Connector"]
    assert any("HostQueryRq" in xml for xml in sent) and any("CompanyQueryRq" in xml for xml in sent)
    first.close()

    later = WebConnectorServices(_settings(sf_emulator, tmp_path, "acme"), None,
                                 sync_transport(service, registry, "acme"))
    again: list[str] = []
    thread = threading.Thread(target=lambda: again.append(later.connect_quickbooks()), daemon=True)
    thread.start()
    thread.join(10)  # no Web Connector calls now: a query would wait for its next session
    assert again == ["Acme Plumbing, through the Web Connector"]
    assert later.qb.qbxml_version == "16.0" and later.qb.messages_sent == 0
    later.stop()
    later.close()
