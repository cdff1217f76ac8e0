"""Salesforce Orders → QuickBooks sales orders, end to end on both emulators: lines replaced like an invoice's (a line
removed in Salesforce is removed from the sales order), the sales order's state written back to its Order
(IsFullyInvoiced when it is invoiced in QuickBooks, IsManuallyClosed), a Draft order not sent."""

from __future__ import annotations

from typing import Any

import pytest

from qbsf.sync.inbound import InboundConfig, InboundSync


@pytest.fixture
def shop(world) -> dict[str, Any]:
    """An Account and two products priced in the standard price book, synced to QuickBooks."""
    sf = world.sf_state
    account = sf.insert("Account", {"Name": "Order Buyer Ltd"})
    entries = {}
    for name, price in (("Widget", 40), ("Gadget", 15)):
        product = sf.insert("Product2", {"Name": name, "IsActive": True, "QB_Sales_Price__c": price})
        entries[name] = sf.insert("PricebookEntry", {"Pricebook2Id": sf.standard_pricebook_id, "Product2Id": product,
                                                     "UnitPrice": price, "IsActive": True})
    report = world.engine().sync_sf_to_qb(["Account", "Product2"])
    assert report.ok, report.failures
    return {"account": account, **entries}


def _order(world, shop: dict[str, Any], lines: list[tuple[str, int]], *, status: str = "Activated") -> str:
    sf = world.sf_state
    order = sf.insert("Order", {"AccountId": shop["account"], "EffectiveDate": "2026-05-04", "Status": "Draft",
                                "Pricebook2Id": sf.standard_pricebook_id, "PoNumber": "PO-77",
                                "Description": "Spring restock"})
    for product, quantity in lines:
        sf.insert("OrderItem", {"OrderId": order, "PricebookEntryId": shop[product], "Quantity": quantity,
                                "UnitPrice": sf.get("PricebookEntry", shop[product])["UnitPrice"]})
    if status != "Draft":
        sf.update("Order", order, {"Status": status})
    return order


def _inbound(world) -> InboundSync:
    return InboundSync(InboundConfig(), world.sf, world.qb, world.state, world.mappings, clock=world.qb_sim.now)


def _sales_order(world, order_id: str) -> dict[str, Any]:
    txn_id = world.sf_state.get("Order", order_id)["QB_Sales_Order_ID__c"]
    assert txn_id, "the Order holds no sales order id"
    found = world.qb_sim.get(txn_id)
    assert found is not None and found["TxnID"] == txn_id
    return found


def _lines(sales_order: dict[str, Any]) -> list[tuple[str, str]]:
    return [(line["ItemRef"]["FullName"], line["Quantity"]) for line in sales_order.get("SalesOrderLineRet", [])]


def test_an_activated_order_becomes_a_sales_order_with_its_lines(world, shop) -> None:
    order = _order(world, shop, [("Widget", 3), ("Gadget", 2)])
    report = world.engine().sync_sf_to_qb(["Order"])
    assert report.ok, report.failures
    sales_order = _sales_order(world, order)
    number = world.sf_state.get("Order", order)["OrderNumber"]
    assert (sales_order["CustomerRef"]["FullName"], sales_order["RefNumber"], sales_order["PONumber"],
            sales_order["TxnDate"], sales_order["Memo"]) == ("Order Buyer Ltd", number, "PO-77", "2026-05-04",
                                                            "Spring restock")
    assert _lines(sales_order) == [("Widget", "3"), ("Gadget", "2")]
    assert sales_order["TotalAmount"] == "150.00"
    assert len(world.qb_sim.sales_orders()) == 1


def test_an_order_line_removed_in_salesforce_is_removed_from_the_sales_order(world, shop) -> None:
    order = _order(world, shop, [("Widget", 3), ("Gadget", 2)])
    assert world.engine().sync_sf_to_qb(["Order"]).ok
    before = _sales_order(world, order)
    widget_line = before["SalesOrderLineRet"][0]["TxnLineID"]
    sf = world.sf_state
    (widget, gadget) = sorted(sf.records("OrderItem"), key=lambda line: line["OrderItemNumber"])
    # an activated order's products cannot be deleted: the user takes it back to Draft, edits, activates again
    sf.update("Order", order, {"Status": "Draft"})
    sf.delete("OrderItem", gadget["Id"])
    sf.update("OrderItem", widget["Id"], {"Quantity": 5})
    sf.update("Order", order, {"Status": "Activated"})
    report = world.engine().sync_sf_to_qb(["Order"])
    assert report.ok, report.failures
    after = _sales_order(world, order)
    assert after["TxnID"] == before["TxnID"]
    assert _lines(after) == [("Widget", "5")]
    # the changed line is modified in place, not deleted and added again
    assert after["SalesOrderLineRet"][0]["TxnLineID"] == widget_line
    assert after["TotalAmount"] == "200.00"


