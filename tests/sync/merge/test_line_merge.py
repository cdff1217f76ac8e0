"""Invoice lines merged line by line (OpportunityLineItem Id ↔ TxnLineID), both pass orders, each policy.

A line the bookkeeper added in QuickBooks is kept and reported once (or removed with a warning when Salesforce owns
the lines); a line edited in QuickBooks keeps the edit while Salesforce's edit of another line arrives; the same
line edited on both sides follows the policy and is logged. Two full cycles each; a third writes nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.sync.merge.support import ORDERS, POLICIES, activity, run

from qbsf.bench.outbound import seed_org


def _synced_invoice(world, passes) -> tuple[str, str, list[str]]:
    """One Closed Won Opportunity with two lines, synced both ways: (Opportunity Id, TxnID, line item Ids)."""
    seeded = seed_org(world.sf_state, accounts=1, products=3, opportunities=1, lines=2)
    cycle = passes()
    cycle["sf_to_qb"]()
    cycle["qb_to_sf"]()
    (invoice,) = world.qb_sim.invoices()
    items = sorted(world.sf_state.records("OpportunityLineItem"), key=lambda line: line.get("SortOrder") or 0)
    return seeded.opportunities[0], invoice["TxnID"], [line["Id"] for line in items]


def _lines(world, txn_id: str) -> list[dict]:
    return list(world.qb_sim.get(txn_id)["InvoiceLineRet"])


def _line_of(world, txn_id: str, item_id: str) -> dict:
    (line,) = [line for line in _lines(world, txn_id) if line["ItemRef"]["ListID"] == item_id]
    return line


def _qb_edit(world, txn_id: str, changes: dict[str, dict], add: list[dict] | None = None) -> None:
    """The bookkeeper edits the invoice in QuickBooks: ``changes`` by TxnLineID, ``add`` new lines."""
    mods = [{"TxnLineID": line["TxnLineID"], **changes.get(line["TxnLineID"], {})} for line in _lines(world, txn_id)]
    world.qb_sim.modify(txn_id, {"InvoiceLineMod": mods + [{"TxnLineID": "-1", **line} for line in add or []]})


def _quiet_cycle(world, passes, policy: str, order: str, txn_id: str, **settings) -> None:
    sequence = world.qb_sim.get(txn_id)["EditSequence"]
    run(passes, policy, order, cycles=1, **settings)
    assert world.qb_sim.get(txn_id)["EditSequence"] == sequence, "the merge settled: nothing more is written"


def _line_item_behind(world, qb_line: dict) -> str:
    """The OpportunityLineItem a QuickBooks line came from (the one of the same product)."""
    products = {p["Id"]: p.get("QB_Item_ID__c") for p in world.sf_state.records("Product2")}
    (found,) = [item["Id"] for item in world.sf_state.records("OpportunityLineItem")
                if products.get(item["Product2Id"]) == qb_line["ItemRef"]["ListID"]]
    return found


def _freight_item(world) -> dict:
    return world.qb_sim.add("ItemService", {"Name": "Freight", "SalesOrPurchase": {
        "Desc": "Freight", "Price": "25.00", "AccountRef": {"FullName": "Sales"}}})


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("policy", "_last", "_winner"), POLICIES)
def test_a_line_added_in_quickbooks_is_kept_and_reported_once(world, passes, clock, policy, _last, _winner,
                                                               order) -> None:
    opportunity, txn_id, _ = _synced_invoice(world, passes)
    freight = _freight_item(world)
    total = Decimal(world.qb_sim.get(txn_id)["Subtotal"])
    clock.advance(60)
    _qb_edit(world, txn_id, {}, add=[{"ItemRef": {"ListID": freight["ListID"]}, "Quantity": "1", "Rate": "25.00"}])
    clock.advance(60)
    world.sf_state.update("Opportunity", opportunity, {"Name": "Renamed after invoicing"})

    run(passes, policy, order)

    invoice = world.qb_sim.get(txn_id)
    assert invoice["Memo"] == "Opportunity: Renamed after invoicing"
    assert _line_of(world, txn_id, freight["ListID"])["Amount"] == "25.00", "the bookkeeper's line is kept"
    assert Decimal(invoice["Subtotal"]) == total + 25
    (reported,) = activity(world, "line")
    assert "Freight" in reported and "25.00" in reported and "only in QuickBooks" in reported
    _quiet_cycle(world, passes, policy, order, txn_id)
    assert len(activity(world, "line")) == 1, "reported once"


@pytest.mark.parametrize("order", ORDERS)
def test_salesforce_owning_the_lines_removes_a_quickbooks_line_with_a_warning(world, passes, clock, order) -> None:
    opportunity, txn_id, _ = _synced_invoice(world, passes)
    freight = _freight_item(world)
    total = Decimal(world.qb_sim.get(txn_id)["Subtotal"])
    _qb_edit(world, txn_id, {}, add=[{"ItemRef": {"ListID": freight["ListID"]}, "Quantity": "1", "Rate": "25.00"}])
    clock.advance(60)
    world.sf_state.update("Opportunity", opportunity, {"Name": "Salesforce owns these lines"})

    run(passes, "newest", order, line_owner={"Opportunity": "salesforce"})

    invoice = world.qb_sim.get(txn_id)
    assert not [line for line in invoice["InvoiceLineRet"] if line["ItemRef"]["ListID"] == freight["ListID"]]
    assert Decimal(invoice["Subtotal"]) == total
    (removed,) = activity(world, "line")
    assert "removed line" in removed and "Freight" in removed and "25.00" in removed
    _quiet_cycle(world, passes, "newest", order, txn_id, line_owner={"Opportunity": "salesforce"})


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("policy", "_last", "_winner"), POLICIES)
def test_a_line_edited_in_quickbooks_keeps_the_edit_while_salesforce_edits_another(world, passes, clock, policy,
                                                                                   _last, _winner, order) -> None:
    opportunity, txn_id, _ = _synced_invoice(world, passes)
    first, second = _lines(world, txn_id)
    clock.advance(60)
    _qb_edit(world, txn_id, {first["TxnLineID"]: {"Rate": "99.00"}})
    clock.advance(60)
    world.sf_state.update("OpportunityLineItem", _line_item_behind(world, second), {"Quantity": 7})
    world.sf_state.update("Opportunity", opportunity, {"Description": "seven of the second"})

    run(passes, policy, order)

    lines = {line["TxnLineID"]: line for line in _lines(world, txn_id)}
    assert set(lines) == {first["TxnLineID"], second["TxnLineID"]}, "both lines keep their TxnLineID"
    assert Decimal(lines[first["TxnLineID"]]["Rate"]) == 99, "the bookkeeper's rate stays"
    assert Decimal(lines[second["TxnLineID"]]["Quantity"]) == 7, "Salesforce's quantity arrives"
    assert activity(world, "conflict") == []
    _quiet_cycle(world, passes, policy, order, txn_id)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("policy", "last", "winner"), POLICIES)
def test_the_same_line_edited_on_both_sides_follows_the_policy(world, passes, clock, shown_everywhere, policy, last,
                                                               winner, order) -> None:
    opportunity, txn_id, _ = _synced_invoice(world, passes)
    lines = _lines(world, txn_id)
    item_id = _line_item_behind(world, lines[0])
    edits = [("salesforce", lambda: world.sf_state.update("OpportunityLineItem", item_id, {"Quantity": 11})),
             ("quickbooks", lambda: _qb_edit(world, txn_id, {lines[0]["TxnLineID"]: {"Quantity": "22"}}))]
    for _side, edit in sorted(edits, key=lambda e: e[0] == last):
        clock.advance(60)
        edit()
    world.sf_state.update("Opportunity", opportunity, {"Description": "quantity changed on both sides"})

    run(passes, policy, order, strict=winner == "salesforce")

    line = {line["TxnLineID"]: line for line in _lines(world, txn_id)}[lines[0]["TxnLineID"]]
    if winner == "salesforce":
        assert Decimal(line["Quantity"]) == 11
        (logged,) = activity(world, "conflict")
        assert "line 1 Quantity" in logged and "salesforce wins" in logged and "11" in logged and "22" in logged
        _quiet_cycle(world, passes, policy, order, txn_id)
        return
    # QuickBooks wins, but lines never flow back to the Opportunity's products: the Opportunity fails with what to
    # do instead of leaving the two quantities silently different, and nothing is overwritten on either side.
    assert Decimal(line["Quantity"]) == 22
    assert world.sf_state.get("OpportunityLineItem", item_id)["Quantity"] == 11
    shown_everywhere("Opportunity", "line 1 Quantity (QuickBooks '22', Salesforce '11')",
                     "no QuickBooks → Salesforce mapping carries it back", "set sync.conflict_policy = salesforce")
    # The bookkeeper's quantity is typed into Salesforce too: the two agree and the failure closes.
    clock.advance(60)
    world.sf_state.update("OpportunityLineItem", item_id, {"Quantity": 22})
    run(passes, policy, order, cycles=1)
    assert world.state.failures() == []
    _quiet_cycle(world, passes, policy, order, txn_id)


def test_the_lines_setting_is_declared_and_reaches_the_engine(tmp_path) -> None:
    from qbsf.app.settings import load_settings, set_setting
    from qbsf.errors import ConfigError
    from qbsf.sync.engine import SyncConfig

    path = tmp_path / "qbsf.toml"
    assert set_setting("sync.line_owner.Opportunity", "salesforce", path) == "salesforce"
    config = SyncConfig.from_settings(load_settings(path).settings)
    assert config.line_owner == {"Opportunity": "salesforce"}
    with pytest.raises(ConfigError) as refused:
        set_setting("sync.line_owner.Opportunity", "quickbooks", path)
    assert "line_owner" in str(refused.value)


@pytest.mark.parametrize("order", ORDERS)
def test_a_salesforce_change_to_a_paid_invoice_warns_with_the_new_open_balance(world, passes, clock, order) -> None:
    opportunity, txn_id, _ = _synced_invoice(world, passes)
    invoice = world.qb_sim.get(txn_id)
    total = Decimal(invoice["Subtotal"])
    world.qb_sim.add("ReceivePayment", {"CustomerRef": {"ListID": invoice["CustomerRef"]["ListID"]},
                                        "TotalAmount": f"{total:.2f}", "IsAutoApply": "true"})
    assert Decimal(world.qb_sim.get(txn_id)["BalanceRemaining"]) == 0
    first = _lines(world, txn_id)[0]
    clock.advance(60)
    world.sf_state.update("OpportunityLineItem", _line_item_behind(world, first), {"Quantity": 10})
    world.sf_state.update("Opportunity", opportunity, {"Description": "ten of the first"})

    run(passes, "newest", order)

    balance = Decimal(world.qb_sim.get(txn_id)["BalanceRemaining"])
    assert balance == Decimal(first["Rate"]) * (10 - Decimal(first["Quantity"]))
    (warning,) = activity(world, "paid_invoice")
    assert "payments applied" in warning and f"open balance now {balance:.2f}" in warning
    (shown,) = world.sf_state.records("QB_Invoice__c")
    assert Decimal(str(shown["Balance__c"])) == balance, "Salesforce shows the new open balance too"
    _quiet_cycle(world, passes, "newest", order, txn_id)


@pytest.mark.parametrize("owner", ["both", "salesforce"])
def test_an_item_group_added_in_quickbooks_survives_a_salesforce_line_edit(world, passes, clock, owner) -> None:
    opportunity, txn_id, _ = _synced_invoice(world, passes)
    items = world.qb_sim.items()
    world.qb_sim.add("ItemGroup", {"Name": "Install Kit", "ItemGroupLine": [
        {"ItemRef": {"ListID": items[0]["ListID"]}, "Quantity": "1"}]})
    lines = _lines(world, txn_id)
    world.qb_sim.modify(txn_id, {"InvoiceLineMod": [{"TxnLineID": line["TxnLineID"]} for line in lines],
                                 "InvoiceLineGroupMod": [{"TxnLineID": "-1",
                                                          "ItemGroupRef": {"FullName": "Install Kit"}}]})
    (group,) = world.qb_sim.get(txn_id)["InvoiceLineGroupRet"]
    clock.advance(60)
    world.sf_state.update("OpportunityLineItem", _line_item_behind(world, lines[0]), {"Quantity": 4})
    world.sf_state.update("Opportunity", opportunity, {"Description": "four of the first"})

    run(passes, "newest", "sf_first", line_owner={"Opportunity": owner})

    invoice = world.qb_sim.get(txn_id)
    assert [g["TxnLineID"] for g in invoice["InvoiceLineGroupRet"]] == [group["TxnLineID"]], "the group stays"
    edited = {line["TxnLineID"]: line for line in invoice["InvoiceLineRet"]}[lines[0]["TxnLineID"]]
    assert Decimal(edited["Quantity"]) == 4


# ---- a line deleted on one side and edited on the other ---------------------------------------------------------
def _qb_remove(world, txn_id: str, txn_line_id: str) -> None:
    """The bookkeeper deletes one line in QuickBooks (an InvoiceMod that leaves it out)."""
    keep = [{"TxnLineID": line["TxnLineID"]} for line in _lines(world, txn_id) if line["TxnLineID"] != txn_line_id]
    world.qb_sim.modify(txn_id, {"InvoiceLineMod": keep})


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("policy", "last", "winner"), POLICIES)
def test_a_line_deleted_in_quickbooks_and_edited_in_salesforce_follows_the_policy(world, passes, clock,
                                                                                   shown_everywhere, policy, last,
                                                                                   winner, order) -> None:
    opportunity, txn_id, _ = _synced_invoice(world, passes)
    first, second = _lines(world, txn_id)
    item_id = _line_item_behind(world, first)

    def salesforce() -> None:
        world.sf_state.update("OpportunityLineItem", item_id, {"Quantity": 9})
        world.sf_state.update("Opportunity", opportunity, {"Description": "nine of the first"})

    edits = [("salesforce", salesforce), ("quickbooks", lambda: _qb_remove(world, txn_id, first["TxnLineID"]))]
    for _side, edit in sorted(edits, key=lambda e: e[0] == last):
        clock.advance(60)
        edit()

    run(passes, policy, order, strict=winner == "salesforce")

    lines = _lines(world, txn_id)
    if winner == "salesforce":
        assert [Decimal(line["Quantity"]) for line in lines if line["ItemRef"] == first["ItemRef"]] == [9], \
            "Salesforce's edited line is back in QuickBooks"
        assert second["TxnLineID"] in {line["TxnLineID"] for line in lines}
        (logged,) = activity(world, "conflict")
        assert "QuickBooks 'deleted'" in logged and "Salesforce 'changed'" in logged and "salesforce wins" in logged
        _quiet_cycle(world, passes, policy, order, txn_id)
        return
    assert [line["TxnLineID"] for line in lines] == [second["TxnLineID"]], "QuickBooks' deletion stands"
    assert world.sf_state.get("OpportunityLineItem", item_id)["Quantity"] == 9
    shown_everywhere("Opportunity", "line 1 (QuickBooks 'deleted', Salesforce 'changed')",
                     "set sync.conflict_policy = salesforce")
    # The line is deleted in Salesforce too: the two agree and the failure closes.
    clock.advance(60)
    world.sf_state.delete("OpportunityLineItem", item_id)
    world.sf_state.update("Opportunity", opportunity, {"Description": "first line dropped"})
    run(passes, policy, order, cycles=1)
    assert world.state.failures() == []
    _quiet_cycle(world, passes, policy, order, txn_id)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("policy", "last", "winner"), POLICIES)
def test_a_line_deleted_in_salesforce_and_edited_in_quickbooks_follows_the_policy(world, passes, clock,
                                                                                   shown_everywhere, policy, last,
                                                                                   winner, order) -> None:
    opportunity, txn_id, _ = _synced_invoice(world, passes)
    first, second = _lines(world, txn_id)
    item_id = _line_item_behind(world, first)

    def salesforce() -> None:
        world.sf_state.delete("OpportunityLineItem", item_id)
        world.sf_state.update("Opportunity", opportunity, {"Description": "first line dropped"})

    edits = [("salesforce", salesforce),
             ("quickbooks", lambda: _qb_edit(world, txn_id, {first["TxnLineID"]: {"Rate": "77.00"}}))]
    for _side, edit in sorted(edits, key=lambda e: e[0] == last):
        clock.advance(60)
        edit()

    run(passes, policy, order, strict=winner == "salesforce")

    lines = {line["TxnLineID"]: line for line in _lines(world, txn_id)}
    if winner == "salesforce":
        assert list(lines) == [second["TxnLineID"]], "the line Salesforce deleted is gone from QuickBooks too"
        (logged,) = activity(world, "conflict")
        assert "QuickBooks 'changed'" in logged and "Salesforce 'deleted'" in logged and "salesforce wins" in logged
        _quiet_cycle(world, passes, policy, order, txn_id)
        return
    assert Decimal(lines[first["TxnLineID"]]["Rate"]) == 77, "the bookkeeper's edited line stays"
    assert item_id not in {item["Id"] for item in world.sf_state.records("OpportunityLineItem")}
    shown_everywhere("Opportunity", "(QuickBooks 'changed', Salesforce 'deleted')",
                     "set sync.conflict_policy = salesforce")
    # The bookkeeper deletes the line too: gone on both sides, the failure closes.
    clock.advance(60)
    _qb_remove(world, txn_id, first["TxnLineID"])
    world.sf_state.update("Opportunity", opportunity, {"Description": "agreed"})
    run(passes, policy, order, cycles=1)
    assert world.state.failures() == []
    _quiet_cycle(world, passes, policy, order, txn_id)
