"""Seed both sides of the demo once: a Salesforce org and a QuickBooks company that look like a real small business.

Salesforce: dozens of Accounts with two Contacts each, Products of every QuickBooks item type with prices, and a
Closed Won Opportunity with line items per Account. QuickBooks: its own customers (some with jobs), items,
invoices and payments — some invoices paid, some part-paid, some overdue. A marker file in the demo folder says
seeding happened, so a second start adds nothing.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from qbsf.errors import ConfigError
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sim.quickbooks.demo import seed_demo_company
from qbsf.sim.salesforce import SalesforceState
from qbsf.sim.salesforce.seed import seed_demo

log = logging.getLogger(__name__)

MARKER = "seeded.json"
SF_ACCOUNTS = 24
QB_CUSTOMERS = 16


@dataclass
class SeedCounts:
    """What the first start seeded on each side (kept in ``seeded.json``)."""

    accounts: int = 0
    contacts: int = 0
    products: int = 0
    opportunities: int = 0
    qb_customers: int = 0
    qb_invoices: int = 0
    qb_payments: int = 0
    qb_part_payments: int = 0
    qb_overdue: int = 0


def load_counts(directory: Path) -> SeedCounts | None:
    """The counts recorded by the first start, or None when the folder was never seeded."""
    marker = directory / MARKER
    if not marker.exists():
        return None
    try:
        return SeedCounts(**json.loads(marker.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{marker}: not a demo marker file ({exc})",
                          hint="run `qbsf demo --reset` to start the demo over") from None


def seed_once(directory: Path, org: SalesforceState, sim: QuickBooksSimulator, *, seed: int = 7) -> SeedCounts:
    """Seed ``org`` and ``sim`` unless ``directory`` says it already happened; return what was seeded."""
    known = load_counts(directory)
    if known is not None:
        return known
    made = seed_demo(org, accounts=SF_ACCOUNTS, seed=seed)
    for opportunity in made.opportunities:
        # QuickBooks stores Latin-1 only: an em dash would be adjusted (and warned about) on every invoice
        name = org.get("Opportunity", opportunity)["Name"]
        org.update("Opportunity", opportunity, {"Name": name.replace("\u2014", "-")})
    counts = SeedCounts(accounts=len(made.accounts), contacts=len(made.contacts), products=len(made.products),
                        opportunities=len(made.opportunities))
    added = seed_demo_company(sim, customers=QB_CUSTOMERS, invoices_per_customer=2, seed=seed)
    counts.qb_customers = len(sim.customers())
    counts.qb_invoices = added["invoices"]
    counts.qb_payments = added["payments"]
    counts.qb_part_payments = _part_pay(sim, random.Random(seed))
    counts.qb_overdue = _overdue(sim)
    (directory / MARKER).write_text(json.dumps(asdict(counts), indent=2) + "\n", encoding="utf-8")
    log.info("demo seeded: %s", counts)
    return counts


def _part_pay(sim: QuickBooksSimulator, rng: random.Random) -> int:
    """Pay about half of every third open invoice, so the demo shows part-paid invoices beside paid and open ones."""
    made = 0
    for index, invoice in enumerate(inv for inv in sim.invoices() if _balance(inv) > 0):
        if index % 3:
            continue
        amount = (_balance(invoice) * Decimal(rng.choice(("0.25", "0.5", "0.6")))).quantize(Decimal("0.01"))
        customer = invoice["CustomerRef"]
        sim.add("ReceivePayment", {
            "CustomerRef": {"ListID": customer["ListID"]}, "TxnDate": _today(sim),
            "TotalAmount": str(amount), "PaymentMethodRef": {"FullName": "Visa"},
            "AppliedToTxnAdd": [{"TxnID": invoice["TxnID"], "PaymentAmount": str(amount)}]})
        made += 1
    return made


def _overdue(sim: QuickBooksSimulator) -> int:
    today = _today(sim)
    return sum(1 for inv in sim.invoices() if _balance(inv) > 0 and str(inv.get("DueDate") or today) < today)


def _today(sim: QuickBooksSimulator) -> str:
    return sim.now().astimezone(sim.tz).date().isoformat()


def _balance(invoice: dict[str, Any]) -> Decimal:
    return Decimal(str(invoice.get("BalanceRemaining") or "0"))