def test_a_draft_order_is_not_sent_until_it_is_activated(world, shop) -> None:
    order = _order(world, shop, [("Widget", 1)], status="Draft")
    report = world.engine().sync_sf_to_qb(["Order"])
    assert report.ok, report.failures
    assert world.qb_sim.sales_orders() == []
    assert world.sf_state.get("Order", order).get("QB_Sales_Order_ID__c") is None
    world.sf_state.update("Order", order, {"Status": "Activated"})
    assert world.engine().sync_sf_to_qb(["Order"]).ok
    assert _lines(_sales_order(world, order)) == [("Widget", "1")]


def test_an_order_invoiced_in_quickbooks_shows_fully_invoiced_in_salesforce(world, shop) -> None:
    order = _order(world, shop, [("Widget", 2)])
    assert world.engine().sync_sf_to_qb(["Order"]).ok
    sales_order = _sales_order(world, order)
    first = _inbound(world).run(["SalesOrder"])
    assert first.ok, first.failures
    assert world.sf_state.get("Order", order)["QB_Fully_Invoiced__c"] is False
    world.qb_sim.advance(60)
    world.qb_sim.add("Invoice", {"CustomerRef": {"ListID": sales_order["CustomerRef"]["ListID"]},
                                 "LinkToTxnID": [sales_order["TxnID"]]})
    assert world.qb_sim.get(sales_order["TxnID"])["IsFullyInvoiced"] == "true"
    report = _inbound(world).run(["SalesOrder"])
    assert report.ok, report.failures
    record = world.sf_state.get("Order", order)
    assert (record["QB_Fully_Invoiced__c"], record["QB_Manually_Closed__c"]) == (True, False)
    # Salesforce's own change to the Order is not an edit to send back: QuickBooks is left alone.
    edit_sequence = world.qb_sim.get(sales_order["TxnID"])["EditSequence"]
    again = world.engine().sync_sf_to_qb(["Order"])
    assert again.ok, again.failures
    assert world.qb_sim.get(sales_order["TxnID"])["EditSequence"] == edit_sequence


def test_a_sales_order_closed_in_quickbooks_shows_closed_in_salesforce(world, shop) -> None:
    order = _order(world, shop, [("Widget", 2)])
    assert world.engine().sync_sf_to_qb(["Order"]).ok
    sales_order = _sales_order(world, order)
    world.qb_sim.advance(60)
    world.qb_sim.modify(sales_order["TxnID"], {"IsManuallyClosed": "true"})
    report = _inbound(world).run(["SalesOrder"])
    assert report.ok, report.failures
    assert world.sf_state.get("Order", order)["QB_Manually_Closed__c"] is True


def test_a_sales_order_made_in_quickbooks_creates_no_order_in_salesforce(world, shop) -> None:
    customer = world.customer_named("Order Buyer Ltd")
    (item,) = [i for i in world.qb_sim.items() if i["Name"] == "Widget"]
    world.qb_sim.add("SalesOrder", {"CustomerRef": {"ListID": customer["ListID"]},
                                    "SalesOrderLineAdd": [{"ItemRef": {"ListID": item["ListID"]}, "Quantity": "1"}]})
    report = _inbound(world).run(["SalesOrder"])
    assert report.ok, report.failures
    assert world.sf_state.records("Order") == []
    assert report.entities["SalesOrder"].skipped == 1


def test_an_order_deleted_in_salesforce_is_not_brought_back_by_its_sales_orders_state(world, shop) -> None:
    order = _order(world, shop, [("Widget", 2)])
    assert world.engine().sync_sf_to_qb(["Order"]).ok
    sales_order = _sales_order(world, order)
    world.sf_state.update("Order", order, {"Status": "Draft"})
    world.sf_state.delete("Order", order)
    world.qb_sim.advance(60)
    world.qb_sim.modify(sales_order["TxnID"], {"IsManuallyClosed": "true"})
    report = _inbound(world).run(["SalesOrder"])
    assert report.ok, report.failures
    assert [r for r in world.sf_state.records("Order")] == []
    assert report.entities["SalesOrder"].skipped == 1
