"""Timings of the emulator's hot paths at benchmark scale: ``python -m qbsf.sim.salesforce.perf [--scale F]``.

Seeds the org :func:`qbsf.bench.outbound.seed_org` builds for ``qbsf bench outbound`` (10,000 Accounts, 1,000
Products with standard prices, 2,000 Opportunities × 5 lines at scale 1), then times the queries the sync engine
sends: Opportunities with their line items (child subquery), a page of ``Id IN (…)``, an external-id ``IN``
lookup, the queue claim (``ORDER BY … LIMIT``), a parent-field filter, and deletes that cascade to children.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qbsf.sim.salesforce.settings import API_VERSION
from qbsf.sim.salesforce.soql import Engine, parse
from qbsf.sim.salesforce.state import SalesforceState


@dataclass
class PerfReport:
    """Seconds per measured step, in the order they ran."""

    scale: float
    steps: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """One printable line per step."""
        return [f"{name:<48} {seconds:8.3f} s  ({self.rows.get(name, 0):,} rows)"
                for name, seconds in self.steps.items()]


def _timed(report: PerfReport, name: str, action: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = action()
    report.steps[name] = time.perf_counter() - started
    if isinstance(result, dict) and "records" in result:
        report.rows[name] = len(result["records"])
    elif isinstance(result, int):
        report.rows[name] = result
    return result


def measure(scale: float = 1.0) -> PerfReport:
    """Seed a fresh in-memory org at ``scale`` × the outbound bench's size and time the engine's queries."""
    from qbsf.bench.outbound import seed_org

    report = PerfReport(scale=scale)
    state = SalesforceState()
    accounts, products, opportunities = int(10_000 * scale), max(1, int(1_000 * scale)), int(2_000 * scale)
    seeded = _timed(report, "seed_org", lambda: seed_org(state, accounts=accounts, products=products,
                                                         opportunities=opportunities, lines=5))
    report.rows["seed_org"] = len(seeded.accounts) + len(seeded.products) * 2 + len(seeded.opportunities) + len(
        seeded.lines)
    engine = Engine(state, API_VERSION)

    def run(soql: str) -> dict[str, Any]:
        return engine.run(parse(soql))

    _timed(report, "opportunities with line items", lambda: run(
        "SELECT Id, Name, AccountId, (SELECT Id, Quantity, UnitPrice, Product2Id FROM OpportunityLineItems) "
        "FROM Opportunity ORDER BY SystemModstamp, Id"))
    page = ", ".join(f"'{rid}'" for rid in seeded.opportunities[:200])
    _timed(report, "200 opportunities by Id IN with lines", lambda: run(
        f"SELECT Id, Name, (SELECT Id, Quantity FROM OpportunityLineItems) FROM Opportunity WHERE Id IN ({page}) "
        f"ORDER BY SystemModstamp, Id"))
    for rid in seeded.accounts[:200]:
        state.update("Account", rid, {"QB_Customer_ID__c": f"QB-{rid}"})
    wanted = ", ".join(f"'QB-{rid}'" for rid in seeded.accounts[:200])
    _timed(report, "200 accounts by external id IN", lambda: run(
        f"SELECT Id, QB_Customer_ID__c FROM Account WHERE QB_Customer_ID__c IN ({wanted})"))
    _timed(report, "lines by parent field (Opportunity.Name =)", lambda: run(
        "SELECT Id FROM OpportunityLineItem WHERE Opportunity.Name = 'Deal 00007'"))
    _timed(report, "queue claim ORDER BY CreatedDate, Id LIMIT 200", lambda: run(
        "SELECT Id, Object__c, Record_Id__c FROM QBSync_Queue__c WHERE Status__c = 'Pending' "
        "ORDER BY CreatedDate, Id LIMIT 200"))
    victims = seeded.opportunities[-50:]

    def delete_all() -> int:
        for rid in victims:
            state.delete("Opportunity", rid)
        return len(victims)

    _timed(report, "delete 50 opportunities (lines cascade)", delete_all)
    return report


def main(argv: list[str] | None = None) -> None:
    """Print the timings (``--scale 0.25`` runs a quarter of the outbound bench's org)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the outbound bench's org size")
    args = parser.parse_args(argv)
    report = measure(args.scale)
    print(f"Salesforce emulator hot paths at scale {report.scale}:")
    for line in report.lines():
        print("  " + line)
    print(f"  {'total':<48} {sum(report.steps.values()):8.3f} s")


if __name__ == "__main__":
    main()
