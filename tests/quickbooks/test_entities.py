"""QuickBooks entities as data: every tag derived from a declaration is one Intuit's 13.0 and 16.0 schemas define."""

from __future__ import annotations

import pytest

from qbsf.quickbooks import entities
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.entities import ENTITIES, UnknownEntityError
from qbsf.quickbooks.schema import ORDER

XS = "{http://www.w3.org/2001/XMLSchema}"


def _defined(xsd) -> set[str]:
    """Every element name (and ``*Rq`` request, declared as ``*RqType``) a schema defines."""
    return set(xsd.elements) | {name.removesuffix("Type") for name in xsd.types if name.endswith("RqType")}


def _enumeration(xsd, element: str) -> set[str]:
    return {node.get("value") for node in xsd.elements[element].iter(XS + "enumeration")}


def test_every_derived_tag_is_in_both_schemas(qbxml_xsd):
    checked = 0
    for version, xsd in qbxml_xsd.items():
        defined = _defined(xsd)
        for declared in ENTITIES.values():
            for tag in declared.tags():
                assert tag in defined, f"{declared.name}: <{tag}> is not in the qbXML {version} schema"
                checked += 1
    assert checked > 250
    # the convention, spelled out once for a reader
    invoice = entities.entity("Invoice")
    assert (invoice.add_rq, invoice.add_element, invoice.mod_rq, invoice.query_rq, invoice.ret) == (
        "InvoiceAddRq", "InvoiceAdd", "InvoiceModRq", "InvoiceQueryRq", "InvoiceRet")
    assert [shape.ret for shape in entities.entity("Bill").lines] == ["ExpenseLineRet", "ItemLineRet"]
    assert entities.entity("Bill").lines[1].group_tags == ("ItemGroupLineAdd", "ItemGroupLineMod", "ItemGroupLineRet")


def test_id_kind_and_name_field_are_the_schemas(qbxml_xsd):
    for xsd in qbxml_xsd.values():
        for declared in ENTITIES.values():
            for ret in declared.rets:
                assert xsd.order(ret)[0] == declared.id_kind, ret
            query = xsd.order(declared.query_rq)
            assert declared.id_kind in query and declared.name_key in query, declared.name
            if declared.is_txn:
                assert "ModifiedDateRangeFilter" in query and "IncludeLineItems" in query, declared.name
            else:
                assert {"FromModifiedDate", "ActiveStatus"} <= set(query), declared.name


def test_deletion_and_void_follow_the_schemas_enumerations(qbxml_xsd):
    for version, xsd in qbxml_xsd.items():
        deletable = {"ListDelType": _enumeration(xsd, "ListDelType"), "TxnDelType": _enumeration(xsd, "TxnDelType")}
        voidable = _enumeration(xsd, "TxnVoidType")
        for declared in ENTITIES.values():
            for kind in declared.deleted_types:
                assert kind in deletable[declared.del_type_element], f"{kind} ({version})"
            if declared.record is not None:
                # voidable exactly when QuickBooks can void it: a sales order or estimate is deleted, never voided
                assert declared.can_void == (declared.name in voidable), f"{declared.name} ({version})"


def test_paging_and_mods_as_the_schemas_allow(qbxml_xsd):
    for xsd in qbxml_xsd.values():
        defined = _defined(xsd)
        for declared in ENTITIES.values():
            attributes = {node.get("name") for node in xsd.types[declared.query_rq + "Type"].iter(XS + "attribute")}
            assert declared.paged == ("iterator" in attributes), declared.name
            if declared.record is not None:
                assert declared.can_mod == (declared.mod_rq in defined), declared.name


def test_every_request_qbsf_builds_has_a_declared_order():
    """qbsf emits elements in declared order: each entity's query, Add, Mod and line elements must have one."""
    for declared in ENTITIES.values():
        needed = [declared.query_rq]
        if declared.record is not None:
            needed += [declared.add_element] if declared.can_add else []
            needed += [declared.mod_element] if declared.can_mod else []
            for shape in declared.lines:
                needed += [shape.add, shape.mod] + ([shape.group_tags[1]] if shape.group_tags else [])
        missing = [tag for tag in needed if tag not in ORDER]
        assert not missing, f"{declared.name}: no declared order for {missing}"


def test_lookups_and_a_clear_error_for_what_is_not_declared():
    assert entities.for_record(rec.SalesOrder()).name == "SalesOrder"
    assert entities.for_record(rec.Terms(kind="DateDrivenTerms")).name == "DateDrivenTerms"
    assert entities.for_ret("ReceivePaymentRet").record is rec.ReceivePayment
    assert entities.for_ret("ItemGroupRet") is None
    assert entities.entity("Item").rets == ("ItemServiceRet", "ItemNonInventoryRet", "ItemInventoryRet")
    assert entities.entity("Terms").deleted_types == ("StandardTerms", "DateDrivenTerms")
    with pytest.raises(UnknownEntityError, match="PurchaseOrder") as raised:
        entities.entity("PurchaseOrder")
    assert "Invoice" in (raised.value.hint or "")
    with pytest.raises(UnknownEntityError, match="HostInfo"):
        entities.for_record(rec.HostInfo())
    with pytest.raises(UnknownEntityError, match="ExpenseLine"):
        entities.entity("Invoice").line_shape(rec.ExpenseLine())


def test_linked_transactions_where_the_schemas_query_has_them(qbxml_xsd):
    for xsd in qbxml_xsd.values():
        for declared in ENTITIES.values():
            if declared.is_txn:
                has = "IncludeLinkedTxns" in xsd.order(declared.query_rq)
                assert declared.linked == has, declared.name
                assert ("linked" in rec.field_kinds(declared.record)) == has, declared.record.__name__


def test_record_classes_of_an_entity_and_a_line():
    assert entities.record_classes("Item") == (rec.ItemService, rec.ItemNonInventory, rec.ItemInventory)
    assert entities.record_classes("Terms") == (rec.Terms,)
    assert entities.record_classes("Bill") == (rec.Bill,)
    assert entities.line_record("SalesOrderLine") is rec.SalesOrderLine
    assert entities.line_record("AppliedToTxn") is rec.AppliedToTxn
    with pytest.raises(UnknownEntityError, match="PurchaseOrderLine") as raised:
        entities.line_record("PurchaseOrderLine")
    assert "InvoiceLine" in (raised.value.hint or "")


def test_declared_choices_are_the_schemas_choices(qbxml_xsd):
    """Every xsd:choice (of one) between fields qbsf writes is declared, with its request and whether it is
    required — and nothing else is."""
    for xsd in qbxml_xsd.values():
        found = set()
        for declared in ENTITIES.values():
            if declared.record is None:
                continue
            names = {shape.add: shape.attr for shape in declared.lines} | {shape.mod: shape.attr
                                                                          for shape in declared.lines}
            fields = set(rec.field_kinds(declared.record))
            for request, tag in (("Add", declared.add_element), ("Mod", declared.mod_element)):
                if tag not in xsd.elements:
                    continue
                for choice in xsd.complex_type(tag).iter(XS + "choice"):
                    if choice.get("maxOccurs", "1") != "1":
                        continue
                    members = [names.get(n, n) for n in (c.get("name") or c.get("ref") for c in xsd.children(choice))]
                    written = tuple(m for m in members if m in fields)
                    if len(written) > 1:
                        found.add((declared.name, request, written, choice.get("minOccurs", "1") != "0"))
        declared_choices = {(d.name, request, c.fields, c.required) for d in ENTITIES.values() for c in d.choices
                            for request in c.on}
        assert declared_choices == found
