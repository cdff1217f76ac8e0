"""QuickBooks vendors and bills → QB_Vendor__c and QB_Bill__c, end to end on both emulators: a bill paid by check in
QuickBooks turns Paid in Salesforce."""

from __future__ import annotations

from datetime import timedelta


def _records(world, sobject: str, **where) -> list[dict]:
    return [r for r in world.sf_state.records(sobject) if all(r.get(k) == v for k, v in where.items())]


def test_a_bill_paid_by_check_in_quickbooks_turns_paid_in_salesforce(world, inbound) -> None:
    sim = world.qb_sim
    vendor = sim.add("Vendor", {"Name": "Paper Co", "CompanyName": "Paper Company", "Phone": "775-555-0100",
                                "VendorAddress": {"Addr1": "1 Mill Rd", "City": "Elko", "State": "NV"}})
    today = sim.now().astimezone(sim.tz).date()
    bill = sim.add("Bill", {"VendorRef": {"ListID": vendor["ListID"]}, "RefNumber": "PC-1001",
                            "TxnDate": today.isoformat(), "DueDate": (today + timedelta(days=15)).isoformat(),
                            "ExpenseLineAdd": [{"AccountRef": {"FullName": "Office Supplies"}, "Amount": "65.50"}]})
    report = inbound().run()
    assert report.ok, report.failures
    (sf_vendor,) = _records(world, "QB_Vendor__c", QB_Vendor_ID__c=vendor["ListID"])
    assert (sf_vendor["Name"], sf_vendor["Company_Name__c"], sf_vendor["City__c"], sf_vendor["Balance__c"],
            sf_vendor["Active__c"]) == ("Paper Co", "Paper Company", "Elko", 65.5, True)
    (sf_bill,) = _records(world, "QB_Bill__c", QB_Bill_ID__c=bill["TxnID"])
    assert (sf_bill["Name"], sf_bill["Vendor__c"], sf_bill["Amount__c"], sf_bill["Open_Balance__c"],
            sf_bill["Status__c"]) == ("Bill PC-1001", sf_vendor["Id"], 65.5, 65.5, "Open")
    sim.advance(60)
    sim.add("BillPaymentCheck", {"PayeeEntityRef": {"ListID": vendor["ListID"]},
                                 "BankAccountRef": {"FullName": "Checking"}, "RefNumber": "3001",
                                 "AppliedToTxnAdd": [{"TxnID": bill["TxnID"], "PaymentAmount": "65.50"}]})
    again = inbound().run()
    assert again.ok, again.failures
    (sf_bill,) = _records(world, "QB_Bill__c", QB_Bill_ID__c=bill["TxnID"])
    assert (sf_bill["Open_Balance__c"], sf_bill["Status__c"]) == (0.0, "Paid")


def test_an_unpaid_bill_past_its_due_date_is_overdue(world, inbound) -> None:
    sim = world.qb_sim
    vendor = sim.add("Vendor", {"Name": "Ink Co"})
    today = sim.now().astimezone(sim.tz).date()
    bill = sim.add("Bill", {"VendorRef": {"ListID": vendor["ListID"]}, "TxnDate": (today - timedelta(days=40))
                            .isoformat(), "DueDate": (today - timedelta(days=10)).isoformat(),
                            "ExpenseLineAdd": [{"AccountRef": {"FullName": "Office Supplies"}, "Amount": "12.00"}]})
    assert inbound().run().ok
    (sf_bill,) = _records(world, "QB_Bill__c", QB_Bill_ID__c=bill["TxnID"])
    assert (sf_bill["Name"], sf_bill["Status__c"]) == ("QB Bill", "OverDue")  # no vendor invoice number: the default
