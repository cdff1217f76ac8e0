"""QuickBooks records the end-to-end inbound tests start from, made through the simulator's own API, and the
Salesforce records the sync made of them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any


def customer(world: Any, name: str = "Acme Inc", **fields: Any) -> dict:
    """A customer with a phone and an Oakland billing address (``fields`` add to or replace them)."""
    return world.qb_sim.add("Customer", {"Name": name, "Phone": "555-0100",
                                         "BillAddress": {"Addr1": "1 Main St", "City": "Oakland"}, **fields})


def item(world: Any, name: str = "Consulting", *, price: str = "150.00", kind: str = "ItemService",
         desc: str | None = "Hourly") -> dict:
    """A service (or another item ``kind``) sold at ``price`` into the Sales account; ``desc`` None: no description."""
    sales = {"Desc": desc} if desc is not None else {}
    return world.qb_sim.add(kind, {"Name": name, "SalesOrPurchase": {
        **sales, "Price": price, "AccountRef": {"FullName": "Sales"}}})


def invoice(world: Any, customer: dict, item: dict, *, ref: str = "1001", due_in_days: int = 30,
            quantity: str = "2") -> dict:
    """An invoice dated today (QuickBooks' clock, the company's zone) with one line of ``quantity`` × ``item``."""
    today = world.qb_sim.now().astimezone(world.qb_sim.tz).date()
    return world.qb_sim.add("Invoice", {"CustomerRef": {"ListID": customer["ListID"]}, "RefNumber": ref,
                                        "TxnDate": today.isoformat(),
                                        "DueDate": (today + timedelta(days=due_in_days)).isoformat(),
                                        "InvoiceLineAdd": [{"ItemRef": {"ListID": item["ListID"]},
                                                            "Quantity": quantity}]})


def records(world: Any, sobject: str, **where: Any) -> list[dict]:
    """The Salesforce records of ``sobject`` whose fields hold the ``where`` values."""
    return [r for r in world.sf_state.records(sobject) if all(r.get(k) == v for k, v in where.items())]


def one(world: Any, sobject: str, field: str, value: str) -> dict:
    """The one Salesforce record of ``sobject`` with ``field`` = ``value`` (fails naming how many there were)."""
    found = records(world, sobject, **{field: value})
    assert len(found) == 1, f"{len(found)} {sobject} records with {field} = {value!r}"
    return found[0]
