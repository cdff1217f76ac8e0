"""The Opportunity's synced quote → a QuickBooks estimate, end to end on both emulators: only the quote the
opportunity syncs with is sent, its lines are replaced like an invoice's, and the estimate's active state comes back
to the Quote (QB_Estimate_Active__c)."""

from __future__ import annotations

from typing import Any

import pytest

from qbsf.sync.inbound import InboundConfig, InboundSync


@pytest.fixture
def deal(world) -> dict[str, Any]:
    """An Account, two products priced in the standard book and an opportunity, the parents synced to QuickBooks."""
    sf = world.sf_state
    account = sf.insert("Account", {"Name": "Quote Buyer Co"})
    entries = {}
    for name, price in (("Survey", 250), ("Report", 90)):
        product = sf.insert("Product2", {"Name": name, "IsActive": True, "QB_Sales_Price__c": price})
        entries[name] = sf.insert("PricebookEntry", {"Pricebook2Id": sf.standard_pricebook_id, "Product2Id": product,
                                                     "UnitPrice": price, "IsActive": True})
    opportunity = sf.insert("Opportunity", {"Name": "Site survey", "StageName": "Proposal/Price Quote",
                                            "CloseDate": "2026-06-30", "AccountId": account,
                                            "Pricebook2Id": sf.standard_pricebook_id})
    report = world.engine().sync_sf_to_qb(["Account", "Product2"])
    assert report.ok, report.failures
    return {"account": account, "opportunity": opportunity, **entries}


def _quote(world, deal: dict[str, Any], name: str, lines: list[tuple[str, int]]) -> str:
    sf = world.sf_state
    quote = sf.insert("Quote", {"Name": name, "OpportunityId": deal["opportunity"], "ExpirationDate": "2026-07-15"})
    for product, quantity in lines:
        sf.insert("QuoteLineItem", {"QuoteId": quote, "PricebookEntryId": deal[product], "Quantity": quantity,
                                    "UnitPrice": sf.get("PricebookEntry", deal[product])["UnitPrice"]})
    return quote


def _sync_quote(world, deal: dict[str, Any], quote: str) -> None:
    world.sf_state.update("Opportunity", deal["opportunity"], {"SyncedQuoteId": quote})


def _estimate(world, quote: str) -> dict[str, Any]:
    txn_id = world.sf_state.get("Quote", quote).get("QB_Estimate_ID__c")
    assert txn_id, "the Quote holds no estimate id"
    found = world.qb_sim.get(txn_id)
    assert found is not None
    return found


def _lines(estimate: dict[str, Any]) -> list[tuple[str, str]]:
    return [(line["ItemRef"]["FullName"], line["Quantity"]) for line in estimate.get("EstimateLineRet", [])]


def _inbound(world) -> InboundSync:
    return InboundSync(InboundConfig(), world.sf, world.qb, world.state, world.mappings, clock=world.qb_sim.now)


def test_only_the_opportunitys_synced_quote_becomes_an_estimate(world, deal) -> None:
    draft = _quote(world, deal, "Option A", [("Survey", 1)])
    chosen = _quote(world, deal, "Option B", [("Survey", 2), ("Report", 1)])
    assert world.engine().sync_sf_to_qb(["Quote"]).ok
    assert world.qb_sim.estimates() == []  # no quote syncs with the opportunity yet
    _sync_quote(world, deal, chosen)
    report = world.engine().sync_sf_to_qb(["Quote"])
    assert report.ok, report.failures
    estimate = _estimate(world, chosen)
    number = world.sf_state.get("Quote", chosen)["QuoteNumber"]
    assert (estimate["CustomerRef"]["FullName"], estimate["RefNumber"], estimate["DueDate"], estimate["Memo"]) == (
        "Quote Buyer Co", number, "2026-07-15", "Quote: Option B")
    assert _lines(estimate) == [("Survey", "2"), ("Report", "1")]
    assert estimate["TotalAmount"] == "590.00"
    assert len(world.qb_sim.estimates()) == 1
    assert world.sf_state.get("Quote", draft).get("QB_Estimate_ID__c") is None


