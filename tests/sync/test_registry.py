"""The registry of synced entities: one declaration per pair, everything else derived, undeclared → clear error."""

from __future__ import annotations

import pytest

from qbsf.errors import ConfigError
from qbsf.sync import entities as registry
from qbsf.sync.entities import (
    ENTITIES,
    INBOUND_SPECS,
    REGISTRY,
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
    assert [item.key for item in REGISTRY] == ["Account", "Contact", "Product2", "Opportunity", "QB_Invoice__c"]


def test_both_engine_tables_are_views_of_the_declarations() -> None:
    assert [spec.name for spec in ENTITIES] == ["Account", "Contact", "Product2", "Opportunity"]
    assert [(spec.name, spec.sf_object, spec.crosswalk) for spec in INBOUND_SPECS] == [
        ("Customer", "Account", "Account"), ("Item", "Product2", "Product2"),
        ("Invoice", "QB_Invoice__c", "QB_Invoice__c")]
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
    (by_key, "Lead", "Account, Contact, Product2, Opportunity, QB_Invoice__c"),
    (entity, "Lead", "Account, Contact, Product2, Opportunity"),
    (inbound_spec, "ReceivePayment", "Customer (Account), Item (Product2) or Invoice (QB_Invoice__c)"),
    (by_sheet, "Payment_to_SF", "Acct_to_Customer"),
    (for_sf_object, "Lead", "Account, Contact, Product2, Opportunity"),
    (for_qb_entity, "ReceivePayment", "Customer, Item, Invoice"),
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
