"""Iterators over 2,500 records, deleted-record queries, and a company file that survives a reopen."""

from __future__ import annotations

import time

import pytest

from qbsf.sim.quickbooks import QuickBooksSimulator, SimulatorError


def add_customers(qb, count: int, batch: int = 500) -> None:
    for start in range(0, count, batch):
        requests = [f'<CustomerAddRq requestID="{n}"><CustomerAdd><Name>Customer {n:05d}</Name></CustomerAdd>'
                    "</CustomerAddRq>" for n in range(start, min(start + batch, count))]
        responses = qb.call(*requests)
        assert {r.get("statusCode") for r in responses} == {"0"}


def test_iterator_pages_through_2500_customers(qb, sim, txt):
    started = time.perf_counter()
    add_customers(qb, 2500)
    first = qb.one('<CustomerQueryRq iterator="Start" requestID="it"><MaxReturned>1000</MaxReturned>'
                   "</CustomerQueryRq>")
    iterator_id = first.get("iteratorID")
    assert iterator_id.startswith("{") and first.get("iteratorRemainingCount") == "1500"
    names = [txt(r, "Name") for r in first]
    remaining = []
    while True:
        page = qb.one(f'<CustomerQueryRq iterator="Continue" iteratorID="{iterator_id}"><MaxReturned>1000'
                      "</MaxReturned></CustomerQueryRq>")
        assert page.get("statusCode") == "0" and page.get("iteratorID") == iterator_id
        names += [txt(r, "Name") for r in page]
        remaining.append(int(page.get("iteratorRemainingCount")))
        if remaining[-1] == 0:
            break
    assert remaining == [500, 0]
    assert names == [f"Customer {n:05d}" for n in range(2500)]
    assert time.perf_counter() - started < 20
    finished = qb.one(f'<CustomerQueryRq iterator="Continue" iteratorID="{iterator_id}"><MaxReturned>10'
                      "</MaxReturned></CustomerQueryRq>")
    assert finished.get("statusCode") == "3000" and finished.get("statusSeverity") == "Error"


def test_unknown_iterator_is_an_error(qb):
    response = qb.one('<InvoiceQueryRq iterator="Continue" iteratorID="{00000000-0000-0000-0000-000000000000}">'
                      "<MaxReturned>10</MaxReturned></InvoiceQueryRq>")
    assert response.get("statusCode") == "3000"
    assert "iteratorID" in response.get("statusMessage")


def test_iterators_do_not_outlive_the_simulator_session(tmp_path, validating):
    path = tmp_path / "company.sqlite"
    first = QuickBooksSimulator(path)
    for n in range(5):
        first.add("Customer", {"Name": f"C{n}"})
    response = first.process('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
                             '<CustomerQueryRq iterator="Start"><MaxReturned>2</MaxReturned></CustomerQueryRq>'
                             "</QBXMLMsgsRq></QBXML>")
    iterator_id = response.split('iteratorID="')[1].split('"')[0]
    first.close()
    second = validating(QuickBooksSimulator(path))
    try:
        again = second.send('<?xml version="1.0"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
                            f'<CustomerQueryRq iterator="Continue" iteratorID="{iterator_id}"/></QBXMLMsgsRq></QBXML>')
        assert 'statusCode="3000"' in again
    finally:
        second.close()


def test_iterator_over_invoices_with_a_modified_date_filter(qb, sim, txt):
    sim.add("Customer", {"Name": "Acme"})
    sim.add("ItemService", {"Name": "Hour", "SalesOrPurchase": {"Price": "10.00", "AccountRef": {"FullName": "Sales"}}})
    for n in range(30):
        sim.add("Invoice", {"CustomerRef": {"FullName": "Acme"}, "RefNumber": f"R{n}",
                            "InvoiceLineAdd": [{"ItemRef": {"FullName": "Hour"}, "Quantity": "1"}]})
        if n == 9:
            sim.advance(60)
    start = qb.one('<InvoiceQueryRq iterator="Start"><MaxReturned>8</MaxReturned><ModifiedDateRangeFilter>'
                   "<FromModifiedDate>2026-03-02T09:01:00-08:00</FromModifiedDate></ModifiedDateRangeFilter>"
                   "<IncludeLineItems>true</IncludeLineItems></InvoiceQueryRq>")
    refs = [txt(r, "RefNumber") for r in start]
    assert start.get("iteratorRemainingCount") == "12"
    assert start[0].find("InvoiceLineRet") is not None
    while start.get("iteratorRemainingCount") != "0":
        start = qb.one(f'<InvoiceQueryRq iterator="Continue" iteratorID="{start.get("iteratorID")}">'
                       "<MaxReturned>8</MaxReturned></InvoiceQueryRq>")
        refs += [txt(r, "RefNumber") for r in start]
        assert start[0].find("InvoiceLineRet") is not None  # the Start request's options hold for every page
    assert refs == [f"R{n}" for n in range(10, 30)]