def test_a_quote_line_removed_in_salesforce_is_removed_from_the_estimate(world, deal) -> None:
    quote = _quote(world, deal, "Option B", [("Survey", 2), ("Report", 1)])
    _sync_quote(world, deal, quote)
    assert world.engine().sync_sf_to_qb(["Quote"]).ok
    before = _estimate(world, quote)
    survey_line = before["EstimateLineRet"][0]["TxnLineID"]
    sf = world.sf_state
    (survey, report_line) = sorted(sf.records("QuoteLineItem"), key=lambda line: line["LineNumber"])
    sf.delete("QuoteLineItem", report_line["Id"])
    sf.update("QuoteLineItem", survey["Id"], {"Quantity": 3})
    report = world.engine().sync_sf_to_qb(["Quote"])
    assert report.ok, report.failures
    after = _estimate(world, quote)
    assert after["TxnID"] == before["TxnID"] and _lines(after) == [("Survey", "3")]
    assert after["EstimateLineRet"][0]["TxnLineID"] == survey_line


def test_an_estimate_made_inactive_in_quickbooks_shows_on_the_quote(world, deal) -> None:
    quote = _quote(world, deal, "Option B", [("Survey", 1)])
    _sync_quote(world, deal, quote)
    assert world.engine().sync_sf_to_qb(["Quote"]).ok
    estimate = _estimate(world, quote)
    assert _inbound(world).run(["Estimate"]).ok
    assert world.sf_state.get("Quote", quote)["QB_Estimate_Active__c"] is True
    world.qb_sim.advance(60)
    world.qb_sim.modify(estimate["TxnID"], {"IsActive": "false"})
    report = _inbound(world).run(["Estimate"])
    assert report.ok, report.failures
    assert world.sf_state.get("Quote", quote)["QB_Estimate_Active__c"] is False
    # The Quote's own change (qbsf's write) is not sent back to QuickBooks.
    edit_sequence = world.qb_sim.get(estimate["TxnID"])["EditSequence"]
    assert world.engine().sync_sf_to_qb(["Quote"]).ok
    assert world.qb_sim.get(estimate["TxnID"])["EditSequence"] == edit_sequence


def test_another_quote_synced_instead_is_sent_and_the_first_reported(world, deal) -> None:
    first = _quote(world, deal, "Option A", [("Survey", 1)])
    second = _quote(world, deal, "Option B", [("Report", 2)])
    _sync_quote(world, deal, first)
    assert world.engine().sync_sf_to_qb(["Quote"]).ok
    kept = _estimate(world, first)
    _sync_quote(world, deal, second)
    report = world.engine(lifecycle_check_minutes=0).sync_sf_to_qb()  # a whole pass: with its life-cycle check
    assert report.ok, report.failures
    assert _lines(_estimate(world, second)) == [("Report", "2")]
    # the first estimate stays in QuickBooks, and the user is told the quote no longer syncs
    assert world.qb_sim.get(kept["TxnID"]) is not None
    from qbsf.sync.lifecycle import Notices

    assert [(n.sf_id, n.kind) for n in Notices(world.state).open("Quote")] == [(first, "ineligible")]


def test_an_estimate_made_in_quickbooks_creates_no_quote(world, deal) -> None:
    customer = world.customer_named("Quote Buyer Co")
    (item,) = [i for i in world.qb_sim.items() if i["Name"] == "Survey"]
    world.qb_sim.add("Estimate", {"CustomerRef": {"ListID": customer["ListID"]},
                                  "EstimateLineAdd": [{"ItemRef": {"ListID": item["ListID"]}, "Quantity": "1"}]})
    report = _inbound(world).run(["Estimate"])
    assert report.ok, report.failures
    assert world.sf_state.records("Quote") == []
    assert report.entities["Estimate"].skipped == 1
