"""Soak: the connector's run loop over both emulators for 300 fast cycles, records changing on both sides and
faults injected on both sides. Memory (RSS) and open file descriptors must stay flat, and every record must
arrive exactly once (docs/security.md, *Soak*).

    QBSF_SOAK_CYCLES=1000 .venv/bin/pytest tests/soak -s    # a longer soak; -s prints the figures
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from qbsf.app.runtime import Connector
from qbsf.app.settings import Settings
from qbsf.app.wiring import EngineServices
from qbsf.quickbooks.bodies import external_guid
from qbsf.quickbooks.transports.simulator import SimulatorTransport
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sim.salesforce import start_emulator
from qbsf.sync.state import StateStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"
CYCLES = int(os.environ.get("QBSF_SOAK_CYCLES", "300"))
WARM_UP = 30  # caches, pools and the state database's pages fill during the first cycles
RSS_GROWTH_LIMIT_KB = 15 * 1024
FD_GROWTH_LIMIT = 3


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class FastRetries(EngineServices):
    """The real services with retries due at once, so a record a fault hit is retried on the next fast cycle."""

    def _build_engine(self) -> Any:
        engine = super()._build_engine()
        engine.config.retry_base = timedelta(0)
        engine.config.retry_cap = timedelta(0)
        return engine


def wait_for_cycle(connector: Connector, number: int, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while (connector.status().last_cycle or _NoCycle).number < number:
        assert time.monotonic() < end, f"cycle {number} did not finish in {timeout:g} s: {connector.status()}"
        threading.Event().wait(0.002)


class _NoCycle:
    number = 0


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_three_hundred_cycles_with_changes_and_faults_stay_flat_and_deliver_once(sf_state, tmp_path: Path) -> None:
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for name in ("Acct_to_Customer.csv", "Customer_to_Acct.csv"):
        shutil.copy(EXAMPLES / name, mappings / name)
    sim = QuickBooksSimulator()
    sf_created: list[str] = []
    sf_faults = hit = 0
    qb_created: list[str] = []
    with start_emulator(sf_state) as emulator:
        settings = Settings.model_validate({
            "salesforce": {"instance_url": emulator.url, "client_id": emulator.client_id,
                           "client_secret": emulator.client_secret},
            "quickbooks": {"default_accounts": {"income": "Sales"}},
            "sync": {"polling_interval": 86400, "inbound_every": 1},  # cycles driven below, both ways each
            "mappings_dir": str(mappings),
        })
        state = StateStore(tmp_path / "state.db")
        services = FastRetries(settings, None, state, transport_factory=lambda: SimulatorTransport(sim))
        connector = Connector(services, settings)
        # transient faults only (a daily API limit or a bad record is not something a retry fixes)
        sf_state.inject_faults(0.03, kinds=("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"), seed=3)
        sim.set_fault_rate(0.03, seed=4)
        samples: list[tuple[int, int, int]] = []
        started = time.monotonic()
        try:
            connector.start()
            wait_for_cycle(connector, 1)
            for cycle in range(2, CYCLES + 1):
                if cycle % 3 == 0:  # a new Account in Salesforce
                    sf_created.append(sf_state.insert("Account", {"Name": f"Soak SF {cycle}"}))
                if cycle % 4 == 0 and sf_created:  # an Account changes in Salesforce
                    sf_state.update("Account", sf_created[cycle % len(sf_created)], {"Phone": f"555-{cycle:04d}"})
                if cycle % 5 == 0:  # a new customer in QuickBooks
                    qb_created.append(sim.add("Customer", {"Name": f"Soak QB {cycle}"})["ListID"])
                if cycle % 7 == 0 and qb_created:  # a customer changes in QuickBooks
                    sim.modify(qb_created[cycle % len(qb_created)], {"Phone": f"444-{cycle:04d}"})
                connector.run_now()
                wait_for_cycle(connector, cycle)
                if cycle in (WARM_UP, CYCLES // 2, CYCLES):
                    samples.append((cycle, rss_kb(), open_fds()))
            # faults off: a few more cycles deliver whatever the last faults held back
            sf_faults = sf_state.faults.injected
            sf_state.inject_faults(0)
            sim.set_fault_rate(0)
            for cycle in range(CYCLES + 1, CYCLES + 6):
                connector.run_now()
                wait_for_cycle(connector, cycle)
        finally:
            connector.stop(wait=30)
            services.close()
            failures = state.failures()
            hit = len(state.recent(100_000, failed_only=True))
            state.close()
        seconds = time.monotonic() - started
        accounts = sf_state.records("Account")
    (_, rss_start, fds_start), _middle, (_, rss_end, fds_end) = samples
    print(f"\nsoak: {CYCLES} cycles in {seconds:.1f} s; RSS {rss_start / 1024:.1f} MiB at cycle {WARM_UP} → "
          f"{rss_end / 1024:.1f} MiB at cycle {CYCLES}; open fds {fds_start} → {fds_end}; "
          f"{len(sf_created)} Accounts and {len(qb_created)} customers created, "
          f"{sf_faults} Salesforce faults injected, {hit} record writes failed by a fault and retried")
    assert sf_faults > 0 and hit > 0, "faults were injected and hit records"
    assert rss_end - rss_start < RSS_GROWTH_LIMIT_KB, f"RSS grew {(rss_end - rss_start) / 1024:.1f} MiB: {samples}"
    assert fds_end - fds_start <= FD_GROWTH_LIMIT, f"open file descriptors grew: {samples}"
    assert not failures, failures[:3]

    # every Salesforce Account is exactly one QuickBooks customer, and every QuickBooks customer one Account
    customers = sim.customers()
    by_guid: dict[str, int] = {}
    for customer in customers:
        by_guid[customer.get("ExternalGUID")] = by_guid.get(customer.get("ExternalGUID"), 0) + 1
    for sf_id in sf_created:
        assert by_guid.get(external_guid(sf_id)) == 1, f"Account {sf_id} is in QuickBooks {by_guid.get(sf_id)}×"
    by_list_id: dict[str, int] = {}
    for account in accounts:
        by_list_id[account.get("QB_Customer_ID__c")] = by_list_id.get(account.get("QB_Customer_ID__c"), 0) + 1
    for list_id in qb_created:
        assert by_list_id.get(list_id) == 1, f"customer {list_id} is in Salesforce {by_list_id.get(list_id)}×"
    assert len(customers) == len(sf_created) + len(qb_created)
    assert len(accounts) == len(sf_created) + len(qb_created)
    # the last change on each side arrived on the other
    phones = {c["ListID"]: c.get("Phone") for c in customers}
    for account in accounts:
        list_id = account.get("QB_Customer_ID__c")
        assert list_id in phones and (account.get("Phone") or None) == (phones[list_id] or None), (
            f"{account['Name']}: Salesforce Phone {account.get('Phone')!r}, QuickBooks {phones.get(list_id)!r}")
