"""The declared element orders and field limits match Intuit's XSD (13.0 and 16.0)."""

from __future__ import annotations

from qbsf.quickbooks import records as rec
from qbsf.quickbooks.entities import ENTITIES
from qbsf.quickbooks.schema import ADDRESS_ORDER, FIELD_LIMITS, ORDER, REF_ORDER


def test_declared_orders_match_both_schemas(qbxml_xsd):
    """Each declared order is 16.0's; 13.0's is the same without the elements 16.0 added, and no record field
    qbsf writes into that element is one of those (so every message qbsf builds is valid in 13.0 too)."""
    x16, x13 = qbxml_xsd["16.0"], qbxml_xsd["13.0"]
    newer: dict[str, set[str]] = {}
    for name, declared in ORDER.items():
        source = "BillAddress" if declared is ADDRESS_ORDER else name
        assert declared == x16.order(source), f"{name} order differs from the 16.0 schema"
        only_16 = [child for child in declared if child not in x13.order(source)]
        assert tuple(c for c in declared if c not in only_16) == x13.order(source), f"{name} order differs in 13.0"
        if only_16:
            newer[name] = set(only_16)
    assert x16.order("CustomerRef") == x13.order("CustomerRef") == REF_ORDER
    assert {"SalesOrderAdd", "BillAdd", "ItemLineAdd", "ExpenseLineAdd"} <= set(newer)
    for tag, cls, renames in _written_elements():
        sent = {renames.get(name, name) for name in rec.field_kinds(cls)}
        assert not newer.get(tag, set()) & sent, f"{cls.__name__} writes {newer[tag] & sent} (16.0 only) in {tag}"


def _line_and_document_parents() -> dict[str, str]:
    """Record kind → the Add element its limits come from, for every declared document and line."""
    parents = {}
    for declared in ENTITIES.values():
        if declared.record is not None and declared.can_add:
            parents[declared.record.__name__] = declared.add_element
            parents.update({shape.record.__name__: shape.add for shape in declared.lines})
    return parents


def _written_elements():
    """(element, record class written into it, field renames) for every Add/Mod and line element qbsf builds."""
    for declared in ENTITIES.values():
        if declared.record is None:
            continue
        for tag in (declared.add_element, declared.mod_element):
            yield tag, declared.record, {}
        for shape in declared.lines:
            for tag in (shape.add, shape.mod):
                yield tag, shape.record, dict(shape.write_names)


def test_field_limits_are_the_schemas_max_lengths(qbxml_xsd):
    xsd = qbxml_xsd["16.0"]
    parents = {"Customer": "CustomerAdd", "ItemService": "ItemServiceAdd", "ItemNonInventory": "ItemNonInventoryAdd",
               "ItemInventory": "ItemInventoryAdd", "Invoice": "InvoiceAdd", "InvoiceLine": "InvoiceLineAdd",
               "Account": "AccountAdd", "Terms": "StandardTermsAdd", **_line_and_document_parents()}
    wrapped = {"SalesDesc": ("SalesAndPurchase", "SalesDesc"), "PurchaseDesc": ("SalesAndPurchase", "PurchaseDesc")}
    checked = 0
    for kind, limits in FIELD_LIMITS.items():
        for path, limit in limits.items():
            top, _, sub = path.partition(".")
            if sub:
                assert xsd.max_length("BillAddress", sub) == limit, path
            elif kind in ("ItemService", "ItemNonInventory") and top in wrapped:
                assert xsd.max_length(*wrapped[top]) == limit, path
            else:
                assert xsd.max_length(parents[kind], top) == limit, f"{kind}.{path}"
            checked += 1
    assert checked > 150
    assert set(FIELD_LIMITS) >= {kind for kind in _line_and_document_parents() if kind != "AppliedToTxn"}
    assert FIELD_LIMITS["Customer"]["Name"] == 41 and FIELD_LIMITS["ItemService"]["Name"] == 31
