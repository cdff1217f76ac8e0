"""The demo stack: the Salesforce emulator and a QuickBooks simulator company persisted under one folder, seeded
once, with the example mappings and demo settings, assembled by the same :func:`open_connector_app` as `qbsf run`.

    stack = DemoStack(Path(".qbsf-demo")).start()     # emulator up, data seeded, settings written
    summary = stack.run_once()                        # one full cycle each way → DemoSummary
    stack.bundle.connector.start()                    # or: run the connector, serve stack.bundle.dashboard
    stack.close()
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w

from qbsf.app.context import AppContext
from qbsf.errors import ConfigError
from qbsf.resources import example_mappings_dir

log = logging.getLogger(__name__)

Transport = Literal["simulator", "webconnector"]
EXAMPLE_MAPPINGS = example_mappings_dir()
DEFAULT_DIR = ".qbsf-demo"
# Everything the demo writes in its folder: --reset removes exactly these, never anything else a user put there.
OWNED = ("config.toml", "salesforce.sqlite", "company.qbsim", "state.db", "state.db-wal", "state.db-shm",
         "heartbeat.json", "seeded.json", "mappings", "logs")
DEMO_ACCOUNTS = {"income": "Sales", "cogs": "Cost of Goods Sold", "inventory_asset": "Inventory Asset"}


class DemoSecrets:
    """The demo's secret store: the emulator's connected-app secret, in memory only (never on disk, never printed)."""

    def __init__(self, values: dict[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def get(self, name: str) -> str | None:
        """Return the stored secret or None."""
        return self._values.get(name)

    def set(self, name: str, value: str) -> None:
        """Store a secret (tokens the Salesforce client renews)."""
        self._values[name] = value

    def delete(self, name: str) -> None:
        """Forget a secret."""
        self._values.pop(name, None)


@dataclass
class DemoStack:
    """Both emulated systems and the connector app for one demo folder. ``start()`` then ``close()``."""

    directory: Path
    transport: Transport = "simulator"
    console: Any = True
    log_level: str = "INFO"
    dashboard_port: int = 8765
    mappings_source: Path = EXAMPLE_MAPPINGS
    overrides: dict[str, str] = field(default_factory=dict)  # dotted settings written before the app assembles
    org: Any = field(default=None, init=False)
    emulator: Any = field(default=None, init=False)
    sim: Any = field(default=None, init=False)
    web_connector: Any = field(default=None, init=False)
    bundle: Any = field(default=None, init=False)
    seeded: Any = field(default=None, init=False)
    first_start: bool = field(default=False, init=False)

    @property
    def config_path(self) -> Path:
        """The demo's settings file."""
        return self.directory / "config.toml"

    def reset(self) -> None:
        """Remove what earlier demo runs wrote in the folder (and nothing else)."""
        for name in OWNED:
            target = self.directory / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()

    def start(self) -> DemoStack:
        """Start the emulator and simulator, seed them the first time, install mappings and settings, assemble the
        connector app (nothing connects until the connector starts or :meth:`run_once` runs)."""
        from qbsf.app.demo.seed import seed_once
        from qbsf.app.wiring import open_connector_app
        from qbsf.quickbooks.transports.simulator import SimulatorTransport
        from qbsf.sim.quickbooks import QuickBooksSimulator
        from qbsf.sim.salesforce import DEMO_CLIENT_SECRET, SalesforceState, start_emulator

        if self.directory.exists() and not self.directory.is_dir():
            raise ConfigError(f"{self.directory} is a file, not a folder", hint="pick another --dir")
        self.directory.mkdir(parents=True, exist_ok=True)
        self._refuse_second_demo()
        try:
            self.org = SalesforceState(path=self.directory / "salesforce.sqlite")
            self.emulator = start_emulator(self.org)
            self.sim = QuickBooksSimulator(self.directory / "company.qbsim")
            self.first_start = not (self.directory / "seeded.json").exists()
            self.seeded = seed_once(self.directory, self.org, self.sim)
            self._install_mappings()
            self._write_settings()
            if self.overrides:
                from qbsf.app.settings import update_settings

                update_settings(self.overrides, self.config_path)
            factory = self._transport_factory(SimulatorTransport)
            secrets = DemoSecrets({"salesforce.client_secret": DEMO_CLIENT_SECRET})
            self.bundle = open_connector_app(AppContext(config=str(self.config_path), secrets=secrets),
                                             log_level=self.log_level, console=self.console,
                                             transport_factory=factory)
            if self.web_connector is not None:
                # the dashboard's Web Connector panel: sessions of the stand-in, as `qbsf qbwc serve` shows them
                self.bundle.dashboard.webconnector_statuses = self.web_connector.service.statuses
                self.bundle.dashboard.webconnector_throttles = self.web_connector.service.login_throttles
        except sqlite3.DatabaseError as exc:
            self.close()
            raise ConfigError(f"the demo data in {self.directory} cannot be read: {exc}",
                              hint="run `qbsf demo --reset` to start the demo over") from None
        except BaseException:
            self.close()
            raise
        return self

    def _refuse_second_demo(self) -> None:
        # before anything starts: a second demo on this folder would point the settings at its own emulator
        from qbsf.app.runtime import Heartbeat
        from qbsf.app.wiring import refuse_second_instance

        refuse_second_instance(Heartbeat(self.directory / "heartbeat.json"))

    def _install_mappings(self) -> None:
        target = self.directory / "mappings"
        if target.is_dir():
            return  # the user's uploads from the dashboard survive a restart
        files = sorted(self.mappings_source.glob("*.csv"))
        if not files:
            raise ConfigError(f"no example mappings in {self.mappings_source}",
                              hint="reinstall qbsf (pip install --force-reinstall qbsf): it ships them in "
                                   "qbsf/_data/mappings")
        target.mkdir()
        for path in files:
            shutil.copy2(path, target / path.name)

    def _write_settings(self) -> None:
        from qbsf.app.settings import update_settings
        from qbsf.sim.salesforce import DEMO_CLIENT_ID

        if self.config_path.exists():
            # the emulator gets a new port on every start; everything else a user changed stays
            update_settings({"salesforce.instance_url": self.emulator.url, "quickbooks.transport": self.transport},
                            self.config_path)
            return
        data = {
            "state_url": f"sqlite:///{(self.directory / 'state.db').resolve().as_posix()}",
            "mappings_dir": str((self.directory / "mappings").resolve()),
            "log_dir": str((self.directory / "logs").resolve()),
            "salesforce": {"instance_url": self.emulator.url, "client_id": DEMO_CLIENT_ID,
                           "auth_flow": "client_credentials"},
            "quickbooks": {"transport": self.transport,
                           "simulator_path": str((self.directory / "company.qbsim").resolve()),
                           "default_accounts": DEMO_ACCOUNTS},
            "sync": {"polling_interval": 15},
            "dashboard": {"host": "127.0.0.1", "port": self.dashboard_port},
        }
        self.config_path.write_text(tomli_w.dumps(data), encoding="utf-8")

    def _transport_factory(self, simulator_transport: Any) -> Any:
        if self.transport == "simulator":
            sim = self.sim
            return lambda: simulator_transport(sim)
        if self.transport == "webconnector":
            from qbsf.sim.webconnector import LocalWebConnector

            # the real SOAP endpoint on loopback, with a stand-in Web Connector answering from the simulator
            self.web_connector = LocalWebConnector(self.sim, company="demo", every=0.2).start()
            connector = self.web_connector
            return lambda: connector.transport
        raise ConfigError(f"unknown demo transport {self.transport!r}", hint="use simulator or webconnector")

    def run_once(self) -> Any:
        """One full cycle each way (every eligible record, unchanged ones skipped); returns a DemoSummary."""
        from qbsf.app.demo.summary import summarise
        from qbsf.app.runtime import CycleRequest

        if self.bundle is None:
            raise ConfigError("the demo stack is not started", hint="call start() first")
        services = self.bundle.services
        services.connect_salesforce()
        services.connect_quickbooks()
        try:
            reports = services.run_cycle(CycleRequest(number=1, full_outbound=True, full_inbound=True))
            inbound_wired = callable(getattr(services.engine, "sync_qb_to_sf", None))
        finally:
            services.close_quickbooks()
        return summarise(reports, inbound_wired=inbound_wired, org=self.org, sim=self.sim)

    def close(self) -> None:
        """Stop the connector, the Web Connector stand-in and the emulator; close both databases."""
        from qbsf.app.logging import reset_logging

        if self.bundle is not None:
            try:
                self.bundle.close(wait=30)
            finally:
                self.bundle = None
                reset_logging()
        if self.web_connector is not None:
            self.web_connector.stop()
            self.web_connector = None
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        if self.sim is not None:
            self.sim.close()
            self.sim = None
        if self.org is not None:
            self.org.close()
            self.org = None

    def __enter__(self) -> DemoStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
