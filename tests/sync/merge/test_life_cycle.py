"""Record life cycle: a synced Salesforce record deleted, merged, no longer eligible or changed in a way QuickBooks
cannot apply is never dropped silently — told in the log, the activity list and `sync status`, with what to do —
and qbsf does what ``sync.on_sf_gone`` says (report only by default)."""

from __future__ import annotations

import json
import logging

import pytest
from tests.sync.merge.support import activity, merge_in_salesforce, run, state_config

from qbsf.bench.outbound import seed_org
from qbsf.sync.lifecycle import Notices


def _cycle(world, passes, **settings) -> None:
    run(passes, "newest", "sf_first", cycles=1, lifecycle_check_minutes=0, **settings)


def _status_json(world, tmp_path) -> dict:
    """`qbsf sync status --json` over the world's state database."""
    from typer.testing import CliRunner

    from qbsf.app.cli import app

    result = CliRunner().invoke(app, ["sync", "--config", str(state_config(world, tmp_path)), "status", "--json"])
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

    (told,) = activity(world, "ineligible")
    assert "Opportunity" in told and "no longer meets the sync condition" in told and "To do:" in told
    assert any("no longer meets the sync condition" in r.getMessage() for r in caplog.records)
    (notice,) = Notices(world.state).open()
    assert (notice.entity, notice.sf_id, notice.kind) == ("Opportunity", seeded.opportunities[0], "ineligible")
    after = world.qb_sim.get(invoice["TxnID"])
    assert ("deal no longer Closed Won" in (after.get("Memo") or "")) is memo
    _cycle(world, passes, on_sf_gone={"Opportunity": action})
    assert len(activity(world, "ineligible")) == 1, "told once"
    # Back to Closed Won: it syncs again and the notice is closed.
    world.sf_state.update("Opportunity", seeded.opportunities[0], {"StageName": "Closed Won",
                                                                   "Description": "won after all"})
    _cycle(world, passes)
    assert Notices(world.state).open() == []


def test_a_lost_deals_unpaid_invoice_is_voided_and_a_paid_one_reported_with_what_to_do(world, passes,
                                                                                        tmp_path) -> None:
    from decimal import Decimal

    seeded = seed_org(world.sf_state, accounts=3, products=2, opportunities=3, lines=2)
    _cycle(world, passes)
    unpaid, paid, deleted = (world.state.lookup("Opportunity", o).qb_id for o in seeded.opportunities)
    before = {txn: world.qb_sim.get(txn) for txn in (unpaid, paid)}
    world.qb_sim.add("ReceivePayment", {"CustomerRef": {"ListID": before[paid]["CustomerRef"]["ListID"]},
                                        "TotalAmount": before[paid]["Subtotal"], "AppliedToTxnAdd": [
                                            {"TxnID": paid, "PaymentAmount": before[paid]["Subtotal"]}]})
    for opportunity in seeded.opportunities[:2]:
        world.sf_state.update("Opportunity", opportunity, {"StageName": "Closed Lost"})
    world.sf_state.delete("Opportunity", seeded.opportunities[2])

    _cycle(world, passes, on_sf_gone={"Opportunity": "void"})

    voided = world.qb_sim.get(unpaid)
    assert voided["Memo"] == "VOID: " + before[unpaid]["Memo"] and Decimal(voided["Subtotal"]) == 0
    assert [(line["TxnLineID"], Decimal(line["Amount"])) for line in voided["InvoiceLineRet"]] == [
        (line["TxnLineID"], 0) for line in before[unpaid]["InvoiceLineRet"]], "lines kept, at zero"
    kept = world.qb_sim.get(paid)
    assert (kept["Memo"], kept["Subtotal"]) == (before[paid]["Memo"], before[paid]["Subtotal"]), "never voided"
    told = {n.qb_id: n.message for n in Notices(world.state).open()}
    assert "was voided" in told[unpaid] and "makes a new invoice" in told[unpaid]
    assert "payments applied" in told[paid] and "never voids an invoice with payments applied" in told[paid]
    assert "was deleted in Salesforce" in told[deleted] and "was voided" in told[deleted]
    assert world.qb_sim.get(deleted)["Memo"].startswith("VOID: ")
    status = _status_json(world, tmp_path)
    assert any("never voids" in n["message"] for n in status["notices"])
    assert world.state.lookup("Opportunity", seeded.opportunities[0]) is None, "the voided invoice is let go"

    # The deal comes back: a new invoice, the voided one stays as QuickBooks keeps it.
    world.sf_state.update("Opportunity", seeded.opportunities[0], {"StageName": "Closed Won"})
    _cycle(world, passes, on_sf_gone={"Opportunity": "void"})
    fresh = world.state.lookup("Opportunity", seeded.opportunities[0]).qb_id
    assert fresh != unpaid and Decimal(world.qb_sim.get(fresh)["Subtotal"]) == Decimal(before[unpaid]["Subtotal"])
    assert world.qb_sim.get(unpaid)["Memo"].startswith("VOID: ")
    assert sorted(n.qb_id for n in Notices(world.state).open()) == sorted([paid, deleted])


