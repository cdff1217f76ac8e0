"""Field limits and Latin-1: transliterate/truncate with a warning, or fail naming record and field."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.errors import ConfigError
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.client import Change, QuickBooksClient
from qbsf.quickbooks.errors import FieldValueError
from qbsf.quickbooks.limits import check_policy, enforce, is_latin1, transliterate


def test_transliteration_keeps_latin1_and_replaces_the_rest():
    assert transliterate("Café Müller") == "Café Müller"
    assert transliterate("“Smart” — quotes…") == '"Smart" - quotes...'
    assert transliterate("Łódź €5") == "Lódz EUR5"  # ó is Latin-1, Ł and ź are not
    assert transliterate("東京") == "??"
    assert transliterate("tab\tok\x07bell") == "tab\tokbell"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_transliterated_text_is_always_storable(text):
    assert is_latin1(transliterate(text))


def test_enforce_truncates_with_warnings(caplog):
    caplog.set_level(logging.WARNING)
    values = {"Name": "N" * 45, "BillAddress.Addr1": "Straße 1", "BillAddress.City": "Ōsaka"}
    clean, issues = enforce("Customer", values, record="Customer 'N'", policy="transliterate")
    assert clean == {"Name": "N" * 41, "BillAddress.Addr1": "Straße 1", "BillAddress.City": "Osaka"}
    assert [i.field for i in issues] == ["Name", "BillAddress.City"]
    assert "longer than 41" in str(issues[0]) and "QuickBooks field adjusted" in caplog.text


def test_enforce_fail_names_record_and_field():
    with pytest.raises(FieldValueError, match=r"Customer 'Acme': Phone is 25 characters, QuickBooks allows 21"):
        enforce("Customer", {"Phone": "5" * 25}, record="Customer 'Acme'", policy="fail")
    with pytest.raises(FieldValueError, match=r"Name contains characters QuickBooks Desktop cannot store"):
        enforce("ItemService", {"Name": "Widget ™"}, record="ItemService", policy="fail")
    with pytest.raises(ConfigError, match="transliterate"):
        check_policy("ignore")


def test_client_transliterates_before_sending(qb_client, qb_sim):
    [result] = qb_client.add_many([rec.Customer(Name="Zoë’s “Bistro” – Łódź branch, the long-named one",
                                                 BillAddress=rec.Address(PostalCode="12345-6789-0000"))])
    assert result.ok
    assert result.ret.Name == "Zoë's \"Bistro\" - Lódz branch, the long-na"
    assert len(result.ret.Name) == 41 and result.ret.BillAddress.PostalCode == "12345-6789-00"
    assert {w.field for w in result.warnings} == {"Name", "BillAddress.PostalCode"}
    assert qb_sim.count("Customer") == 1


def test_client_fail_policy_fails_only_that_record(qb_transport, qb_sim):
    client = QuickBooksClient(qb_transport, field_policy="fail")
    bad, good = client.add_many([rec.Customer(Name="x" * 42), rec.Customer(Name="Fine")])
    assert isinstance(bad.error, FieldValueError) and "Name is 42 characters" in str(bad.error)
    assert good.ok and qb_sim.count("Customer") == 1
    changed = client.add_many([rec.Customer(Name="Mod Me")])[0].ret
    with pytest.raises(FieldValueError, match="Phone"):
        client.mod(changed, {"Phone": "☎ 555"})


def test_colons_in_names_are_replaced_or_refused(qb_client, qb_transport):
    [result] = qb_client.add_many([rec.Customer(Name="Acme: West")])
    assert result.ok and result.ret.Name == "Acme- West" and result.warnings[0].problem == "contained a colon"
    with pytest.raises(FieldValueError, match="colon"):
        QuickBooksClient(qb_transport, field_policy="fail").add(rec.Customer(Name="Parent:Child"))


def test_invoice_lines_follow_the_policy_on_add_and_mod(qb_client):
    from decimal import Decimal

    customer = qb_client.add(rec.Customer(Name="Lines Policy"))
    item = qb_client.add(rec.ItemService(Name="Work", SalesPrice=Decimal(1)))
    line = rec.InvoiceLine(ItemRef=rec.Ref(ListID=item.ListID), Quantity=Decimal(1), Desc="Phase 1 → 2",
                           Other1="x" * 35)
    [added] = qb_client.add_many([rec.Invoice(CustomerRef=rec.Ref(ListID=customer.ListID), lines=[line])])
    assert added.ok and added.ret.lines[0].Desc == "Phase 1 -> 2" and added.ret.lines[0].Other1 == "x" * 29
    assert line.Desc == "Phase 1 → 2"  # the caller's record is untouched
    [modded] = qb_client.mod_many([Change(added.ret, {}, lines=[
        rec.InvoiceLine(ItemRef=rec.Ref(ListID=item.ListID), Quantity=Decimal(2), Desc="Ünïcödé ✓")])])
    assert modded.ok and modded.ret.lines[0].Desc == "Ünïcödé ?"
    assert [w.field for w in modded.warnings] == ["Desc"]


def test_a_value_quickbooks_already_holds_after_truncation_sends_no_mod(qb_client, qb_transport):
    long_name = "An Extremely Long Customer Name From Salesforce"
    [added] = qb_client.add_many([rec.Customer(Name=long_name)])
    before = qb_transport.messages_sent
    [again] = qb_client.mod_many([Change(added.ret, {"Name": long_name, "Phone": None})])
    assert again.ok and again.ret is added.ret
    assert qb_transport.messages_sent == before
