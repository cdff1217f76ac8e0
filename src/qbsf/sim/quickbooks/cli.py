"""`qbsf sim quickbooks …`: look into, seed and talk qbXML to a simulated QuickBooks company file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from qbsf.errors import ConfigError
from qbsf.sim.quickbooks.demo import seed_demo_company
from qbsf.sim.quickbooks.simulator import QuickBooksSimulator

app = typer.Typer(help="The QuickBooks Desktop simulator: a company file you can seed, inspect and send qbXML to.",
                  no_args_is_help=True)

_KINDS = {"Customer": "customers", "Vendor": "vendors", "Item": "items", "Account": "accounts", "Terms": "terms",
          "Invoice": "invoices", "ReceivePayment": "payments", "SalesReceipt": "sales_receipts",
          "SalesOrder": "sales_orders", "Estimate": "estimates", "CreditMemo": "credit_memos", "Bill": "bills",
          "BillPaymentCheck": "bill_payments"}


def _open_existing(company: Path) -> QuickBooksSimulator:
    if not company.is_file():
        raise ConfigError(f"No simulated QuickBooks company at {company}",
                          hint=f"create one with: qbsf sim quickbooks seed {company}")
    return QuickBooksSimulator(company)


@app.command("seed")
def seed(company: Path = typer.Argument(..., help="company file (SQLite); created if missing"),
         customers: int = typer.Option(13, help="customers to add"),
         invoices: int = typer.Option(2, help="invoices per customer"),
         name: str = typer.Option("Demo Company", help="company name, for a new file")) -> None:
    """Create or top up a demo company: accounts, terms, items, customers with jobs, invoices, payments."""
    with QuickBooksSimulator(company, company_name=name) as sim:
        added = seed_demo_company(sim, customers=customers, invoices_per_customer=invoices)
        typer.echo(f"{company}: added {added['customers']} customers, {added['invoices']} invoices, "
                   f"{added['payments']} payments; now {sim.count('Customer')} customers, "
                   f"{sim.count('Item')} items, {sim.count('Invoice')} invoices")


@app.command("show")
def show(company: Path = typer.Argument(..., help="company file"),
         kind: str = typer.Option("Customer", help=f"one of: {', '.join(_KINDS)}")) -> None:
    """Print the company's records of one kind as JSON lines (the *Ret data, as qbXML would carry it)."""
    if kind not in _KINDS:
        raise ConfigError(f"Unknown record kind {kind!r}", hint=f"use one of: {', '.join(_KINDS)}")
    with _open_existing(company) as sim:
        for record in getattr(sim, _KINDS[kind])():
            typer.echo(json.dumps(record, ensure_ascii=False))


@app.command("send")
def send(company: Path = typer.Argument(..., help="company file"),
         request: str = typer.Argument("-", help="qbXML request file, or - for standard input")) -> None:
    """Send one qbXML request document to the company and print QuickBooks' response."""
    if request == "-":
        text = sys.stdin.read()
    else:
        source = Path(request)
        if not source.is_file():
            raise ConfigError(f"No qbXML request file at {source}", hint="give a file path or - for stdin")
        text = source.read_text(encoding="utf-8")
    with _open_existing(company) as sim:
        typer.echo(sim.process(text))
