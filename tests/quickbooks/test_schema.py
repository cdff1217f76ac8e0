"""The declared element orders and field limits match Intuit's XSD (13.0 and 16.0)."""

from __future__ import annotations

from lxml import etree

from qbsf.quickbooks.schema import ADDRESS_ORDER, FIELD_LIMITS, ORDER, REF_ORDER

XS = "{http://www.w3.org/2001/XMLSchema}"


class Xsd:
    """Just enough of an XSD reader to flatten a sequence (groups, choices, nested sequences) to element names."""

    def __init__(self, folder) -> None:
        self.elements: dict[str, etree._Element] = {}
        self.groups: dict[str, etree._Element] = {}
        self.types: dict[str, etree._Element] = {}
        for path in folder.glob("*.xsd"):
            for node in etree.parse(str(path)).getroot():
                name = node.get("name")
                if node.tag == XS + "element":
                    self.elements[name] = node
                elif node.tag == XS + "group":
                    self.groups[name] = node
                elif node.tag in (XS + "complexType", XS + "simpleType"):
                    self.types[name] = node

    def complex_type(self, name: str) -> etree._Element:
        if name.endswith("Rq"):
            return self.types[name + "Type"]
        element = self.elements[name]
        inline = element.find(XS + "complexType")
        return inline if inline is not None else self.types[element.get("type")]

    def children(self, node: etree._Element) -> list[etree._Element]:
        out: list[etree._Element] = []
        for child in node:
            if child.tag == XS + "element":
                out.append(child)
            elif child.tag == XS + "group":
                out += self.children(self.groups[child.get("ref")])
            elif child.tag in (XS + "sequence", XS + "choice", XS + "complexType"):
                out += self.children(child)
        return out

    def order(self, name: str) -> tuple[str, ...]:
        return tuple(c.get("name") or c.get("ref") for c in self.children(self.complex_type(name)))

    def max_length(self, parent: str, child: str) -> int | None:
        for node in self.children(self.complex_type(parent)):
            if (node.get("name") or node.get("ref")) == child:
                target = node if node.get("name") else self.elements[node.get("ref")]
                facet = target.find(f".//{XS}maxLength")
                if facet is None and target.get("type") in self.types:
                    facet = self.types[target.get("type")].find(f".//{XS}maxLength")
                return int(facet.get("value")) if facet is not None else None
        raise AssertionError(f"{parent} has no {child}")


def test_declared_orders_match_both_schemas(require_qbxml_schemas):
    for version in ("16.0", "13.0"):
        xsd = Xsd(require_qbxml_schemas.root / version)
        for name, declared in ORDER.items():
            source = "BillAddress" if declared is ADDRESS_ORDER else name
            assert declared == xsd.order(source), f"{name} order differs from the {version} schema"
        assert xsd.order("CustomerRef") == REF_ORDER


def test_field_limits_are_the_schemas_max_lengths(require_qbxml_schemas):
    xsd = Xsd(require_qbxml_schemas.root / "16.0")
    parents = {"Customer": "CustomerAdd", "ItemService": "ItemServiceAdd", "ItemNonInventory": "ItemNonInventoryAdd",
               "ItemInventory": "ItemInventoryAdd", "Invoice": "InvoiceAdd", "InvoiceLine": "InvoiceLineAdd",
               "Account": "AccountAdd", "Terms": "StandardTermsAdd"}
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
    assert checked > 50
    assert FIELD_LIMITS["Customer"]["Name"] == 41 and FIELD_LIMITS["ItemService"]["Name"] == 31
