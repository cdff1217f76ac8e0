"""Record life cycle: a synced Salesforce record deleted, merged, no longer eligible or changed in a way QuickBooks
cannot apply is never dropped silently — told in the log, the activity list and `sync status`, with what to do —
and qbsf does what ``sync.on_sf_gone`` says (report only by default)."""

from __future__ import annotations

import json
import logging

import pytest

from qbsf.bench.outbound import seed_org
from qbsf.sync.lifecycle import Notices


def _cycle(world, passes, **settings) -> None:
    cycle = passes("newest", lifecycle_check_minutes=0, **settings)
    cycle["sf_to_qb"]()
    cycle["qb_to_sf"]()


def _activity(world, operation: str) -> list[str]:
    return [a.message or "" for a in world.state.recent(500) if a.operation == operation]


def _status_json(world, tmp_path) -> dict:
    """`qbsf sync status --json` over the world's state database."""
    from typer.testing import CliRunner

    from qbsf.app.cli import app

    config = tmp_path / "qbsf.toml"
    config.write_text(f'state_url = "sqlite:///{world.state.engine.url.database}"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["sync", "--config", str(config), "status", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.parametrize(("action", "memo"), [("report", False), ("memo", True)])
def test_an_opportunity_no_longer_closed_won_after_invoicing_is_told_and_handled(world, passes, caplog, action,
                                                                                   memo) -> None:
    seeded = seed_org(world.sf_state, accounts=1, products=2, opportunities=1, lines=2)
    _cycle(world, passes)
    (invoice,) = world.qb_sim.invoices()
    world.sf_state.update("Opportunity", seeded.opportunities[0], {"StageName": "Closed Lost"})

    with caplog.at_level(logging.WARNING):
        _cycle(world, passes, on_sf_gone={"Opportunity": action})

    (told,) = _activity(world, "ineligible")
    assert "Opportunity" in told and "no longer meets the sync condition" in told and "To do:" in told
    assert any("no longer meets the sync condition" in r.getMessage() for r in caplog.records)
    (notice,) = Notices(world.state).open()
    assert (notice.entity, notice.sf_id, notice.kind) == ("Opportunity", seeded.opportunities[0], "ineligible")
    after = world.qb_sim.get(invoice["TxnID"])
    assert ("deal no longer Closed Won" in (after.get("Memo") or "")) is memo
    _cycle(world, passes, on_sf_gone={"Opportunity": action})
    assert len(_activity(world, "ineligible")) == 1, "told once"
    # Back to Closed Won: it syncs again and the notice is closed.
    world.sf_state.update("Opportunity", seeded.opportunities[0], {"StageName": "Closed Won",
                                                                   "Description": "won after all"})
    _cycle(world, passes)
    assert Notices(world.state).open() == []


def test_a_deleted_account_is_told_its_customer_made_inactive_and_a_recreated_one_relinked(world, passes,
                                                                                          tmp_path) -> None:
    seeded = seed_org(world.sf_state, accounts=1)
    _cycle(world, passes)
    account = world.sf_state.get("Account", seeded.accounts[0])
    list_id = account["QB_Customer_ID__c"]
    # An invoice made in QuickBooks for the customer, shown in Salesforce against the Account.
    item = world.qb_sim.add("ItemService", {"Name": "Consulting", "SalesOrPurchase": {
        "Price": "100.00", "AccountRef": {"FullName": "Sales"}}})
    invoice = world.qb_sim.add("Invoice", {"CustomerRef": {"ListID": list_id}, "InvoiceLineAdd": [
        {"ItemRef": {"ListID": item["ListID"]}, "Quantity": "1"}]})
    _cycle(world, passes)
    (shown,) = world.sf_state.records("QB_Invoice__c")
    assert shown["Linked_Account__c"] == account["Id"] and shown["QB_Invoice_ID__c"] == invoice["TxnID"]
    world.sf_state.delete("Account", account["Id"])

    _cycle(world, passes, on_sf_gone={"Account": "inactivate"})

    assert world.qb_sim.get(list_id)["IsActive"] == "false"
    (told,) = _activity(world, "deleted")
    assert "was deleted in Salesforce" in told and "made inactive" in told and "Recycle Bin" in told
    status = _status_json(world, tmp_path)
    assert [n["kind"] for n in status["notices"]] == ["deleted"]

    # The Account is recreated under the same name: it takes over the customer, no error names the deleted one.
    recreated = world.sf_state.insert("Account", {"Name": account["Name"], "Phone": "(415) 555-3333"})
    _cycle(world, passes)
    assert world.state.lookup("Account", recreated).qb_id == list_id
    assert world.state.lookup("Account", account["Id"]) is None
    assert world.sf_state.get("Account", recreated)["QB_Customer_ID__c"] == list_id
    assert world.qb_sim.get(list_id)["Phone"] == "(415) 555-3333"
    assert Notices(world.state).open() == []
    assert world.sf_state.get("QB_Invoice__c", shown["Id"])["Linked_Account__c"] == recreated, \
        "the invoice shown against the deleted Account follows the recreated one"
    assert not [m for m in _activity(world, "add") + _activity(world, "sync") if account["Id"] in m]
    assert [c["ListID"] for c in world.customers()] == [list_id], "never a second customer"


def test_two_merged_accounts_leave_no_silent_orphan(world, passes) -> None:
    seeded = seed_org(world.sf_state, accounts=2)
    _cycle(world, passes)
    winner, loser = (world.sf_state.get("Account", i) for i in seeded.accounts)
    # What Salesforce's merge does to the loser: MasterRecordId names the survivor, then it is deleted.
    world.sf_state.update("Account", loser["Id"], {"MasterRecordId": winner["Id"]}, system=True)
    world.sf_state.delete("Account", loser["Id"])

    _cycle(world, passes)

    (told,) = _activity(world, "merged")
    assert f"was merged into Account {winner['Id']}" in told and "merge the two customers in QuickBooks" in told
    assert world.qb_sim.get(loser["QB_Customer_ID__c"])["IsActive"] == "true", "report only by default"
    assert [n.kind for n in Notices(world.state).open()] == ["merged"]


def test_an_item_type_changed_in_salesforce_fails_the_product_with_what_to_do(world, passes, tmp_path) -> None:
    seeded = seed_org(world.sf_state, products=1)
    _cycle(world, passes)
    product = world.sf_state.get("Product2", seeded.products[0])
    item = world.qb_sim.get(product["QB_Item_ID__c"])
    assert item["kind"] == "ItemService"
    world.sf_state.update("Product2", product["Id"], {"QB_Item_Type__c": "Inventory"})

    report = world.engine(lifecycle_check_minutes=0).sync_sf_to_qb()

    assert report.entities["Product2"].failed == 1 and report.entities["Product2"].unchanged == 0
    ((_, _, _, message),) = report.failures
    assert "cannot change an item's type" in message and "stays Service" in message
    (failure,) = world.state.failures(entity="Product2")
    assert "--unlink" in failure.message or "QB_Item_Type__c" in failure.message
    assert world.qb_sim.get(product["QB_Item_ID__c"])["kind"] == "ItemService"
    assert [f["id"] for f in _status_json(world, tmp_path)["failures"]] == [product["Id"]]