def test_deleted_lists_and_transactions_are_reported(qb, sim, txt):
    customer = sim.add("Customer", {"Name": "Gone Co"})
    kept = sim.add("Customer", {"Name": "Kept Co"})
    sim.add("ItemService", {"Name": "Hour", "SalesOrPurchase": {"AccountRef": {"FullName": "Sales"}}})
    invoice = sim.add("Invoice", {"CustomerRef": {"FullName": "Kept Co"},
                                  "InvoiceLineAdd": [{"ItemRef": {"FullName": "Hour"}, "Amount": "5.00"}]})
    in_use = qb.one(f"<ListDelRq><ListDelType>Customer</ListDelType><ListID>{kept['ListID']}</ListID></ListDelRq>")
    assert in_use.get("statusCode") == "3170"  # a customer with transactions cannot be deleted
    sim.advance(120)
    deleted = qb.one(f"<ListDelRq><ListDelType>Customer</ListDelType><ListID>{customer['ListID']}</ListID>"
                     "</ListDelRq>")
    assert deleted.get("statusCode") == "0"
    assert (txt(deleted, "ListID"), txt(deleted, "FullName")) == (customer["ListID"], "Gone Co")
    txn = qb.one(f"<TxnDelRq><TxnDelType>Invoice</TxnDelType><TxnID>{invoice['TxnID']}</TxnID></TxnDelRq>")
    assert (txn.get("statusCode"), txt(txn, "TxnID")) == ("0", invoice["TxnID"])
    (list_deleted,) = qb.one("<ListDeletedQueryRq><ListDelType>Customer</ListDelType><ListDelType>ItemService"
                             "</ListDelType></ListDeletedQueryRq>")
    assert (txt(list_deleted, "ListID"), txt(list_deleted, "FullName"), txt(list_deleted, "TimeDeleted")) == (
        customer["ListID"], "Gone Co", "2026-03-02T09:02:00-08:00")
    (txn_deleted,) = qb.one("<TxnDeletedQueryRq><TxnDelType>Invoice</TxnDelType></TxnDeletedQueryRq>")
    assert txt(txn_deleted, "TxnID") == invoice["TxnID"]
    later = qb.one("<ListDeletedQueryRq><ListDelType>Customer</ListDelType><DeletedDateRangeFilter>"
                   "<FromDeletedDate>2026-03-02T09:03:00-08:00</FromDeletedDate></DeletedDateRangeFilter>"
                   "</ListDeletedQueryRq>")
    assert later.get("statusCode") == "1"
    gone = qb.one(f"<CustomerQueryRq><ListID>{customer['ListID']}</ListID></CustomerQueryRq>")
    assert gone.get("statusCode") == "500"
    # with the invoice gone, the other customer may go too
    assert qb.one(f"<ListDelRq><ListDelType>Customer</ListDelType><ListID>{kept['ListID']}</ListID></ListDelRq>"
                  ).get("statusCode") == "0"


def test_sqlite_company_file_persists_across_reopen(tmp_path):
    path = tmp_path / "demo.qbsim"
    with QuickBooksSimulator(path, company_name="Persisted Ltd") as first:
        acme = first.add("Customer", {"Name": "Acme"})
        first.add("ItemService", {"Name": "Hour", "SalesOrPurchase": {"AccountRef": {"FullName": "Sales"}}})
        invoice = first.add("Invoice", {"CustomerRef": {"FullName": "Acme"},
                                        "InvoiceLineAdd": [{"ItemRef": {"FullName": "Hour"}, "Amount": "42.00"}]})
        accounts = first.count("Account")
    with QuickBooksSimulator(path, company_name="Ignored") as second:
        assert second.company_name == "Persisted Ltd"
        assert second.count("Account") == accounts  # not seeded twice
        assert [c["ListID"] for c in second.customers()] == [acme["ListID"]]
        assert second.get(invoice["TxnID"])["BalanceRemaining"] == "42.00"
        newer = second.add("Customer", {"Name": "Beta"})
        assert newer["ListID"] != acme["ListID"]  # counters continue: no ListID is handed out twice
        with pytest.raises(SimulatorError) as duplicate:
            second.add("Customer", {"Name": "ACME"})
        assert duplicate.value.status_code == 3100


def test_an_iterator_can_be_stopped(qb, sim):
    for n in range(6):
        sim.add("Customer", {"Name": f"S{n}"})
    start = qb.one('<CustomerQueryRq iterator="Start"><MaxReturned>2</MaxReturned></CustomerQueryRq>')
    iterator_id = start.get("iteratorID")
    stopped = qb.one(f'<CustomerQueryRq iterator="Stop" iteratorID="{iterator_id}"/>')
    assert (stopped.get("statusCode"), stopped.get("iteratorRemainingCount"), len(stopped)) == ("0", "0", 0)
    after = qb.one(f'<CustomerQueryRq iterator="Continue" iteratorID="{iterator_id}"/>')
    assert after.get("statusCode") == "3000"


def test_a_company_file_that_cannot_be_opened_is_a_clear_error(tmp_path):
    from qbsf.errors import ConfigError

    with pytest.raises(ConfigError, match="no-such-folder"):
        QuickBooksSimulator(tmp_path / "no-such-folder" / "company.qbsim")
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("this is not a database, just some words long enough to fill a header page" * 20)
    with pytest.raises(ConfigError, match=r"notes\.txt"):
        QuickBooksSimulator(not_sqlite)
