"""`qbsf demo --once` on a fresh folder: every seeded record synced exactly once; a second run duplicates nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sim.salesforce import SalesforceState


def _demo_once(folder: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QBSF_")}
    env.update({var: str(home / var.lower()) for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")})
    env["QBSF_SALESFORCE__INSTANCE_URL"] = "https://wrong.example.com"  # the demo must not follow a real org's setting
    env["COLUMNS"] = "140"
    return subprocess.run([sys.executable, "-m", "qbsf.app.cli", "demo", "--dir", str(folder), "--once"],
                          env=env, capture_output=True, text=True, timeout=60)


def _table(stdout: str) -> list[dict[str, str]]:
    """The summary table's rows as dicts keyed by the header."""
    lines = stdout.splitlines()
    header = next(line for line in lines if "Direction" in line and "Created" in line)
    names = [cell.strip() for cell in header.strip("┃").split("┃")]
    return [dict(zip(names, (cell.strip() for cell in line.strip("│").split("│")), strict=True))
            for line in lines if line.startswith("│ ")]


def _snapshot(folder: Path) -> dict[str, object]:
    org = SalesforceState(path=folder / "salesforce.sqlite")
    sim = QuickBooksSimulator(folder / "company.qbsim")
    try:
        customers = {c["ListID"]: c for c in sim.customers()}
        items = {i["ListID"]: i for i in sim.items()}
        invoices = {i["TxnID"]: i for i in sim.invoices()}
        accounts = org.records("Account")
        contacts = org.records("Contact")
        products = org.records("Product2")
        won = [o for o in org.records("Opportunity") if o["StageName"] == "Closed Won"]
        names = {a["Id"]: a["Name"] for a in accounts}
        return {
            "accounts": [(a["Name"], customers.get(a["QB_Customer_ID__c"] or "", {}).get("FullName"))
                         for a in accounts],
            "contacts": [(f"{names[c['AccountId']]}:{c['FirstName']} {c['LastName']}",
                          customers.get(c["QB_Customer_ID__c"] or "", {}).get("FullName")) for c in contacts],
            "products": [(p["Name"], items.get(p["QB_Item_ID__c"] or "", {}).get("FullName")) for p in products],
            "opportunities": [(o["Id"], (invoices.get(o["QB_Invoice_ID__c"] or "") or {}).get("CustomerRef", {})
                               .get("FullName"), names[o["AccountId"]]) for o in won],
            "qb_names": Counter(c["FullName"] for c in customers.values()),
            "item_names": Counter(i["FullName"] for i in items.values()),
            "counts": (len(customers), len(items), len(invoices), len(accounts), len(contacts), len(products)),
        }
    finally:
        sim.close()
        org.close()


