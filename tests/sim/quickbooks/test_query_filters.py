"""Less common query filters: TotalBalanceFilter, DateMacro, AccountFilter, ClassFilter, case rules, odd names."""

from __future__ import annotations

import pytest


@pytest.fixture
def billed(sim):
    """Three customers (one with a job) and invoices dated across two months."""
    sim.add("Customer", {"Name": "Owes Much"})
    sim.add("Customer", {"Name": "Owes Little"})
    sim.add("Customer", {"Name": "Job", "ParentRef": {"FullName": "Owes Little"}})
    sim.add("Customer", {"Name": "Owes Nothing"})
    for customer, amount, day, ref in (("Owes Much", "900.00", "2026-02-10", "Feb-1"),
                                       ("Owes Little", "20.00", "2026-03-01", "mar-1"),
                                       ("Owes Little:Job", "15.00", "2026-03-02", "MAR-2")):
        sim.add("Invoice", {"CustomerRef": {"FullName": customer}, "TxnDate": day, "RefNumber": ref,
                            "InvoiceLineAdd": [{"Desc": "Work", "Amount": amount}]})
    return sim


def test_total_balance_filter_includes_jobs(qb, txt, billed):
    def names(operator: str, amount: str) -> list[str]:
        response = qb.one(f"<CustomerQueryRq><TotalBalanceFilter><Operator>{operator}</Operator><Amount>{amount}"
                          "</Amount></TotalBalanceFilter></CustomerQueryRq>")
        return [txt(r, "FullName") for r in response]

    assert names("GreaterThan", "100.00") == ["Owes Much"]
    assert names("Equal", "35.00") == ["Owes Little"]  # 20.00 own + 15.00 from the job
    assert names("LessThanEqual", "0") == ["Owes Nothing"]


def test_txn_date_macros_are_relative_to_the_company_today(qb, txt, billed):
    def refs(macro: str) -> list[str]:
        response = qb.one(f"<InvoiceQueryRq><TxnDateRangeFilter><DateMacro>{macro}</DateMacro></TxnDateRangeFilter>"
                          "</InvoiceQueryRq>")
        return [txt(r, "RefNumber") for r in response]

    # the simulator's today is 2026-03-02 (a Monday)
    assert refs("Today") == ["MAR-2"]
    assert refs("Yesterday") == ["mar-1"]
    assert refs("ThisMonthToDate") == ["mar-1", "MAR-2"]
    assert refs("LastMonth") == ["Feb-1"]
    assert refs("ThisCalendarYear") == ["Feb-1", "mar-1", "MAR-2"]
    assert refs("ThisWeek") == ["MAR-2"]
    assert refs("All") == ["Feb-1", "mar-1", "MAR-2"]


def test_ref_number_lookup_is_case_insensitive_unless_asked(qb, txt, billed):
    assert [txt(r, "RefNumber") for r in qb.one("<InvoiceQueryRq><RefNumber>MAR-1</RefNumber></InvoiceQueryRq>")
            ] == ["mar-1"]
    strict = qb.one("<InvoiceQueryRq><RefNumberCaseSensitive>MAR-1</RefNumberCaseSensitive></InvoiceQueryRq>")
    assert strict.get("statusCode") == "500"


def test_account_filter_matches_the_ar_account(qb, txt, billed):
    found = qb.one("<InvoiceQueryRq><AccountFilter><FullName>Accounts Receivable</FullName></AccountFilter>"
                   "</InvoiceQueryRq>")
    assert len(found) == 3
    none = qb.one("<InvoiceQueryRq><AccountFilter><FullName>Sales</FullName></AccountFilter></InvoiceQueryRq>")
    assert none.get("statusCode") == "1"


def test_class_filter_matches_nothing_without_class_tracking(qb, billed):
    response = qb.one("<CustomerQueryRq><ClassFilter><FullName>East</FullName></ClassFilter></CustomerQueryRq>")
    assert response.get("statusCode") == "1"


def test_a_filter_the_simulator_does_not_apply_is_a_warning(qb, billed):
    response = qb.one("<CustomerQueryRq><CurrencyFilter><FullName>US Dollar</FullName></CurrencyFilter>"
                      "</CustomerQueryRq>")
    assert (response.get("statusCode"), response.get("statusSeverity")) == ("530", "Warn")
    assert '"CurrencyFilter"' in response.get("statusMessage")
    assert len(response) == 4


def test_several_unsupported_add_elements_are_named_together(qb):
    response = qb.one("<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Nobody</FullName></CustomerRef>"
                      "</InvoiceAdd></InvoiceAddRq>")
    assert response.get("statusCode") == "3140"
    qb.ok("<CustomerAddRq><CustomerAdd><Name>Warned</Name></CustomerAdd></CustomerAddRq>")
    warned = qb.one("<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Warned</FullName></CustomerRef>"
                    "<SetCredit><CreditTxnID>1-1</CreditTxnID><AppliedAmount>1.00</AppliedAmount></SetCredit>"
                    "<InvoiceLineAdd><Desc>x</Desc><Amount>1.00</Amount><DataExt><OwnerID>0</OwnerID>"
                    "<DataExtName>Color</DataExtName><DataExtValue>Red</DataExtValue></DataExt></InvoiceLineAdd>"
                    "</InvoiceAdd></InvoiceAddRq>")
    assert warned.get("statusCode") == "530"
    assert '"SetCredit"' in warned.get("statusMessage") and '"DataExt"' in warned.get("statusMessage")


@pytest.mark.parametrize("name", ["Smith & Sons <Ltd>", 'The "Quoted" Co', "O'Brien's"])
def test_names_with_xml_special_characters_round_trip(qb, txt, name):
    from xml.sax.saxutils import escape

    ret = qb.ok(f"<CustomerAddRq><CustomerAdd><Name>{escape(name)}</Name></CustomerAdd></CustomerAddRq>")
    assert txt(ret, "Name") == name
    (found,) = qb.one(f"<CustomerQueryRq><FullName>{escape(name)}</FullName></CustomerQueryRq>")
    assert txt(found, "ListID") == txt(ret, "ListID")