def test_the_void_setting_is_declared_and_reaches_the_engine(tmp_path) -> None:
    from qbsf.app.settings import load_settings, set_setting
    from qbsf.errors import ConfigError
    from qbsf.sync.engine import SyncConfig

    path = tmp_path / "qbsf.toml"
    assert set_setting("sync.on_sf_gone.Opportunity", "void", path) == "void"
    assert SyncConfig.from_settings(load_settings(path).settings).on_sf_gone == {"Opportunity": "void"}
    with pytest.raises(ConfigError) as refused:
        set_setting("sync.on_sf_gone.Opportunity", "delete", path)
    assert "on_sf_gone" in str(refused.value)


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
    (told,) = activity(world, "deleted")
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
    assert not [m for m in activity(world, "add") + activity(world, "sync") if account["Id"] in m]
    assert [c["ListID"] for c in world.customers()] == [list_id], "never a second customer"


def test_two_merged_accounts_leave_no_silent_orphan(world, passes) -> None:
    seeded = seed_org(world.sf_state, accounts=2)
    _cycle(world, passes)
    winner, loser = (world.sf_state.get("Account", i) for i in seeded.accounts)
    merge_in_salesforce(world, winner, loser)

    _cycle(world, passes)

    (told,) = activity(world, "merged")
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


# ---- the check's reads ride in the cycle's one composite call --------------------------------------------------
def test_the_life_cycle_check_reads_inside_the_cycles_one_composite_call(world, passes, monkeypatch) -> None:
    from qbsf.sync.cycle_reads import read_in_one_call

    seeded = seed_org(world.sf_state, accounts=2, contacts=2, products=2, opportunities=2, lines=2)
    _cycle(world, passes)
    world.sf_state.delete("Contact", seeded.contacts[1])
    world.sf_state.update("Opportunity", seeded.opportunities[0], {"StageName": "Closed Lost"})
    engine = world.engine(lifecycle_check_minutes=0)
    alone: list[str] = []
    for name in ("query", "query_all"):
        read = getattr(world.sf, name)
        monkeypatch.setattr(world.sf, name, lambda soql, _read=read, **kw: (alone.append(soql), _read(soql, **kw))[1])

    queries = engine.cycle_reads()
    engine.accept_cycle_reads(read_in_one_call(world.sf, queries))
    report = engine.sync_sf_to_qb()

    assert report.ok, report.failures
    checks = {r: q for r, q in queries.items() if "lifecycle" in r}
    assert len([r for r in checks if r.startswith("queryAll_")]) == 4, "deletions and merges, one per object"
    assert [q for q in checks.values() if "NOT (StageName = 'Closed Won')" in q], "the Opportunity no longer won"
    assert not set(checks.values()) & set(alone), "no life-cycle read ran on its own"
    assert sorted((n.entity, n.kind) for n in Notices(world.state).open()) == [("Contact", "deleted"),
                                                                               ("Opportunity", "ineligible")]
    # Not due again for an hour: the next cycle reads nothing for it.
    assert not [r for r in world.engine(lifecycle_check_minutes=60).cycle_reads() if "lifecycle" in r]


@pytest.mark.parametrize("older_package", [False, True])
def test_an_idle_connector_checking_the_life_cycle_every_cycle_adds_reads_not_calls_of_its_own(
        sf_state, older_package: bool) -> None:
    from qbsf.app.logging import configure_logging, reset_logging
    from qbsf.bench.idle import measure_idle

    configure_logging(console=False)
    try:
        result = measure_idle(2, accounts=2, deals=2, lifecycle_minutes=0, polling_interval=30, sf_state=sf_state,
                              older_package=older_package)
    finally:
        reset_logging()
    assert min(result.sf_queries_by_cycle) > 13, "the polls, sync requests and in-org reads, and the check's reads"
    if older_package:  # the check's queryAll reads ride in the cycle's composite calls, 5 queries a call
        assert result.sf_by_cycle == tuple(-(-queries // 5) for queries in result.sf_queries_by_cycle), result
    else:  # every read, the check's too, in the one call to the package's cycle resource
        assert result.sf_by_cycle == (1, 1), result
        assert result.first_idle_calls == ("POST apexrest/qbsf/cycle",), result.first_idle_calls