def test_demo_once_syncs_every_seeded_record_exactly_once(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    first = _demo_once(folder, tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "Traceback" not in first.stdout + first.stderr
    assert "ignoring QBSF_SALESFORCE__INSTANCE_URL" in first.stdout
    assert "✓ every record synced" in first.stdout
    assert "qbsf-demo-secret" not in first.stdout + first.stderr + (folder / "config.toml").read_text()
    snap = _snapshot(folder)
    assert len(snap["accounts"]) >= 20 and len(snap["contacts"]) >= 40 and len(snap["opportunities"]) >= 20
    for name, qb_name in snap["accounts"]:
        assert qb_name == name, f"Account {name!r} is not the QuickBooks customer its id names"
        assert snap["qb_names"][name] == 1, f"Account {name!r} is in QuickBooks {snap['qb_names'][name]} times"
    for full_name, qb_name in snap["contacts"]:
        assert qb_name == full_name and snap["qb_names"][full_name] == 1
    for name, qb_name in snap["products"]:
        assert qb_name == name and snap["item_names"][name] == 1
    for opportunity, invoice_customer, account in snap["opportunities"]:
        assert invoice_customer == account, f"Opportunity {opportunity} has no invoice for {account}"
    invoices_per_account = Counter(account for _, _, account in snap["opportunities"])
    assert len({o for o, _, _ in snap["opportunities"]}) == len(snap["opportunities"])
    assert sum(invoices_per_account.values()) == len(snap["opportunities"])
    # the QuickBooks side was seeded too: its own customers, paid, part-paid and overdue invoices
    assert '"qb_part_payments": 0' not in (folder / "seeded.json").read_text()
    assert "part-paid" in first.stdout and "overdue" in first.stdout
    # QB → SF: every top-level QuickBooks customer is one Account, every invoice one QB_Invoice__c
    rows = _table(first.stdout)
    assert {row["Entity"] for row in rows if row["Direction"] == "QB → SF"} >= {
        "Customer", "Invoice", "Payment", "Credit Memo", "Sales Receipt"}, "a bookkeeper's words, not qbXML's"
    assert not {row["Entity"] for row in rows} & {"ReceivePayment", "CreditMemo", "SalesReceipt"}
    for kind in ("credit memo", "sales receipt"):
        found = re.search(rf"✓ QuickBooks {kind}: (\d+) of (\d+) are in Salesforce, (\d+) exactly once", first.stdout)
        assert found and int(found.group(1)) > 0 and len(set(found.groups())) == 1, kind
    assert [row["Entity"] for row in rows if row["Direction"] == "SF → QB"] == ["Account", "Contact", "Product2",
                                                                                "Opportunity", "Order", "Quote"]
    assert "✓ Order: 8 of 8 carry a QuickBooks id" in first.stdout and "✓ Quote: 6 of 6 carry" in first.stdout
    assert "✓ QuickBooks sales order: 8 sent from Salesforce, 8 with QuickBooks' values back" in first.stdout
    assert "✓ QuickBooks customer: " in first.stdout and "✓ QuickBooks invoice: 56 of 56 are in Salesforce, 56 " \
        "exactly once" in first.stdout

    second = _demo_once(folder, tmp_path)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "Reusing the demo" in second.stdout
    rows = _table(second.stdout)
    assert rows and all(row["Created"] == "0" and row["Failed"] == "0" for row in rows), rows
    again = _snapshot(folder)
    assert again["counts"] == snap["counts"], "a second run added records"
    assert again["qb_names"] == snap["qb_names"] and again["item_names"] == snap["item_names"]


def test_a_failed_record_makes_the_summary_fail_with_its_message(tmp_path: Path, config_file: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from qbsf.app.demo import DemoStack

    stack = DemoStack(tmp_path / "demo", console=False).start()
    try:
        # QuickBooks refuses every customer add as "in use by another user": the records fail, retriable
        stack.sim.fail_next(status_code=3180, times=1000, request_type="CustomerAdd")
        summary = stack.run_once()
    finally:
        stack.close()
    assert not summary.ok and summary.failed >= 24
    out = StringIO()
    summary.render(Console(file=out, width=160))
    text = out.getvalue()
    linked, total = map(int, re.search(r"✗ Account: (\d+) of (\d+) carry a QuickBooks id", text).groups())
    assert total - linked == 24, "every seeded Account is reported as not in QuickBooks"
    assert "SF → QB Account Acme Corporation" in text and "failed" in text


def test_demo_once_through_the_web_connector(tmp_path: Path, config_file: Path) -> None:
    from qbsf.app.demo import DemoStack

    stack = DemoStack(tmp_path / "demo", transport="webconnector", console=False).start()
    try:
        summary = stack.run_once()
        assert summary.ok, [*summary.errors, *summary.failures]
        assert stack.web_connector.transcripts, "the stand-in Web Connector carried the session"
        (company,) = stack.bundle.dashboard.webconnector_statuses()
        assert company.to_dict()["company"] == "demo"
        assert stack.bundle.dashboard.webconnector_throttles() == []  # the stand-in logs in right the first time
        assert summary.agreement and all(item.ok for item in summary.agreement)
    finally:
        stack.close()


def test_demo_once_exits_1_when_records_fail(tmp_path: Path) -> None:
    import shutil

    from qbsf.app.demo.stack import EXAMPLE_MAPPINGS

    folder = tmp_path / "demo"
    (folder / "mappings").mkdir(parents=True)  # a mappings folder of the user's own is kept as it is
    for path in EXAMPLE_MAPPINGS.glob("*.csv"):
        shutil.copy(path, folder / "mappings" / path.name)
    mapping = folder / "mappings" / "Acct_to_Customer.csv"
    mapping.write_text(mapping.read_text().replace("\nFax,Fax,N,", "\nFax,Fax,Y,"))  # no seeded Account has a Fax
    done = _demo_once(folder, tmp_path)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    rows = {(row["Direction"], row["Entity"]): row for row in _table(done.stdout)}
    assert rows[("SF → QB", "Account")]["Failed"] == "24"
    assert "Fax is required but Fax is empty" in done.stdout
    # 24 Accounts, then what waits for them: 48 Contacts, 24 Opportunities, 8 Orders, 6 Quotes
    assert "more failed records" in done.stdout and "✗ 110 failed" in done.stdout
