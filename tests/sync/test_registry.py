"""The registry of synced entities: one declaration per pair, everything else derived, undeclared → clear error."""

from __future__ import annotations

import pytest

from qbsf.errors import ConfigError
from qbsf.sync import entities as registry
from qbsf.sync.entities import (
    ENTITIES,
    INBOUND_SPECS,
    REGISTRY,
    EntityHooks,
    ParentRef,
    SyncedEntity,
    by_key,
    by_sheet,
    entity,
    for_qb_entity,
    for_sf_object,
    inbound_spec,
)
from qbsf.sync.entities import _check as check_registry


def test_registry_is_in_dependency_order_and_every_parent_is_declared_first() -> None:
    seen: set[str] = set()
    for item in REGISTRY:
        for parent in [*item.parents, *(item.lines.parents if item.lines else ())]:
            assert parent.entity in seen, f"{item.key} needs {parent.entity} first"
        seen.add(item.key)
    assert [item.key for item in REGISTRY] == ["Account", "Contact", "Product2", "Opportunity", "QB_Invoice__c",
                                               "Order", "Quote", "QB_Payment__c", "QB_Credit_Memo__c",
                                               "QB_Sales_Receipt__c", "QB_Vendor__c", "QB_Bill__c"]


def test_both_engine_tables_are_views_of_the_declarations() -> None:
    assert [spec.name for spec in ENTITIES] == ["Account", "Contact", "Product2", "Opportunity", "Order", "Quote"]
    assert [(spec.name, spec.sf_object, spec.crosswalk) for spec in INBOUND_SPECS] == [
        ("Customer", "Account", "Account"), ("Item", "Product2", "Product2"),
        ("Invoice", "QB_Invoice__c", "QB_Invoice__c"), ("SalesOrder", "Order", "Order"), ("Estimate", "Quote", "Quote"),
        ("ReceivePayment", "QB_Payment__c", "QB_Payment__c"),
        ("CreditMemo", "QB_Credit_Memo__c", "QB_Credit_Memo__c"),
        ("SalesReceipt", "QB_Sales_Receipt__c", "QB_Sales_Receipt__c"),
        ("Vendor", "QB_Vendor__c", "QB_Vendor__c"), ("Bill", "QB_Bill__c", "QB_Bill__c")]
    for spec in ENTITIES:
        assert spec.declared.outbound is spec and spec.sheet == spec.declared.outbound_sheet
    for spec in INBOUND_SPECS:
        assert spec.declared.inbound is spec and spec.external_id == spec.declared.qb_id_field
    # A pair synced both ways shares one declaration: the inbound spec knows the outbound sheet of its object.
    assert inbound_spec("Item").outbound_sheet == entity("Product2").sheet
    assert inbound_spec("Invoice").outbound_sheet is None


def test_lookups_by_key_sheet_object_and_quickbooks_entity() -> None:
    assert by_key("product2").sf_object == "Product2"
    assert by_sheet("OpptyLines_CHILD_Oppty").key == "Opportunity"
    assert by_sheet("invoice_to_sf").key == "QB_Invoice__c"
    assert for_sf_object("Contact").qb_entity == "Customer"
    assert for_sf_object("QB_Invoice__c", "qb_to_sf").qb_entity == "Invoice"
    assert for_qb_entity("Invoice").key == "QB_Invoice__c"
    assert for_qb_entity("Invoice", "sf_to_qb").key == "Opportunity"
    assert inbound_spec("customers").name == "Customer" and inbound_spec("Product").name == "Item"


@pytest.mark.parametrize(("lookup", "name", "words"), [
    (by_key, "Lead", "Account, Contact, Product2, Opportunity, QB_Invoice__c, Order, Quote, QB_Payment__c, "
                     "QB_Credit_Memo__c, QB_Sales_Receipt__c, QB_Vendor__c, QB_Bill__c"),
    (entity, "Lead", "Account, Contact, Product2, Opportunity, Order, Quote"),
    (inbound_spec, "Lead", "Customer (Account), Item (Product2), Invoice (QB_Invoice__c), SalesOrder (Order), "
                           "Estimate (Quote), ReceivePayment (QB_Payment__c), CreditMemo (QB_Credit_Memo__c), "
                           "SalesReceipt (QB_Sales_Receipt__c), Vendor (QB_Vendor__c) or Bill (QB_Bill__c)"),
    (by_sheet, "Lead_to_SF", "Acct_to_Customer"),
    (for_sf_object, "Lead", "Account, Contact, Product2, Opportunity, Order, Quote"),
    (for_qb_entity, "Lead", "Customer, Item, Invoice, SalesOrder, Estimate, ReceivePayment, CreditMemo, SalesReceipt, "
                            "Vendor, Bill"),
])
def test_an_undeclared_entity_is_a_clear_error_naming_the_choices(lookup, name: str, words: str) -> None:
    with pytest.raises(ConfigError, match=name) as info:
        lookup(name)
    assert words in str(info.value)


