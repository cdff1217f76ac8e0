"""QuickBooks vendors and bills → QB_Vendor__c and QB_Bill__c, end to end on both emulators: a bill paid by check in
QuickBooks turns Paid in Salesforce."""

from __future__ import annotations

from datetime import timedelta

from tests.sync.inbound import support


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
    (sf_vendor,) = support.records(world, "QB_Vendor__c", QB_Vendor_ID__c=vendor["ListID"])
    assert (sf_vendor["Name"], sf_vendor["Company_Name__c"], sf_vendor["City__c"], sf_vendor["Balance__c"],
            sf_vendor["Active__c"]) == ("Paper Co", "Paper Company", "Elko", 65.5, True)
    (sf_bill,) = support.records(world, "QB_Bill__c", QB_Bill_ID__c=bill["TxnID"])
    assert (sf_bill["Name"], sf_bill["Vendor__c"], sf_bill["Amount__c"], sf_bill["Open_Balance__c"],
            sf_bill["Status__c"]) == ("Bill PC-1001", sf_vendor["Id"], 65.5, 65.5, "Open")
    sim.advance(60)
    sim.add("BillPaymentCheck", {"PayeeEntityRef": {"ListID": vendor["ListID"]},
                                 "BankAccountRef": {"FullName": "Checking"}, "RefNumber": "3001",
                                 "AppliedToTxnAdd": [{"TxnID": bill["TxnID"], "PaymentAmount": "65.50"}]})
    again = inbound().run()
    assert again.ok, again.failures
    (sf_bill,) = support.records(world, "QB_Bill__c", QB_Bill_ID__c=bill["TxnID"])
    assert (sf_bill["Open_Balance__c"], sf_bill["Status__c"]) == (0.0, "Paid")


def test_an_unpaid_bill_past_its_due_date_is_overdue(world, inbound) -> None:
    sim = world.qb_sim
    vendor = sim.add("Vendor", {"Name": "Ink Co"})
    today = sim.now().astimezone(sim.tz).date()
    bill = sim.add("Bill", {"VendorRef": {"ListID": vendor["ListID"]}, "TxnDate": (today - timedelta(days=40))
                            .isoformat(), "DueDate": (today - timedelta(days=10)).isoformat(),
                            "ExpenseLineAdd": [{"AccountRef": {"FullName": "Office Supplies"}, "Amount": "12.00"}]})
    assert inbound().run().ok
    (sf_bill,) = support.records(world, "QB_Bill__c", QB_Bill_ID__c=bill["TxnID"])
    assert (sf_bill["Name"], sf_bill["Status__c"]) == ("QB Bill", "OverDue")  # no vendor invoice number: the default


def test_an_open_bill_turns_overdue_the_day_after_its_due_date_with_no_quickbooks_change(world, inbound) -> None:
    from datetime import datetime

    sim = world.qb_sim
    today = sim.now().astimezone(sim.tz).date()
    sim.set_clock(datetime(today.year, today.month, today.day, 12, 0))
    vendor = sim.add("Vendor", {"Name": "Toner Co"})
    bill = sim.add("Bill", {"VendorRef": {"ListID": vendor["ListID"]}, "RefNumber": "T-1",
                            "DueDate": (today + timedelta(days=1)).isoformat(),
                            "ExpenseLineAdd": [{"AccountRef": {"FullName": "Office Supplies"}, "Amount": "40.00"}]})
    assert inbound().run().ok
    sim.set_clock(datetime(today.year, today.month, today.day, 23, 30) + timedelta(days=1))
    on_due_day = inbound().run()
    assert on_due_day.ok and on_due_day.entities["Bill"].status_refreshed == 0, "due today is not overdue"
    sim.set_clock(datetime(today.year, today.month, today.day, 0, 5) + timedelta(days=2))
    report = inbound().run()
    assert report.ok and report.entities["Bill"].queried == 0, "nothing changed in QuickBooks"
    assert report.entities["Bill"].status_refreshed == 1 and report.sf_calls == 1
    (sf_bill,) = support.records(world, "QB_Bill__c", QB_Bill_ID__c=bill["TxnID"])
    assert sf_bill["Status__c"] == "OverDue"
    assert inbound().run().sf_calls == 0, "once a day"
    # Paid by check: Paid, and the daily pass forgets it.
    sim.advance(60)
    sim.add("BillPaymentCheck", {"PayeeEntityRef": {"ListID": vendor["ListID"]}, "RefNumber": "3002",
                                 "BankAccountRef": {"FullName": "Checking"},
                                 "AppliedToTxnAdd": [{"TxnID": bill["TxnID"], "PaymentAmount": "40.00"}]})
    assert inbound().run().ok
    (sf_bill,) = support.records(world, "QB_Bill__c", QB_Bill_ID__c=bill["TxnID"])
    assert sf_bill["Status__c"] == "Paid"
    sim.advance(3 * 86400)
    assert inbound().refresh_status() == {"Invoice": 0, "Bill": 0}
