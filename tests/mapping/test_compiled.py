"""Compiled mappings: records in, target dicts or record errors out, Links resolved in batches."""

from pathlib import Path

import pytest

from qbsf.mapping import LinkKey, LinkPreview, RecordError, TableLinkResolver, load_mapping

ACCOUNT_LINK = LinkKey("Account", "QB_Customer_ID__c")


def test_dotted_source_reads_salesforce_parent_relationships(mapping_of) -> None:
    mapping = mapping_of("Account.QB_Customer_ID__c,CustomerRef.ListID,Y,,,", "CloseDate,TxnDate,N,,,",
                         name="Oppty_to_Invoice.csv")
    record = {"attributes": {"type": "Opportunity"}, "Id": "006A", "CloseDate": "2026-01-02",
              "Account": {"attributes": {"type": "Account"}, "QB_Customer_ID__c": "8000-1"}}
    assert mapping.apply(record) == {"CustomerRef.ListID": "8000-1", "TxnDate": "2026-01-02"}


def test_null_parent_relationship_is_empty(mapping_of) -> None:
    mapping = mapping_of("Account.QB_Customer_ID__c,CustomerRef.ListID,Y,,,", name="Oppty_to_Invoice.csv")
    error = mapping.apply({"Id": "006A", "Account": None})
    assert isinstance(error, RecordError)
    assert str(error) == ("Opportunity Id=006A: Account.QB_Customer_ID__c → CustomerRef.ListID (mapping line 2): "
                          "CustomerRef.ListID is required but Account.QB_Customer_ID__c is empty; fill the field, "
                          "or give the mapping row a Default_Value")
    assert type(error.to_exception()).__name__ == "NeedsUser"
    assert error.missing and error.waiting_on is None


def test_flat_dotted_key_and_case_insensitive_field_names(mapping_of) -> None:
    mapping = mapping_of("BillAddress.Addr1,BillingStreet,N,,,", "listid,QB_Customer_ID__c,N,,,",
                         name="Customer_to_Acct.csv")
    assert mapping.apply({"BillAddress.Addr1": "1 Main", "ListID": "8000-1"}) == {
        "BillingStreet": "1 Main", "QB_Customer_ID__c": "8000-1"}
    assert mapping.apply({"BillAddress": {"Addr1": "2 Main"}})["BillingStreet"] == "2 Main"


def test_column_one_is_read_and_column_two_written_whatever_the_headers_say(mapping_of) -> None:
    # The manual's inbound example: CustomerRef.ListID (a QuickBooks field) sits under SF_Field_API_Name.
    mapping = mapping_of("CustomerRef.ListID,Linked_Account__c,N,Link:Account:QB_Customer_ID__c,,",
                         name="Invoice_to_SF.csv")
    lookups = {ACCOUNT_LINK: {"8000-1": "001A"}}
    assert mapping.apply({"TxnID": "1-1", "CustomerRef": {"ListID": "8000-1", "FullName": "Acme"}}, lookups) == {
        "Linked_Account__c": "001A"}


def test_apply_many_skips_bad_records_and_goes_on(mapping_of) -> None:
    mapping = mapping_of("Name,Name,Y,Trim,,", "Amount,Total,N,NumberFormat,,")
    batch = mapping.apply_many([
        {"Id": "1", "Name": "A", "Amount": "1"},
        {"Id": "2", "Name": "  "},
        {"Id": "3", "Name": "C", "Amount": "lots"},
        {"Id": "4", "Name": "D"},
    ])
    assert [i for i, _ in batch.ok] == [0, 3]
    assert batch.ok[0][1] == {"Name": "A", "Total": "1.00"}
    assert [(e.index, e.record, e.target) for e in batch.errors] == [(1, "Account Id=2", "Name"),
                                                                    (2, "Account Id=3", "Total")]
    assert "(#3 in batch)" in str(batch.errors[1])


