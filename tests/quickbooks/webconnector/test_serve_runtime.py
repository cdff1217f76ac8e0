"""`qbsf qbwc serve`'s wiring: the connector runtime cycles the sync engine through Web Connector sessions."""

from __future__ import annotations

import time

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


def test_the_runtime_syncs_through_scheduled_web_connector_sessions(registry, sf_emulator, sf_state, qb_sim,
                                                                    tmp_path) -> None:
    settings = Settings(
        salesforce={"instance_url": sf_emulator.url, "client_id": sf_emulator.client_id,
                    "client_secret": sf_emulator.client_secret},
        quickbooks={"transport": "webconnector", "default_accounts": {
            "income": "Sales", "cogs": "Cost of Goods Sold", "inventory_asset": "Inventory Asset"}},
        sync={"polling_interval": 1}, state_url=f"sqlite:///{tmp_path / 'state.db'}",
        mappings_dir=str(EXAMPLE_MAPPINGS))
    seed_org(sf_state, accounts=3, contacts=1, products=1, opportunities=1, lines=1)
    service = build_service(registry, poll_wait=0.2)
    services = WebConnectorServices(settings, None, sync_transport(service, registry, "acme"))
    connector = Connector(services, settings)
    with BackgroundServer(create_app(service)) as server, WebConnectorStandIn(
            server.url, "acme-qbwc", "acme-password-1", qb_sim) as wc:
        connector.start()
        sessions = []
        deadline = time.monotonic() + 20
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