def test_a_registry_that_could_misroute_a_record_is_refused() -> None:
    account = by_key("Account")
    twin = SyncedEntity(key="Account2", sf_object="Account", qb_id_field="X__c", qb_entity="Vendor",
                        qb_id_kind="ListID", outbound_sheet="Acct_to_Vendor")
    with pytest.raises(ConfigError, match="Account is sent to QuickBooks by both Account and Account2"):
        check_registry((account, twin))
    orphan = SyncedEntity(key="Payment", sf_object="Payment__c", qb_id_field="X__c", qb_entity="ReceivePayment",
                          qb_id_kind="TxnID", inbound_sheet="Payment_to_SF",
                          parents=(ParentRef("Account__c", "Account", "Account__r.QB_Customer_ID__c"),))
    with pytest.raises(ConfigError, match="Payment needs Account first"):
        check_registry((orphan, account))
    same_sheet = SyncedEntity(key="Other", sf_object="Other__c", qb_id_field="X__c", qb_entity="Vendor",
                              qb_id_kind="ListID", inbound_sheet="Customer_to_Acct")
    with pytest.raises(ConfigError, match="Customer_to_Acct is declared by Account and Other"):
        check_registry((account, same_sheet))
    check_registry(registry.REGISTRY)


def test_a_declaration_needs_an_id_kind_and_a_direction() -> None:
    with pytest.raises(ValueError, match="ListID or TxnID"):
        SyncedEntity(key="X", sf_object="X__c", qb_id_field="Q__c", qb_entity="Vendor", qb_id_kind="RefNumber",
                     outbound_sheet="X_to_Vendor")
    with pytest.raises(ValueError, match="at least one direction"):
        SyncedEntity(key="X", sf_object="X__c", qb_id_field="Q__c", qb_entity="Vendor", qb_id_kind="ListID")


def test_the_mapping_sheets_are_the_registrys() -> None:
    from qbsf.mapping import Direction, catalogue
    from qbsf.sync.entities import CATALOGUE

    assert catalogue() is CATALOGUE
    assert {(k.sheet, k.direction, k.sf_object, k.qb_entity, k.child, k.parent_sheet) for k in CATALOGUE.kinds} == {
        ("Acct_to_Customer", Direction.SF_TO_QB, "Account", "Customer", False, None),
        ("Customer_to_Acct", Direction.QB_TO_SF, "Account", "Customer", False, None),
        ("Contact_to_SubCustomer", Direction.SF_TO_QB, "Contact", "Customer", False, None),
        ("Product_to_Item", Direction.SF_TO_QB, "Product2", "Item", False, None),
        ("Item_to_Product", Direction.QB_TO_SF, "Product2", "Item", False, None),
        ("Oppty_to_Invoice", Direction.SF_TO_QB, "Opportunity", "Invoice", False, None),
        ("OpptyLines_CHILD_Oppty", Direction.SF_TO_QB, "OpportunityLineItem", "InvoiceLine", True,
         "Oppty_to_Invoice"),
        ("Invoice_to_SF", Direction.QB_TO_SF, "QB_Invoice__c", "Invoice", False, None),
        ("Payment_to_SF", Direction.QB_TO_SF, "QB_Payment__c", "ReceivePayment", False, None),
        ("CreditMemo_to_SF", Direction.QB_TO_SF, "QB_Credit_Memo__c", "CreditMemo", False, None),
        ("SalesReceipt_to_SF", Direction.QB_TO_SF, "QB_Sales_Receipt__c", "SalesReceipt", False, None),
        ("Vendor_to_SF", Direction.QB_TO_SF, "QB_Vendor__c", "Vendor", False, None),
        ("Bill_to_SF", Direction.QB_TO_SF, "QB_Bill__c", "Bill", False, None),
        ("Order_to_SalesOrder", Direction.SF_TO_QB, "Order", "SalesOrder", False, None),
        ("OrderLines_CHILD_Order", Direction.SF_TO_QB, "OrderItem", "SalesOrderLine", True, "Order_to_SalesOrder"),
        ("SalesOrder_to_Order", Direction.QB_TO_SF, "Order", "SalesOrder", False, None),
        ("Quote_to_Estimate", Direction.SF_TO_QB, "Quote", "Estimate", False, None),
        ("QuoteLines_CHILD_Quote", Direction.SF_TO_QB, "QuoteLineItem", "EstimateLine", True, "Quote_to_Estimate"),
        ("Estimate_to_Quote", Direction.QB_TO_SF, "Quote", "Estimate", False, None),
    }
    assert CATALOGUE.kind_from_filename("Oppty.csv").sheet == "Oppty_to_Invoice"
    assert CATALOGUE.owner_of_field(CATALOGUE.kind_by_sheet("Product_to_Item"), "BillingStreet") == "Account"


