"""A QuickBooks Desktop simulator that answers qbXML as QuickBooks does, for tests, benchmarks and the demo."""

from qbsf.sim.quickbooks.simulator import QbxmlParseError, QuickBooksSimulator, SimulatorError, SimulatorStats

__all__ = ["QbxmlParseError", "QuickBooksSimulator", "SimulatorError", "SimulatorStats"]
