"""What an idle connector costs: Salesforce API calls and QuickBooks messages per cycle once nothing changes.

Runs the real run loop (:class:`~qbsf.app.runtime.Connector` over :class:`~qbsf.app.wiring.EngineServices`)
against the Salesforce emulator and the QuickBooks simulator, counted by the emulator's API call counter.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qbsf.errors import QbsfError


@dataclass(frozen=True)
class IdleResult:
    """Calls spent by ``idle_cycles`` cycles after the first (which synced the seed data)."""

    idle_cycles: int
    sf_calls: int
    qb_messages: int
    polling_interval: float
    first_cycle_sf_calls: int
    sf_by_cycle: tuple[int, ...] = ()
    qb_by_cycle: tuple[int, ...] = ()
    # reads each idle cycle sent: to the package's cycle resource (one call for all) or inside composite calls
    # (Salesforce allows 5 queries or collections a call)
    sf_queries_by_cycle: tuple[int, ...] = ()
    # what each idle cycle's Salesforce calls were ("POST apexrest/qbsf/cycle", "GET v62.0/query", …)
    calls_by_cycle: tuple[tuple[str, ...], ...] = ()

    @property
    def first_idle_calls(self) -> tuple[str, ...]:
        """The Salesforce calls of the first idle cycle after the one that synced the seed data."""
        return self.calls_by_cycle[0] if self.calls_by_cycle else ()

    @property
    def sf_calls_per_cycle(self) -> float:
        """Salesforce API calls per idle cycle."""
        return self.sf_calls / self.idle_cycles

    @property
    def sf_calls_per_hour(self) -> float:
        """Salesforce API calls per idle hour at ``polling_interval``."""
        return self.sf_calls_per_cycle * 3600 / self.polling_interval

    @property
    def qb_messages_per_cycle(self) -> float:
        """QuickBooks messages per idle cycle."""
        return self.qb_messages / self.idle_cycles

    def line(self) -> str:
        """One line for docs/benchmarks.md."""
        return (f"idle connector: {self.sf_calls_per_cycle:.2f} Salesforce API calls and "
                f"{self.qb_messages_per_cycle:.2f} QuickBooks messages per cycle over {self.idle_cycles} idle cycles "
                f"→ {self.sf_calls_per_hour:,.0f} calls per idle hour at a {self.polling_interval:g} s polling "
                f"interval (first cycle, syncing the seed data: {self.first_cycle_sf_calls} calls)"
                + (f"; per idle cycle: Salesforce {', '.join(map(str, self.sf_by_cycle))}, QuickBooks "
                   f"{', '.join(map(str, self.qb_by_cycle))}" if self.sf_by_cycle else "")
                + (f"; Salesforce reads per idle cycle: {', '.join(map(str, self.sf_queries_by_cycle))}"
                   if self.sf_queries_by_cycle else ""))


def measure_idle(idle_cycles: int = 10, *, accounts: int = 5, polling_interval: float = 30.0,
                 timeout: float = 120.0, sf_state: Any = None, pause: float = 0.0,
                 lifecycle_minutes: float = 60.0, deals: int = 0, older_package: bool = False) -> IdleResult:
    """Seed ``accounts`` Accounts, run one cycle to sync them, then ``idle_cycles`` cycles with nothing to do,
    ``pause`` seconds apart (a running connector waits its polling interval; 0 = back to back).
    ``sf_state``: an empty emulated org to use (tests pass one built from a shared schema).
    ``lifecycle_minutes``: ``sync.lifecycle_check_minutes`` (0 = the life-cycle check runs in every cycle);
    ``deals``: Contacts, Products, Closed Won Opportunities and Activated Orders seeded too (so every synced object is
    checked); ``older_package``: the org's package predates the cycle resource (reads go through /composite)."""
    if idle_cycles < 1:
        raise QbsfError(f"--cycles must be at least 1 (got {idle_cycles})", hint="e.g. --cycles 10")
    from qbsf.app.runtime import Connector
    from qbsf.app.settings import Settings
    from qbsf.app.wiring import EngineServices
    from qbsf.bench.outbound import EXAMPLE_MAPPINGS, seed_org
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.sim.quickbooks import QuickBooksSimulator
    from qbsf.sim.salesforce import SalesforceState, start_emulator
    from qbsf.sync.state import StateStore

    sf_state = sf_state if sf_state is not None else SalesforceState()
    seed_org(sf_state, accounts=accounts, contacts=deals, products=deals, opportunities=deals, lines=2, orders=deals)
    if older_package:
        sf_state.apex_resources.clear()
    sim = QuickBooksSimulator()
    with start_emulator(sf_state) as emulator, tempfile.TemporaryDirectory(prefix="qbsf-idle-") as tmp:
        settings = Settings.model_validate({
            "salesforce": {"instance_url": emulator.url, "client_id": emulator.client_id,
                           "client_secret": emulator.client_secret},
            # The simulator's zone (UTC−8, no DST), as a configured connector names QuickBooks' zone: without it
            # the QuickBooks delta read reaches two DST steps further back every cycle (qbsf.quickbooks.timestamps).
            "quickbooks": {"default_accounts": {"income": "Sales"}, "time_zone": "Etc/GMT+8"},
            # cycles are driven by triggers below, not the clock
            "sync": {"polling_interval": 86400, "lifecycle_check_minutes": lifecycle_minutes},
            "mappings_dir": str(EXAMPLE_MAPPINGS),
        })
        state = StateStore(Path(tmp) / "state.db")
        services = EngineServices(settings, None, state, transport_factory=lambda: SimulatorTransport(sim))
        connector = Connector(services, settings)
        try:
            connector.start()
            _wait(lambda: connector.status().last_cycle is not None, timeout)
            first = sf_state.api_calls
            calls_before, messages_before = sf_state.api_calls, sim.stats.messages
            sf_by_cycle: list[int] = []
            qb_by_cycle: list[int] = []
            queries_by_cycle: list[int] = []
            calls_by_cycle: list[tuple[str, ...]] = []
            for number in range(2, idle_cycles + 2):
                time.sleep(pause)
                calls, messages, queries = sf_state.api_calls, sim.stats.messages, _reads(sf_state)
                logged = len(sf_state.request_log)
                connector.run_now()  # the same work as a timer tick, without waiting for it
                _wait(lambda n=number: (connector.status().last_cycle or _NoCycle).number >= n, timeout)
                sf_by_cycle.append(sf_state.api_calls - calls)
                queries_by_cycle.append(_reads(sf_state) - queries)
                qb_by_cycle.append(sim.stats.messages - messages)
                calls_by_cycle.append(tuple(f"{entry['method']} {entry['path']}"
                                            for entry in list(sf_state.request_log)[logged:]))
            sf_calls = sf_state.api_calls - calls_before
            qb_messages = sim.stats.messages - messages_before
        finally:
            connector.stop(wait=timeout)
            services.close()
            state.close()
    return IdleResult(idle_cycles=idle_cycles, sf_calls=sf_calls, qb_messages=qb_messages,
                      polling_interval=polling_interval, first_cycle_sf_calls=first,
                      sf_by_cycle=tuple(sf_by_cycle), qb_by_cycle=tuple(qb_by_cycle),
                      sf_queries_by_cycle=tuple(queries_by_cycle), calls_by_cycle=tuple(calls_by_cycle))


def _reads(sf_state: Any) -> int:
    return int(sf_state.composite_heavy) + int(getattr(sf_state, "apex_reads", 0))


class _NoCycle:
    number = 0


def _wait(predicate: Callable[[], bool], timeout: float) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise QbsfError("the connector did not finish a cycle in time", hint="see the log above")
        threading.Event().wait(0.01)