def test_a_new_entity_brings_its_sheet_and_file_words_with_it() -> None:
    from qbsf.mapping import Direction
    from qbsf.sync.entities import mapping_catalogue

    deposit = SyncedEntity(key="QB_Deposit__c", sf_object="QB_Deposit__c", qb_id_field="QB_Deposit_ID__c",
                           qb_entity="Deposit", qb_id_kind="TxnID", inbound_sheet="Deposit_to_SF",
                           inbound_words=("deposit",))
    catalogue = mapping_catalogue([*REGISTRY, deposit])
    kind = catalogue.kind_from_filename("QB_SF_Mapping_Template_v3 - Deposits.csv")
    assert (kind.sheet, kind.direction, kind.sf_object) == ("Deposit_to_SF", Direction.QB_TO_SF, "QB_Deposit__c")
    assert deposit.inbound is not None and deposit.inbound.source == "qb:Deposit"
    assert not deposit.matches_by_name and "inactivate" not in deposit.sf_gone_actions


def test_cli_help_lists_the_declared_entities() -> None:
    from typer.testing import CliRunner

    from qbsf.app.cli import app
    from qbsf.sync.entities import say

    assert say(["Customer", "Item", "Invoice"]) == "Customer, Item or Invoice" and say(["Account"]) == "Account"
    text = CliRunner().invoke(app, ["sync", "qb-to-sf", "--help"], env={"COLUMNS": "200"}).output
    assert say(spec.name for spec in INBOUND_SPECS) in text
    text = CliRunner().invoke(app, ["sync", "sf-to-qb", "--help"], env={"COLUMNS": "200"}).output
    assert say(spec.name for spec in ENTITIES) in text


def test_every_entity_reads_through_the_one_query_by_entity_with_its_declared_flags() -> None:
    """No declaration names a client method: each entity is read by its QuickBooks name, its lines and linked
    transactions as data (a client with nothing but ``query`` reads them all)."""
    calls: list[tuple[str, dict[str, object]]] = []

    class Client:
        def query(self, entity: str, **options: object) -> list[str]:
            calls.append((entity, options))
            return [f"a {entity}"]

    assert not any(hasattr(declared, "qb_query") for declared in REGISTRY)
    for spec in INBOUND_SPECS:
        declared = spec.declared
        if type(declared.hooks).read is not EntityHooks.read:
            continue  # an entity that reads its own way says so in its hooks
        calls.clear()
        assert list(declared.hooks.read(declared, Client(), ids=["T1"], missing_ok=True)) == [f"a {declared.qb_entity}"]
        linked = {"include_linked": True} if declared.reads_linked else {}
        assert calls == [(declared.qb_entity, {"ids": ["T1"], "modified_since": None,
                                               "include_inactive": not declared.is_txn,
                                               "include_lines": declared.reads_lines, "missing_ok": True, **linked})]
    payment = SyncedEntity(key="QB_Payment__c", sf_object="QB_Payment__c", qb_id_field="QB_Payment_ID__c",
                           qb_entity="ReceivePayment", qb_id_kind="TxnID", inbound_sheet="Payment_to_SF")
    with pytest.raises(ConfigError, match="cannot read ReceivePayment records"):
        payment.hooks.read(payment, object())
