"""`qbsf link`: records already on both sides are proposed, accepted into the crosswalk and Salesforce, and synced
afterwards without duplicates."""

from __future__ import annotations

import pytest

from qbsf.errors import ConfigError
from qbsf.sync.entities import ACCOUNT, CONTACT, OPPORTUNITY, PRODUCT
from qbsf.sync.linking import accept, propose, unlink


def _both_sides(world) -> dict[str, str]:
    sf = world.sf_state
    ids = {
        "acme": sf.insert("Account", {"Name": "Acme, Inc.", "Phone": "(415) 555-0100"}),
        "globex": sf.insert("Account", {"Name": "Globex", "Phone": "+1 415 555 0199"}),
        "solo": sf.insert("Account", {"Name": "Only In Salesforce"}),
    }
    ids["ada"] = sf.insert("Contact", {"FirstName": "Ada", "LastName": "Lovelace", "AccountId": ids["acme"],
                                       "Email": "ada@acme.example"})
    ids["widget"] = sf.insert("Product2", {"Name": "widget", "IsActive": True})
    qb = world.qb_sim
    ids["q_acme"] = qb.add("Customer", {"Name": "ACME Inc", "Phone": "415-555-0100"})["ListID"]
    ids["q_globex"] = qb.add("Customer", {"Name": "Globex Corporation", "Phone": "415.555.0199"})["ListID"]
    ids["q_ada"] = qb.add("Customer", {"Name": "Ada Lovelace", "ParentRef": {"ListID": ids["q_acme"]},
                                       "Email": "ADA@acme.example"})["ListID"]
    ids["q_widget"] = qb.add("ItemService", {"Name": "Widget", "SalesOrPurchase": {
        "Price": "5.00", "AccountRef": {"FullName": "Sales"}}})["ListID"]
    qb.add("Customer", {"Name": "Only In QuickBooks"})
    return ids


def test_propose_by_name_then_phone(world) -> None:
    ids = _both_sides(world)
    engine = world.engine()
    plan = propose(ACCOUNT, engine.sf, engine.qb, world.state)
    assert sorted((p.sf_id, p.qb_id, p.reason) for p in plan.proposals) == sorted([
        (ids["acme"], ids["q_acme"], "name"), (ids["globex"], ids["q_globex"], "phone")])
    assert plan.sf_unmatched == 1 and plan.qb_unmatched == 1
    contacts = propose(CONTACT, engine.sf, engine.qb, world.state)
    assert [(p.sf_id, p.qb_id, p.qb_name) for p in contacts.proposals] == [
        (ids["ada"], ids["q_ada"], "ACME Inc:Ada Lovelace")]
    products = propose(PRODUCT, engine.sf, engine.qb, world.state)
    assert [(p.sf_id, p.qb_id) for p in products.proposals] == [(ids["widget"], ids["q_widget"])]


def test_accepted_links_are_stored_written_back_and_then_synced_without_duplicates(world) -> None:
    ids = _both_sides(world)
    engine = world.engine()
    for spec in (ACCOUNT, CONTACT, PRODUCT):
        plan = propose(spec, engine.sf, engine.qb, world.state)
        assert accept(spec, plan.proposals, engine.sf, engine.qb, world.state) == len(plan.proposals)
    assert world.sf_state.get("Account", ids["acme"])["QB_Customer_ID__c"] == ids["q_acme"]
    assert world.sf_state.get("Contact", ids["ada"])["QB_Customer_ID__c"] == ids["q_ada"]
    assert world.state.lookup("Product2", ids["widget"]).qb_id == ids["q_widget"]
    assert world.state.pending_write_backs("Account") == []
    before = len(world.customers())
    report = engine.run_cycle()
    assert report.ok, report.failures
    assert report.entities["Account"].created == 1, "only the Salesforce-only Account is new"
    assert report.entities["Account"].updated == 2 and report.entities["Contact"].updated == 1
    assert len(world.customers()) == before + 1
    assert world.qb_sim.get(ids["q_acme"])["Name"] == "Acme, Inc.", "Salesforce is the source for outbound fields"
    assert propose(ACCOUNT, engine.sf, engine.qb, world.state).proposals == []
    linked = [a for a in world.state.recent(50) if a.operation == "link"]
    assert len(linked) == 4


def test_unlink_forgets_both_sides(world) -> None:
    ids = _both_sides(world)
    engine = world.engine()
    accept(ACCOUNT, propose(ACCOUNT, engine.sf, engine.qb, world.state).proposals, engine.sf, engine.qb,
           world.state)
    assert unlink(ACCOUNT, ids["acme"], engine.sf, world.state) is True
    assert world.state.lookup("Account", ids["acme"]) is None
    assert world.sf_state.get("Account", ids["acme"]).get("QB_Customer_ID__c") is None
    assert unlink(ACCOUNT, ids["acme"], engine.sf, world.state) is False


def test_invoices_are_not_linked_by_name(world) -> None:
    engine = world.engine()
    with pytest.raises(ConfigError, match="cannot be linked by name"):
        propose(OPPORTUNITY, engine.sf, engine.qb, world.state)