def test_links_are_collected_before_applying_and_resolved_once_per_object_field(mapping_of) -> None:
    mapping = mapping_of(
        "CustomerRef.ListID,Linked_Account__c,N,Link:Account:QB_Customer_ID__c,,",
        "SalesRepRef.ListID,Rep__c,N,Trim|Link:User:QB_Rep_ID__c,,",
        "Other,Other__c,N,Trim|Link:Account:QB_Customer_ID__c,,",
        name="Invoice_to_SF.csv",
    )
    records = [
        {"TxnID": "1", "CustomerRef": {"ListID": "C1"}, "SalesRepRef": {"ListID": " R1 "}, "Other": "C2"},
        {"TxnID": "2", "CustomerRef": {"ListID": "C1"}},
        {"TxnID": "3", "CustomerRef": {"ListID": "C9"}},
    ]
    assert mapping.links_needed(records) == {ACCOUNT_LINK: {"C1", "C2", "C9"},
                                             LinkKey("User", "QB_Rep_ID__c"): {"R1"}}
    resolver = TableLinkResolver({("Account", "QB_Customer_ID__c"): {"C1": "001A", "C2": "001B"},
                                  ("User", "QB_Rep_ID__c"): {"R1": "005A"}})
    batch = mapping.apply_many(records, resolver=resolver)
    assert sorted(key for key, _ in resolver.queries) == [ACCOUNT_LINK, LinkKey("User", "QB_Rep_ID__c")]
    assert batch.results[0] == {"Linked_Account__c": "001A", "Rep__c": "005A", "Other__c": "001B"}
    assert batch.results[1] == {"Linked_Account__c": "001A", "Rep__c": None, "Other__c": None}
    (error,) = batch.errors
    assert error.index == 2 and error.waiting_on == ACCOUNT_LINK
    assert batch.lookups[ACCOUNT_LINK] == {"C1": "001A", "C2": "001B"}


def test_mapping_without_links_never_calls_the_resolver(mapping_of) -> None:
    resolver = TableLinkResolver({})
    mapping_of("Name,Name,Y,,,").apply_many([{"Name": "A"}], resolver=resolver)
    assert resolver.queries == []
    assert mapping_of("Name,Name,Y,,,").links_needed([{"Name": "A"}]) == {}


def test_link_preview_says_what_would_be_looked_up(mapping_of) -> None:
    mapping = mapping_of("CustomerRef.ListID,Linked_Account__c,N,Link:Account:QB_Customer_ID__c,,",
                         name="Invoice_to_SF.csv")
    value = mapping.apply({"CustomerRef": {"ListID": "8000-1"}}, LinkPreview())["Linked_Account__c"]
    assert value == "(Link: the Account Id whose QB_Customer_ID__c = 8000-1)"


def test_target_keys_stay_the_literal_column_two_names(mapping_of) -> None:
    mapping = mapping_of("BillingStreet,BillAddr1,N,AddressSplit:1,,", "BillingStreet,BillAddr2,N,AddressSplit:2,,",
                         "BillingCity,BillAddress.City,N,,,")
    long_street = "1234 Northwest Industrial Parkway Boulevard, Building 7"
    assert mapping.apply({"BillingStreet": long_street, "BillingCity": "Reno"}) == {
        "BillAddr1": "1234 Northwest Industrial Parkway", "BillAddr2": "Boulevard, Building 7",
        "BillAddress.City": "Reno"}


def test_address_split_cache_does_not_leak_between_records(mapping_of) -> None:
    mapping = mapping_of("BillingStreet,BillAddr1,N,AddressSplit:1,,", "ShippingStreet,ShipAddr1,N,AddressSplit:1,,")
    assert mapping.apply({"BillingStreet": "A\nB", "ShippingStreet": "C"}) == {"BillAddr1": "A", "ShipAddr1": "C"}
    assert mapping.apply({"BillingStreet": "D"}) == {"BillAddr1": "D", "ShipAddr1": None}


def test_csv_text_is_never_executed(mapping_of) -> None:
    nasty = "Concatenate:{value}'); raise SystemExit('pwned'); (' \"\"\" \\n"
    mapping = mapping_of(f'Name,Name,N,"{nasty.replace(chr(34), chr(34) * 2)}",,')
    expected = "x'); raise SystemExit('pwned'); (' \"\"\" \\n"
    assert mapping.apply({"Name": "x"}) == {"Name": expected}


