"""Both directions together: conflicts under each policy, and a round trip that costs nothing on the echo."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qbsf.bench.outbound import seed_org
from qbsf.sync.conflicts import ConflictPolicy
from qbsf.sync.state import Direction


def _account_by_qb_id(world, list_id: str) -> dict:
    (account,) = [a for a in world.sf_state.records("Account") if a.get("QB_Customer_ID__c") == list_id]
    return account


@pytest.mark.parametrize(("policy", "qb_later", "winner"), [
    ("quickbooks", False, "quickbooks"),
    ("salesforce", True, "salesforce"),
    ("newest", True, "quickbooks"),
    ("newest", False, "salesforce"),
])
def test_conflict_is_decided_by_the_policy_and_logged_with_both_values(world, inbound, policy, qb_later,
                                                                       winner) -> None:
    customer = world.qb_sim.add("Customer", {"Name": "Acme", "Phone": "555-0100", "Fax": "555-0900"})
    assert inbound().run(["Customer"]).ok
    account = _account_by_qb_id(world, customer["ListID"])
    # Both sides change Phone; QuickBooks also changes Fax, which Salesforce left alone (not a conflict).
    start = world.qb_sim.now()
    world.qb_sim.advance(120)
    world.qb_sim.modify(customer["ListID"], {"Phone": "555-QB", "Fax": "555-0999"})
    # Salesforce's edit lands a minute before or an hour after QuickBooks' (its clock is set for the test).
    sf_moment = start + (timedelta(minutes=1) if qb_later else timedelta(hours=1))
    world.sf_state.clock = lambda: sf_moment
    world.sf_state.update("Account", account["Id"], {"Phone": "555-SF"})

    report = inbound(conflict_policy=ConflictPolicy.parse(policy)).run(["Customer"])
    assert report.ok and report.entities["Customer"].conflicts == 1
    account = world.sf_state.get("Account", account["Id"])
    assert account["Phone"] == ("555-QB" if winner == "quickbooks" else "555-SF")
    assert account["Fax"] == "555-0999", "a field changed on one side only always syncs"
    (logged,) = [a for a in world.state.recent(20, direction=Direction.QB_TO_SF) if a.operation == "conflict"]
    assert "QuickBooks '555-QB'" in logged.message and "Salesforce '555-SF'" in logged.message
    assert f"{winner} wins" in logged.message and logged.sf_id == account["Id"]


def test_salesforce_win_is_carried_to_quickbooks_by_the_outbound_sync(world, inbound) -> None:
    seeded = seed_org(world.sf_state, accounts=1)
    assert world.engine().run_cycle().ok
    account = world.sf_state.get("Account", seeded.accounts[0])
    list_id = account["QB_Customer_ID__c"]
    assert inbound(conflict_policy=ConflictPolicy.SALESFORCE).run(["Customer"]).ok
    world.sf_state.update("Account", account["Id"], {"Phone": "(415) 555-7777"})
    world.qb_sim.advance(60)
    world.qb_sim.modify(list_id, {"Phone": "(415) 555-1111"})
    report = inbound(conflict_policy=ConflictPolicy.SALESFORCE).run(["Customer"])
    assert report.entities["Customer"].conflicts == 1
    assert world.engine().run_cycle().ok
    assert world.qb_sim.get(list_id)["Phone"] == "(415) 555-7777"
    assert world.sf_state.get("Account", account["Id"])["Phone"] == "(415) 555-7777"
    # The outbound Mod is qbsf's own write: reading it back costs no Salesforce call.
    assert inbound(conflict_policy=ConflictPolicy.SALESFORCE).run(["Customer"]).sf_calls == 0


def test_round_trip_leaves_both_sides_unchanged_and_spends_nothing_on_the_echo(world, inbound) -> None:
    seeded = seed_org(world.sf_state, accounts=5, products=3, opportunities=2, lines=2)
    assert world.engine().run_cycle().ok
    before_sf = {name: {r["Id"]: dict(r) for r in world.sf_state.records(name)} for name in ("Account", "Product2")}
    before_qb = {c["ListID"]: c["EditSequence"] for c in world.customers() + world.qb_sim.items()}

    report = inbound().run()
    assert report.ok, report.failures
    assert report.entities["Customer"].echoes == 5 and report.entities["Item"].echoes == 3
    assert report.total("updated") == 0 and report.entities["Invoice"].created == 2
    assert report.sf_calls == 1, "Accounts and Products cost nothing; one upsert creates the two QB_Invoice__c"
    after_sf = {name: {r["Id"]: dict(r) for r in world.sf_state.records(name)} for name in ("Account", "Product2")}
    assert after_sf == before_sf, "Salesforce is unchanged (not even SystemModstamp)"
    invoice = world.sf_state.records("QB_Invoice__c")[0]
    opportunity_ids = set(seeded.opportunities)
    assert invoice["Opportunity__c"] in opportunity_ids, "the invoice knows the Opportunity it came from"
    assert invoice["Linked_Account__c"] in before_sf["Account"]

    outbound = world.engine().run_cycle()
    assert outbound.ok and outbound.qb_messages == 0, "nothing to send back to QuickBooks"
    assert {c["ListID"]: c["EditSequence"] for c in world.customers() + world.qb_sim.items()} == before_qb
    again = inbound().run()
    assert again.ok and again.sf_calls == 0 and again.total("queried") == 0


def test_records_created_in_quickbooks_are_linked_so_the_outbound_sync_never_duplicates_them(world, inbound) -> None:
    world.qb_sim.add("Customer", {"Name": "Made in QuickBooks", "Phone": "555-0100"})
    assert inbound().run(["Customer"]).ok
    report = world.engine().run_cycle()
    assert report.ok and report.total("created") == 0
    assert [c["Name"] for c in world.customers()] == ["Made in QuickBooks"]
    assert len(world.sf_state.records("Account")) == 1
    link = world.state.links("Account")[0]
    assert link.qb_id == world.customers()[0]["ListID"] and link.written_back


def test_the_connectors_clock_is_not_the_watermark(world, inbound) -> None:
    """QuickBooks' clock running hours behind the connector's must not hide its changes."""
    world.qb_sim.set_clock(datetime.now(UTC) - timedelta(hours=5))
    customer = world.qb_sim.add("Customer", {"Name": "Slow clock"})
    assert inbound().run(["Customer"]).ok
    world.qb_sim.advance(1)
    world.qb_sim.modify(customer["ListID"], {"Phone": "555-0101"})
    assert inbound().run(["Customer"]).entities["Customer"].updated == 1
    assert _account_by_qb_id(world, customer["ListID"])["Phone"] == "555-0101"


def test_quickbooks_win_survives_the_following_outbound_pass(world, inbound) -> None:
    seeded = seed_org(world.sf_state, accounts=1)
    assert world.engine().run_cycle().ok
    account = world.sf_state.get("Account", seeded.accounts[0])
    list_id = account["QB_Customer_ID__c"]
    assert inbound().run(["Customer"]).ok
    world.sf_state.update("Account", account["Id"], {"Phone": "(415) 555-7777"})
    world.qb_sim.advance(60)
    world.qb_sim.modify(list_id, {"Phone": "(415) 555-1111"})
    report = inbound(conflict_policy=ConflictPolicy.QUICKBOOKS).run(["Customer"])
    assert report.entities["Customer"].conflicts == 1
    sequence = world.qb_sim.get(list_id)["EditSequence"]
    outbound = world.engine().run_cycle()
    assert outbound.ok and outbound.total("failed") == 0
    assert world.qb_sim.get(list_id)["Phone"] == "(415) 555-1111", "QuickBooks' value stays in QuickBooks"
    assert world.qb_sim.get(list_id)["EditSequence"] == sequence, "and nothing was written to QuickBooks"
    assert world.sf_state.get("Account", account["Id"])["Phone"] == "(415) 555-1111"
