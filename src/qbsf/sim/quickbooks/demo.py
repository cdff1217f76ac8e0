"""A believable small company for the demo: customers with jobs, items of each type, open, paid and overdue invoices,
and the other documents a small business keeps: sales orders, estimates, credit memos (some applied to an invoice),
cash sales, vendors and their bills (one paid, one part-paid by check)."""

from __future__ import annotations

import logging
import random
from datetime import date, timedelta
from decimal import Decimal

from qbsf.sim.quickbooks.simulator import QuickBooksSimulator

log = logging.getLogger(__name__)

_COMPANIES = (
    "Alder Creek Dental", "Bayside Bistro", "Cobalt Robotics", "Driftwood Outfitters", "Evergreen Clinic",
    "Foxglove Florists", "Granite Peak Builders", "Harbor Light Marine", "Ironwood Fitness", "Juniper Legal",
    "Kestrel Aviation", "Lumen Architects", "Maple Row Bakery", "Northwind Traders", "Orchard Vet Care",
    "Pinecone Press", "Quarry Lane Books", "Redwood Realty", "Silverline Logistics", "Tidewater Brewing",
)
_STREETS = ("Main St", "Oak Ave", "Harbor Blvd", "Market St", "Cedar Ln", "Pine St")
_VENDORS = (("Cascade Office Supply", "Net 15"), ("Summit Electronics", "Net 30"), ("Bluewater Freight",
                                                                                   "Due on receipt"))
_CITIES = (("Portland", "OR", "97205"), ("Reno", "NV", "89501"), ("Boise", "ID", "83702"), ("Sacramento", "CA",
                                                                                             "95814"))


def seed_demo_company(sim: QuickBooksSimulator, *, customers: int = 13, invoices_per_customer: int = 2,
                      seed: int = 0) -> dict[str, int]:
    """Fill ``sim`` with a demo company (idempotent per name: existing customers are left alone); returns counts."""
    if customers < 0 or customers > len(_COMPANIES) * 50:
        raise ValueError(f"customers must be between 0 and {len(_COMPANIES) * 50}")
    rng = random.Random(seed)
    today = sim.now().astimezone(sim.tz).date()
    existing = {c["FullName"] for c in sim.customers()}
    items = {i["FullName"] for i in sim.items()}
    catalogue = [
        ("ItemService", "Consulting", {"SalesOrPurchase": {"Desc": "Consulting, per hour", "Price": "150.00",
                                                           "AccountRef": {"FullName": "Services"}}}),
        ("ItemService", "Installation", {"SalesOrPurchase": {"Desc": "On-site installation", "Price": "95.00",
                                                             "AccountRef": {"FullName": "Services"}}}),
        ("ItemNonInventory", "Shipping", {"SalesOrPurchase": {"Desc": "Shipping and handling", "Price": "12.50",
                                                              "AccountRef": {"FullName": "Sales"}}}),
        ("ItemInventory", "Sensor Kit", {"SalesDesc": "Sensor kit, 4 pack", "SalesPrice": "249.00",
                                         "IncomeAccountRef": {"FullName": "Sales"},
                                         "PurchaseCost": "120.00",
                                         "COGSAccountRef": {"FullName": "Cost of Goods Sold"},
                                         "AssetAccountRef": {"FullName": "Inventory Asset"},
                                         "QuantityOnHand": "500"}),
    ]
    for kind, name, fields in catalogue:
        if name not in items:
            sim.add(kind, {"Name": name, **fields})
    added = {"customers": 0, "invoices": 0, "payments": 0}
    for n in range(customers):
        name = _COMPANIES[n % len(_COMPANIES)] + ("" if n < len(_COMPANIES) else f" {n // len(_COMPANIES) + 1}")
        if name in existing:
            continue
        city, state, postal = _CITIES[n % len(_CITIES)]
        sim.add("Customer", {
            "Name": name, "CompanyName": name,
            "BillAddress": {"Addr1": f"{100 + 7 * n} {_STREETS[n % len(_STREETS)]}", "City": city, "State": state,
                            "PostalCode": postal, "Country": "US"},
            "Phone": f"555-01{n % 100:02d}", "Email": f"ap@{name.lower().replace(' ', '')[:20]}.example",
            "TermsRef": {"FullName": "Net 30" if n % 3 else "Net 15"}})
        added["customers"] += 1
        if n % 4 == 0:
            sim.add("Customer", {"Name": "Main Office Project", "ParentRef": {"FullName": name}})
        for k in range(invoices_per_customer):
            txn_date = today - timedelta(days=rng.randint(1, 60))
            lines = [{"ItemRef": {"FullName": "Consulting"}, "Quantity": str(rng.randint(1, 12))},
                     {"ItemRef": {"FullName": rng.choice(["Installation", "Shipping", "Sensor Kit"])},
                      "Quantity": str(rng.randint(1, 3))}]
            invoice = sim.add("Invoice", {"CustomerRef": {"FullName": name}, "TxnDate": txn_date.isoformat(),
                                          "PONumber": f"PO-{1000 + 10 * n + k}", "InvoiceLineAdd": lines})
            added["invoices"] += 1
            if rng.random() < 0.35:
                sim.add("ReceivePayment", {
                    "CustomerRef": {"FullName": name}, "TxnDate": today.isoformat(),
                    "TotalAmount": invoice["BalanceRemaining"], "PaymentMethodRef": {"FullName": "Check"},
                    "AppliedToTxnAdd": [{"TxnID": invoice["TxnID"], "PaymentAmount": invoice["BalanceRemaining"]}]})
                added["payments"] += 1
    added.update(_documents(sim, _new_customers(sim, existing), random.Random(seed), today))
    log.info("demo company seeded: %s", added)
    return added


