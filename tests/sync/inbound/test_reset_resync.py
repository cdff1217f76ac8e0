"""Reset re-syncs and never loses data: every record written again, deleted ones recreated, nothing shortened."""

from __future__ import annotations

from tests.sync.inbound import support

LONG_STREET = "1200 Industrial Parkway Northeast, Building 7, Loading Dock Entrance C"  # 70 characters
LONG_NAME = "Northwind Traders International Holdings Group"  # 46 characters: QuickBooks keeps 41


def _synced_both_ways(world):
    """Two Accounts made in Salesforce (one with a 70-character street) and one Customer made in QuickBooks."""
    assert len(LONG_STREET) == 70
    long_one = world.sf_state.insert("Account", {"Name": LONG_NAME, "Phone": "555-0101",
                                                 "BillingStreet": LONG_STREET, "BillingCity": "Portland"})
    plain = world.sf_state.insert("Account", {"Name": "Plain Co", "Phone": "555-0102"})
    world.qb_sim.add("Customer", {"Name": "From QuickBooks", "Phone": "555-0103",
                                  "BillAddress": {"Addr1": "77 Harbor Road", "Addr2": "Suite 400", "City": "Salem"}})
    engine = world.engine()
    assert engine.run_cycle().ok
    first = engine.sync_qb_to_sf()
    assert first.ok, first.failures
    return engine, long_one, plain


def test_reset_writes_every_record_again_and_the_dashboard_and_cli_do_the_same(world) -> None:
    engine, _long_one, _plain = _synced_both_ways(world)
    assert engine.sync_qb_to_sf().total("updated") == 0, "nothing changed: nothing written"
    # The dashboard's Reset: the next pass (the scheduled one) writes every record again.
    engine.inbound.reset()
    dashboard = engine.sync_qb_to_sf(["Customer"])
    assert dashboard.ok, dashboard.failures
    assert (dashboard.total("updated"), dashboard.total("unchanged") + dashboard.total("echoes")) == (3, 0)
    assert engine.sync_qb_to_sf(["Customer"]).total("updated") == 0, "a reset re-sends once"
    # `qbsf sync qb-to-sf --reset` does the same.
    cli = engine.sync_qb_to_sf(["Customer"], reset=True)
    assert (cli.total("updated"), cli.total("created"), cli.total("unchanged") + cli.total("echoes")) == (3, 0, 0)
    assert len(world.sf_state.records("Account")) == 3 and len(world.customers()) == 3


def test_reset_never_shortens_a_salesforce_value_quickbooks_holds_only_in_part(world) -> None:
    engine, long_one, _plain = _synced_both_ways(world)
    customer = world.qb_sim.get(world.sf_state.get("Account", long_one)["QB_Customer_ID__c"])
    assert customer["Name"] == LONG_NAME[:41] and customer["BillAddress"]["Addr2"], "QuickBooks holds the short forms"
    report = engine.sync_qb_to_sf(reset=True)
    assert report.ok, report.failures
    account = world.sf_state.get("Account", long_one)
    assert (account["Name"], account["BillingStreet"], account["BillingCity"]) == (LONG_NAME, LONG_STREET, "Portland")
    # An edit in QuickBooks of another field reaches Salesforce; the long values still stay.
    world.qb_sim.advance(60)
    world.qb_sim.modify(customer["ListID"], {"Phone": "555-0199"})
    edited = engine.sync_qb_to_sf()
    assert edited.ok and edited.total("updated") == 1
    account = world.sf_state.get("Account", long_one)
    assert (account["Phone"], account["Name"], account["BillingStreet"]) == ("555-0199", LONG_NAME, LONG_STREET)
    # And nothing goes back to QuickBooks because of it.
    again = engine.run_cycle()
    assert again.ok and again.total("updated") == again.total("created") == 0


def test_a_street_over_two_quickbooks_lines_comes_back_whole(world) -> None:
    _synced_both_ways(world)
    account = support.one(world, "Account", "Name", "From QuickBooks")
    assert account["BillingStreet"] == "77 Harbor Road\nSuite 400"
    # Sent back through the outbound mapping it is the same two lines: no Mod, no echo.
    report = world.engine().run_cycle()
    assert report.ok and report.total("updated") == 0
    customer = world.qb_sim.get(account["QB_Customer_ID__c"])
    assert (customer["BillAddress"]["Addr1"], customer["BillAddress"]["Addr2"]) == ("77 Harbor Road", "Suite 400")


def test_an_account_deleted_in_salesforce_is_recreated_by_a_reset(world) -> None:
    engine, _long_one, plain = _synced_both_ways(world)
    list_id = world.sf_state.get("Account", plain)["QB_Customer_ID__c"]
    world.sf_state.delete("Account", plain)
    report = engine.sync_qb_to_sf(reset=True)
    assert report.ok, report.failures
    recreated = support.one(world, "Account", "QB_Customer_ID__c", list_id)
    assert recreated["Id"] != plain and recreated["Name"] == "Plain Co" and recreated["Phone"] == "555-0102"
    assert world.state.lookup_qb_many("Account", [list_id])[list_id].sf_id == recreated["Id"]
    # Both directions go on with the recreated Account: no failure, no second QuickBooks customer.
    assert engine.run_cycle().ok and engine.sync_qb_to_sf().ok
    assert len(world.customers()) == 3 and len(world.sf_state.records("Account")) == 3


def test_an_account_deleted_in_salesforce_is_recreated_when_its_customer_changes(world) -> None:
    engine, _long_one, _plain = _synced_both_ways(world)
    account = support.one(world, "Account", "Name", "From QuickBooks")
    world.sf_state.delete("Account", account["Id"])
    world.qb_sim.advance(60)
    world.qb_sim.modify(account["QB_Customer_ID__c"], {"Phone": "555-0177"})
    report = engine.sync_qb_to_sf()
    assert report.ok, report.failures
    recreated = support.one(world, "Account", "QB_Customer_ID__c", account["QB_Customer_ID__c"])
    assert recreated["Id"] != account["Id"] and recreated["Phone"] == "555-0177"


def test_a_reset_asked_for_while_quickbooks_is_away_is_the_same_reset(world) -> None:
    from qbsf.sync.inbound import reset_inbound

    _synced_both_ways(world)
    assert reset_inbound(world.state, ["Customer"]) == ["Customer"]
    report = world.engine().sync_qb_to_sf(["Customer"])
    assert (report.total("updated"), report.total("echoes")) == (3, 0)


def test_after_a_reset_both_sides_agree_on_the_salesforce_value_they_kept(world) -> None:
    from qbsf.sync.merge_state import BaseStore

    engine, long_one, _plain = _synced_both_ways(world)
    list_id = world.sf_state.get("Account", long_one)["QB_Customer_ID__c"]
    assert engine.sync_qb_to_sf(["Customer"], reset=True).ok
    base = BaseStore(world.state).get_many("Account", [list_id])[list_id]
    assert (base.salesforce["name"], base.salesforce["billingstreet"]) == (LONG_NAME, LONG_STREET)
    assert base.quickbooks["name"] == LONG_NAME[:41]
