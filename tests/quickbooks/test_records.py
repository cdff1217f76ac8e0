"""Typed records and the flat field view used by the mapping engine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from qbsf.errors import ConfigError, NeedsUser
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.errors import FieldValueError, UnknownFieldError


def test_manual_aliases_and_dotted_paths():
    customer = rec.customer_from_flat({
        "Name": "Acme", "BillAddr1": "1 Main", "BillAddr5": "Floor 5", "ShipAddr2": "Dock",
        "BillAddress.City": "Springfield", "ParentRef.ListID": "80000001-1", "TermsRef": "Net 30",
        "CreditLimit": "1,500.25", "IsActive": "Y",
    })
    assert customer.BillAddress == rec.Address(Addr1="1 Main", Addr5="Floor 5", City="Springfield")
    assert customer.ShipAddress.Addr2 == "Dock"
    assert customer.ParentRef == rec.Ref(ListID="80000001-1")
    assert customer.TermsRef.FullName == "Net 30"
    assert customer.CreditLimit == Decimal("1500.25") and customer.IsActive is True


def test_to_flat_gives_dotted_paths_and_bare_ref_name():
    invoice = rec.Invoice(TxnID="1-1", CustomerRef=rec.Ref(ListID="80000001-1", FullName="Acme"),
                          TxnDate=date(2024, 5, 1), BalanceRemaining=Decimal("10.00"),
                          lines=[rec.InvoiceLine(Desc="x")])
    flat = rec.to_flat(invoice)
    assert flat["CustomerRef.ListID"] == "80000001-1" and flat["CustomerRef"] == "Acme"
    assert flat["BillAddress.Addr1"] is None and flat["TxnDate"] == date(2024, 5, 1)
    assert "lines" not in flat and "extra" not in flat
    assert rec.to_flat(invoice.lines[0])["Desc"] == "x"


def test_unknown_field_names_the_field_and_lists_valid_ones():
    with pytest.raises(UnknownFieldError) as caught:
        rec.customer_from_flat({"Nmae": "Acme"})
    error = caught.value
    assert isinstance(error, ConfigError)
    assert "'Nmae'" in str(error) and "did you mean Name" in str(error)
    assert "BillAddress.Addr1" in error.hint and "BillAddr1" in error.hint


def test_bad_values_name_the_field():
    with pytest.raises(FieldValueError, match=r"Customer.CreditLimit: 'lots' is not a valid decimal") as caught:
        rec.customer_from_flat({"CreditLimit": "lots"})
    assert isinstance(caught.value, NeedsUser)
    with pytest.raises(FieldValueError, match="IsActive"):
        rec.customer_from_flat({"IsActive": "perhaps"})


def test_item_wrapper_aliases_and_invoice_lines():
    item = rec.item_service_from_flat({"Name": "Consulting", "SalesOrPurchase.Desc": "Hourly",
                                       "SalesOrPurchase.Price": 150, "SalesOrPurchase.AccountRef.FullName": "Sales"})
    assert (item.SalesDesc, item.SalesPrice, item.IncomeAccountRef.FullName) == ("Hourly", Decimal(150), "Sales")
    invoice = rec.invoice_from_flat({"CustomerRef.ListID": "1", "TxnDate": "2024-05-01T00:00:00"},
                                    lines=[{"ItemRef.FullName": "Consulting", "Quantity": "2"}])
    assert invoice.TxnDate == date(2024, 5, 1) and invoice.lines[0].Quantity == Decimal(2)
    assert rec.item_inventory_from_flat({"AssetAccountRef": "Inventory Asset"}).AssetAccountRef.FullName
    assert rec.item_non_inventory_from_flat({"ManufacturerPartNumber": "P-1"}).ManufacturerPartNumber == "P-1"
    assert rec.account_from_flat({"AccountType": "Income"}).AccountType == "Income"


def test_apply_flat_leaves_the_original_alone():
    base = rec.Customer(Name="A", BillAddress=rec.Address(City="X"))
    changed = rec.apply_flat(base, {"BillAddress.City": "Y"})
    assert base.BillAddress.City == "X" and changed.BillAddress.City == "Y"
    assert rec.label(rec.Customer(Name="A", ListID="1")) == "Customer 'A' (1)"
    blank = rec.customer_from_flat({"Name": "B", "ShipAddr2": None, "TermsRef": "", "Phone": ""})
    assert blank.ShipAddress is None and blank.TermsRef is None and blank.Phone is None
    # so a mapping that yields "" for a field QuickBooks leaves empty is no change at all
    assert rec.to_flat(rec.apply_flat(blank, {"Fax": "", "BillAddr1": ""})) == rec.to_flat(blank)