def _new_customers(sim: QuickBooksSimulator, existing: set[str]) -> list[str]:
    return [c["FullName"] for c in sim.customers() if c["FullName"] not in existing and c.get("Sublevel") == "0"]


def _documents(sim: QuickBooksSimulator, customers: list[str], rng: random.Random, today: date
               ) -> dict[str, int]:
    """Sales orders, estimates and credit memos for some of the customers just added; the vendors (once) with an
    open bill each. Its own random stream, so the invoices stay the ones earlier versions seeded."""
    made = {"sales_orders": 0, "estimates": 0, "credit_memos": 0, "vendors": 0, "bills": 0, "credits_applied": 0,
            "sales_receipts": 0, "bill_payments": 0}
    for n, name in enumerate(sorted(customers)):
        customer = {"CustomerRef": {"FullName": name}}
        when = (today - timedelta(days=rng.randint(0, 20))).isoformat()
        if n % 3 == 0:
            sim.add("SalesOrder", {**customer, "TxnDate": when, "SalesOrderLineAdd": [
                {"ItemRef": {"FullName": "Sensor Kit"}, "Quantity": str(rng.randint(2, 10))},
                {"ItemRef": {"FullName": "Installation"}, "Quantity": "1"}]})
            made["sales_orders"] += 1
        if n % 4 == 1:
            sim.add("Estimate", {**customer, "TxnDate": when, "IsActive": "false" if n % 8 == 5 else "true",
                                 "EstimateLineAdd": [{"ItemRef": {"FullName": "Consulting"},
                                                      "Quantity": str(rng.randint(4, 40))}]})
            made["estimates"] += 1
        if n % 5 == 2:
            memo = sim.add("CreditMemo", {**customer, "TxnDate": when, "Memo": "Shipping refund",
                                          "CreditMemoLineAdd": [{"ItemRef": {"FullName": "Shipping"},
                                                                 "Quantity": "1"}]})
            made["credit_memos"] += 1
            made["credits_applied"] += _apply_credit(sim, name, memo) if n % 10 == 2 else 0
        if n % 6 == 4:
            sim.add("SalesReceipt", {**customer, "TxnDate": when, "PaymentMethodRef": {"FullName": "Cash"},
                                     "SalesReceiptLineAdd": [{"ItemRef": {"FullName": "Sensor Kit"},
                                                              "Quantity": "1"}]})
            made["sales_receipts"] += 1
    vendors = {v["Name"] for v in sim.vendors()}
    for name, terms in _VENDORS:
        if name in vendors:
            continue
        sim.add("Vendor", {"Name": name, "CompanyName": name, "TermsRef": {"FullName": terms}})
        made["vendors"] += 1
        lines: dict[str, object] = {"ExpenseLineAdd": [{"AccountRef": {"FullName": "Office Supplies"},
                                                        "Amount": f"{rng.randint(40, 400)}.00"}]}
        if name == "Summit Electronics":
            lines = {"ItemLineAdd": [{"ItemRef": {"FullName": "Sensor Kit"}, "Quantity": "20"}]}
        bill = sim.add("Bill", {"VendorRef": {"FullName": name},
                                "TxnDate": (today - timedelta(days=rng.randint(1, 40))).isoformat(),
                                "RefNumber": f"{name.split()[0][:3].upper()}-{rng.randint(1000, 9999)}", **lines})
        made["bills"] += 1
        share = {"Bluewater Freight": Decimal(1), "Cascade Office Supply": Decimal("0.5")}.get(name)
        if share is not None:  # one bill paid, one part-paid: the demo shows each bill status
            amount = (Decimal(bill["AmountDue"]) * share).quantize(Decimal("0.01"))
            sim.add("BillPaymentCheck", {"PayeeEntityRef": {"FullName": name}, "TxnDate": today.isoformat(),
                                         "BankAccountRef": {"FullName": "Checking"},
                                         "RefNumber": str(3000 + made["bill_payments"]),
                                         "AppliedToTxnAdd": [{"TxnID": bill["TxnID"],
                                                              "PaymentAmount": str(amount)}]})
            made["bill_payments"] += 1
    return made


def _apply_credit(sim: QuickBooksSimulator, customer: str, memo: dict[str, object]) -> int:
    """Apply a credit memo to the customer's first invoice that can take it all (a payment carrying only the credit,
    as QuickBooks' Receive Payments window records it); 1 when applied."""
    credit = Decimal(str(memo["CreditRemaining"]))
    for invoice in sim.invoices():
        if invoice["CustomerRef"]["FullName"] == customer and Decimal(invoice["BalanceRemaining"]) >= credit:
            sim.add("ReceivePayment", {"CustomerRef": {"FullName": customer}, "TxnDate": invoice["TxnDate"],
                                       "AppliedToTxnAdd": [{"TxnID": invoice["TxnID"], "SetCredit": [
                                           {"CreditTxnID": memo["TxnID"], "AppliedAmount": str(credit)}]}]})
            return 1
    return 0
