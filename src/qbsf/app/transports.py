"""The one place QuickBooks transports are built from settings.

The sync engine and the QuickBooks client take a transport and never build one: building the simulator's needs
``qbsf.sim``, which only the app layer (and the benches) may import. The Web Connector transport is not built
here: QuickBooks calls in, so the connector's Web Connector service hands one over per company (``qbsf run``,
``qbsf qbwc serve``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qbsf.errors import ConfigError


def quickbooks_transport_named(kind: str, *, simulator_path: str | Path | None = None, app_name: str = "qbsf",
                               company_file: str = "", connect_attempts: int = 3) -> Any:
    """A transport for a session qbsf opens itself: the simulator (file or memory) or COM on Windows."""
    if kind == "simulator":
        from qbsf.quickbooks.transports.simulator import SimulatorTransport
        from qbsf.sim.quickbooks import QuickBooksSimulator

        return SimulatorTransport(QuickBooksSimulator(simulator_path or None))
    if kind == "com":
        from qbsf.quickbooks.transports.com import ComTransport

        return ComTransport(app_name, company_file, attempts=connect_attempts)
    if kind == "webconnector":
        raise ConfigError(f"quickbooks.transport = {kind!r} needs the running connector (QuickBooks calls in through "
                          f"the Web Connector)", hint="run the pass from the connector, or use the simulator or COM "
                                                       "transport for one-shot commands")
    raise ConfigError(f"unknown QuickBooks transport {kind!r}",
                      hint="use 'simulator' or 'com' (the Web Connector calls in; see qbsf qbwc)")


def quickbooks_transport(qb_settings: Any) -> Any:
    """The transport ``quickbooks.*`` settings name (``transport``, ``simulator_path``, ``app_name``…); none chosen
    is refused with how to choose one (outside the demo and the tests nothing is assumed)."""
    from qbsf.quickbooks.transports.choice import require_transport

    return quickbooks_transport_named(require_transport(qb_settings), simulator_path=qb_settings.simulator_path or None,
                                      app_name=qb_settings.app_name, company_file=qb_settings.company_file,
                                      connect_attempts=qb_settings.connect_attempts)


def close_transport(transport: Any) -> None:
    """Close what a transport from here opened beyond the session (the simulator's company file)."""
    simulator = getattr(transport, "sim", None)
    if simulator is not None:
        simulator.close()
