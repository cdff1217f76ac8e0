"""`qbsf demo --mappings`: every example mapping applied to realistic sample records, shown as tables — what each
rule and transformation does to a record, with no system running."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from qbsf.mapping import MappingFileError, RecordError, TableLinkResolver, load_mapping

_ACME = {"Id": "001000000000001AAA", "Name": "Acme Corporation", "QB_Customer_ID__c": "80000001-1700000001"}
SAMPLES: dict[str, list[dict[str, Any]]] = {
    "Acct_to_Customer": [{
        "Id": "001000000000001AAA", "Name": "  Acme Corporation ", "Phone": "(415) 555-0100",
        "Fax": None, "AccountNumber": "CD451796",
        "BillingStreet": "1 Market Street, Spear Tower, Suite 3600, Attn: Accounts Payable\nMail Stop 12",
        "BillingCity": "San Francisco", "BillingState": "CA", "BillingPostalCode": "94105",
        "BillingCountry": "USA", "Description": "Key account since 2019",
    }],
    "Customer_to_Acct": [{
        "ListID": "80000001-1700000001", "Name": "Acme Corporation", "Phone": "(415) 555-0100",
        "BillAddress.Addr1": "1 Market Street", "BillAddress.City": "San Francisco",  # QuickBooks records are flat
        "BillAddress.State": "CA", "BillAddress.PostalCode": "94105", "BillAddress.Country": "USA",
    }],
    "Product_to_Item": [
        {"Id": "01t000000000001AAA", "Name": "Installation Service", "Description": "On-site installation, per hour",
         "QB_Sales_Price__c": 1234.5, "IsActive": True},
        {"Id": "01t000000000002AAA", "Name": "", "QB_Sales_Price__c": "12.5"},
    ],
    "Item_to_Product": [{
        "ListID": "80000005-1700000005", "Name": "Widget", "FullName": "Parts:Widget",
        "SalesDesc": "Standard widget", "SalesPrice": "2.345", "IsActive": True,
    }],
    "Oppty_to_Invoice": [{
        "Id": "006000000000001AAA", "Name": "Acme - 50 widgets", "CloseDate": "2026-03-31",
        "Account": {"QB_Customer_ID__c": "80000001-1700000001"}, "Description": "Spring order",
    }],
    "OpptyLines_CHILD_Oppty": [{
        "Id": "00k000000000001AAA", "Product2": {"QB_Item_ID__c": "80000005-1700000005"},
        "Description": "Widget, blue", "Quantity": 50, "UnitPrice": 19.999, "ServiceDate": "2026-04-02",
    }],
    "Contact_to_SubCustomer": [{
        "Id": "003000000000001AAA", "Name": "Ada Lovelace", "FirstName": "Ada", "LastName": "Lovelace",
        "Title": "CFO", "Email": "Ada.Lovelace@Acme.example", "Phone": "(415) 555-0101",
        "Account": {"Name": "Acme Corporation", "QB_Customer_ID__c": "80000001-1700000001"},
        "MailingStreet": "1 Market Street", "MailingCity": "San Francisco",
    }],
    "Invoice_to_SF": [
        {"TxnID": "1A2B-1700000100", "RefNumber": "8", "TxnDate": "2026-03-31", "DueDate": "2026-04-30",
         "Subtotal": "1,000.005", "BalanceRemaining": "0", "CustomerRef.ListID": "80000001-1700000001",
         "CustomerRef.FullName": "Acme Corporation"},
        {"TxnID": "1A2B-1700000101", "RefNumber": "9", "TxnDate": "2026-04-01",
         "Subtotal": "10", "CustomerRef.ListID": "80000009-1700000009"},
    ],
}


def show_mappings(console: Console, folder: Path) -> int:
    """Print one table per mapping CSV in ``folder`` (rules × sample records); returns the exit status."""
    resolver = TableLinkResolver({("Account", "QB_Customer_ID__c"): {_ACME["QB_Customer_ID__c"]: _ACME["Id"]}})
    files = sorted(folder.glob("*.csv"))
    if not files:
        console.print(f"[red]No mapping CSVs in {folder}[/red]")
        return 2
    for path in files:
        try:
            mapping = load_mapping(path)
        except MappingFileError as exc:
            console.print(f"[red]{exc}[/red]", highlight=False)
            return 2
        records = SAMPLES.get(mapping.kind.sheet, [])
        batch = mapping.apply_many(records, resolver=resolver)
        table = Table(title=mapping.summary(), title_justify="left", show_lines=False)
        table.add_column(f"{mapping.kind.source_object} field")
        table.add_column("Transformation")
        table.add_column(f"{mapping.kind.target_object} field")
        for result in batch.results:
            table.add_column("Error" if isinstance(result, RecordError) else "Value", overflow="fold")
        for rule in mapping.rules:
            cells = [_show(result, rule.target) for result in batch.results]
            table.add_row(rule.source or "—", rule.transformation or "Simple", rule.target, *cells)
        console.print(table)
        for error in batch.errors:
            console.print(f"  [yellow]skipped[/yellow] {error}", highlight=False)
        console.print()
    return 0


def _show(result: dict[str, Any] | RecordError, target: str) -> str:
    if isinstance(result, RecordError):
        return "✗ skipped (below)" if result.target == target else ""
    value = result.get(target)
    return "" if value is None else repr(value) if not isinstance(value, str) else value