def test_required_with_default_never_fails(mapping_of) -> None:
    mapping = mapping_of("Country,BillAddress.Country,Y,Trim,USA,")
    assert mapping.apply({}) == {"BillAddress.Country": "USA"}


def test_summary_and_repr(mapping_of) -> None:
    mapping = mapping_of("Name,Name,Y,,,", "Phone,Phone,N,,,")
    assert mapping.summary() == "Acct_to_Customer: Account → Customer (SF→QB), 2 fields, 1 required"
    assert "Acct_to_Customer" in repr(mapping)


@pytest.mark.parametrize("sheet", ["Acct_to_Customer", "Customer_to_Acct", "Product_to_Item", "Item_to_Product",
                                   "Oppty_to_Invoice", "Invoice_to_SF", "OpptyLines_CHILD_Oppty",
                                   "Contact_to_SubCustomer"])
def test_every_example_mapping_loads(examples_dir: Path, sheet: str) -> None:
    mapping = load_mapping(examples_dir / f"{sheet}.csv")
    assert mapping.kind.sheet == sheet
    assert len(mapping.rules) >= 4 and any(rule.required for rule in mapping.rules)


def test_invoice_example_follows_the_manuals_link_tip(examples_dir: Path) -> None:
    mapping = load_mapping(examples_dir / "Invoice_to_SF.csv")
    rule = next(r for r in mapping.rules if r.target == "Linked_Account__c")
    assert (rule.source, rule.transformation) == ("CustomerRef.ListID", "Link:Account:QB_Customer_ID__c")
    result = mapping.apply({"TxnID": "1-1", "RefNumber": "8", "Subtotal": "1,000.005",
                            "CustomerRef": {"ListID": "C1"}}, {ACCOUNT_LINK: {"C1": "001A"}})
    assert result["Name"] == "Invoice 8" and result["Amount__c"] == "1000.01"
    assert result["Linked_Account__c"] == "001A"


def test_static_rows_do_not_ask_for_their_source_field(mapping_of) -> None:
    mapping = mapping_of("Terms,TermsRef.FullName,N,Static,Net 30,", "Name,Name,Y,,,")
    assert mapping.source_fields == ["Name"]


def test_link_matches_case_insensitively_like_salesforce(mapping_of) -> None:
    mapping = mapping_of("CustomerRef.ListID,Linked_Account__c,N,Link:Account:QB_Customer_ID__c,,",
                         name="Invoice_to_SF.csv")
    lookups = {ACCOUNT_LINK: {"8000ABCD-1": "001A"}}
    assert mapping.apply({"CustomerRef.ListID": "8000abcd-1"}, lookups) == {"Linked_Account__c": "001A"}


def test_check_fields_names_unknown_fields_with_their_line_and_a_suggestion(mapping_of) -> None:
    mapping = mapping_of("Name,Name,Y,,,", "BilingStreet,BillAddr1,N,AddressSplit:1,,", "Owner.Name,Notes,N,,,",
                         "Phone,Phnoe,N,,,", "Terms,TermsRef.FullName,N,Static,Net 30,", "Account.X,Fax,N,,,")
    problems = mapping.check_fields(
        source_fields={"Name", "BillingStreet", "Phone", "Owner"},
        target_fields={"Name", "BillAddress.Addr1", "BillAddr1", "Notes", "Phone", "TermsRef.FullName", "Fax"},
    )
    assert [str(p) for p in problems] == [
        "Acct_to_Customer.csv:3: Account has no field 'BilingStreet' (column 1); did you mean BillingStreet?",
        "Acct_to_Customer.csv:5: Customer has no field 'Phnoe' (column 2); did you mean Phone?",
        "Acct_to_Customer.csv:7: Account has no field 'Account.X' (column 1); use a Account field name",
    ]
    assert mapping.check_fields() == []


def test_a_very_long_chain_compiles(mapping_of) -> None:
    chain = "|".join(["Trim", "Replace:(:[", "Upper", "Left:50"] * 200)
    mapping = mapping_of(f"Name,Name,N,{chain},,")
    assert mapping.apply({"Name": " a(b) "}) == {"Name": "A[B)"}
