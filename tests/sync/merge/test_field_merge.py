"""Field-level three-way merge, both directions, on the emulators: the outcome never depends on the pass order.

Each case edits the same synced Account in Salesforce and its customer in QuickBooks between cycles, then runs two
full cycles (both passes) in either order under each conflict policy: every edit survives or is decided by the
policy and logged once with both values, and both systems end equal (and stay so: a third cycle writes nothing).
"""

from __future__ import annotations

import pytest
from tests.sync.merge.support import ORDERS, POLICIES, activity, run

from qbsf.bench.outbound import seed_org
from qbsf.sync.merge import Base, merge_fields


def _synced_account(world, passes) -> tuple[str, str]:
    seeded = seed_org(world.sf_state, accounts=1)
    cycle = passes()
    cycle["sf_to_qb"]()
    cycle["qb_to_sf"]()
    account = world.sf_state.get("Account", seeded.accounts[0])
    return account["Id"], account["QB_Customer_ID__c"]


def _edit(world, clock, account_id: str, list_id: str, sf: dict, qb: dict, last: str) -> None:
    """Salesforce and QuickBooks edits a minute apart, ``last`` ("salesforce" or "quickbooks") second."""
    edits = [("salesforce", sf), ("quickbooks", qb)]
    for side, values in sorted(edits, key=lambda edit: edit[0] == last):
        clock.advance(60)
        if side == "salesforce":
            world.sf_state.update("Account", account_id, values)
        else:
            world.qb_sim.modify(list_id, values)


def _quiet_cycle(world, passes, policy: str, order: str, account_id: str, list_id: str) -> None:
    """One more cycle changes nothing on either side: the merge settled, nothing ping-pongs."""
    sequence = world.qb_sim.get(list_id)["EditSequence"]
    stamp = world.sf_state.get("Account", account_id)["SystemModstamp"]
    run(passes, policy, order, cycles=1)
    assert world.qb_sim.get(list_id)["EditSequence"] == sequence
    assert world.sf_state.get("Account", account_id)["SystemModstamp"] == stamp


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("policy", "last", "_winner"), POLICIES)
def test_different_fields_edited_on_each_side_both_survive(world, passes, clock, policy, last, _winner,
                                                           order) -> None:
    account_id, list_id = _synced_account(world, passes)
    _edit(world, clock, account_id, list_id, {"BillingCity": "Sacramento"}, {"Phone": "(415) 555-0199"}, last)

    run(passes, policy, order)

    account, customer = world.sf_state.get("Account", account_id), world.qb_sim.get(list_id)
    assert (account["BillingCity"], customer["BillAddress"]["City"]) == ("Sacramento", "Sacramento")
    assert (account["Phone"], customer["Phone"]) == ("(415) 555-0199", "(415) 555-0199"), \
        "the bookkeeper's Phone survives, whichever pass ran first"
    assert activity(world, "conflict") == [], "different fields are no conflict"
    _quiet_cycle(world, passes, policy, order, account_id, list_id)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("policy", "last", "winner"), POLICIES)
def test_same_field_edited_on_both_sides_is_decided_by_the_policy_and_carried_out(world, passes, clock, policy,
                                                                                  last, winner, order) -> None:
    account_id, list_id = _synced_account(world, passes)
    _edit(world, clock, account_id, list_id, {"Phone": "(415) 555-7777", "Fax": "(415) 555-0808"},
          {"Phone": "(415) 555-1111", "AltPhone": "(415) 555-0101"}, last)

    run(passes, policy, order)

    expected = "(415) 555-7777" if winner == "salesforce" else "(415) 555-1111"
    account, customer = world.sf_state.get("Account", account_id), world.qb_sim.get(list_id)
    assert (account["Phone"], customer["Phone"]) == (expected, expected), "the decision reached both systems"
    assert (account["Fax"], customer["Fax"]) == ("(415) 555-0808", "(415) 555-0808")
    assert customer["AltPhone"] == "(415) 555-0101", "a QuickBooks field outside the mapping is never touched"
    (logged,) = activity(world, "conflict")
    assert "QuickBooks '(415) 555-1111'" in logged and "Salesforce '(415) 555-7777'" in logged
    assert f"{winner} wins" in logged
    _quiet_cycle(world, passes, policy, order, account_id, list_id)


@pytest.mark.parametrize("order", ORDERS)
def test_an_edit_made_to_the_same_value_on_both_sides_is_no_conflict(world, passes, clock, order) -> None:
    account_id, list_id = _synced_account(world, passes)
    _edit(world, clock, account_id, list_id, {"Phone": "(415) 555-4242"}, {"Phone": "(415) 555-4242"}, "salesforce")
    run(passes, "newest", order)
    assert world.qb_sim.get(list_id)["Phone"] == world.sf_state.get("Account", account_id)["Phone"] == \
        "(415) 555-4242"
    assert activity(world, "conflict") == []


# ---- the merge itself, without systems -------------------------------------------------------------------------
def _merge(base_sf: dict, base_qb: dict, sf: dict, qb: dict, policy: str = "newest"):
    feeds = {name: (name.casefold(),) for name in sf}
    return merge_fields(base_source={k.casefold(): v for k, v in base_sf.items()},
                        base_target={k.casefold(): v for k, v in base_qb.items()},
                        source={k.casefold(): v for k, v in sf.items()}, proposed=sf, feeds=feeds, target=qb,
                        policy=policy, source_side="salesforce", source_modified=None, target_modified=None)


def test_merge_sends_source_changes_and_leaves_target_changes() -> None:
    base = {"Phone": "1", "City": "Oakland", "Fax": "9"}
    result = _merge(base, base, {"Phone": "1", "City": "Sacramento", "Fax": "9"},
                    {"Phone": "2", "City": "Oakland", "Fax": "9"})
    assert result.send == {"City": "Sacramento"}
    assert result.left == {"Phone": "2"} and result.conflicts == []
    assert result.agreed_source == {"city": "Sacramento"} and result.agreed_target == {"city": "Sacramento"}


@pytest.mark.parametrize(("policy", "sends"), [("salesforce", True), ("quickbooks", False)])
def test_merge_decides_a_field_changed_on_both_sides(policy, sends) -> None:
    result = _merge({"Phone": "1"}, {"Phone": "1"}, {"Phone": "SF"}, {"Phone": "QB"}, policy)
    (conflict,) = result.conflicts
    assert (conflict.qb_value, conflict.sf_value, conflict.base_value) == ("QB", "SF", "1")
    assert result.send == ({"Phone": "SF"} if sends else {})
    # The loser is accounted for either way: its side's base moves, so the other pass carries the winner.
    assert result.agreed_source == {"phone": "SF"}
    assert result.left == ({} if sends else {"Phone": "QB"})


def test_merge_without_a_base_sends_everything_and_compares_numbers_by_value() -> None:
    result = merge_fields(base_source=None, base_target=None, source={"price": "12.50"}, proposed={"Price": "12.50"},
                          feeds={"Price": ("price",)}, target={"Price": 12.5}, policy="newest",
                          source_side="salesforce", source_modified=None, target_modified=None)
    assert result.send == {} and result.agreed_source == {"price": "12.50"}, "12.50 and 12.5 are the same"
    assert Base().updated(salesforce={"a": 1}).salesforce == {"a": 1}


@pytest.mark.parametrize("order", ORDERS)
def test_a_state_store_from_before_bases_upgrades_and_still_merges(world, passes, clock, order) -> None:
    """A database written before the merge kept bases (revision 0004 adds the table empty): records synced before
    merge against the inbound snapshot, and nothing a person typed is lost on either side."""
    from sqlalchemy import delete

    from qbsf.sync.merge_state import base_table

    account_id, list_id = _synced_account(world, passes)
    with world.state.engine.begin() as connection:
        connection.execute(delete(base_table))  # as revision 0004 leaves a database synced before it
    _edit(world, clock, account_id, list_id, {"BillingCity": "Fresno"}, {"Phone": "(415) 555-0123"}, "quickbooks")

    run(passes, "newest", order)

    account, customer = world.sf_state.get("Account", account_id), world.qb_sim.get(list_id)
    assert (account["BillingCity"], customer["BillAddress"]["City"]) == ("Fresno", "Fresno")
    assert (account["Phone"], customer["Phone"]) == ("(415) 555-0123", "(415) 555-0123")
    _quiet_cycle(world, passes, "newest", order, account_id, list_id)


# ---- a win that cannot travel back fails the record visibly ----------------------------------------------------
def _without_row(world, tmp_path, sheet: str, sf_field: str, qb_field: str) -> None:
    """The example mappings with one row (``sf_field`` ↔ ``qb_field``) taken out of ``sheet``, as a user's own."""
    import shutil

    from qbsf.bench.outbound import EXAMPLE_MAPPINGS
    from qbsf.sync.engine import load_mappings

    folder = tmp_path / "mappings"
    shutil.copytree(EXAMPLE_MAPPINGS, folder)
    path = folder / f"{sheet}.csv"
    rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [row for row in rows if row.split(",")[:2] not in ([sf_field, qb_field], [qb_field, sf_field])]
    assert len(kept) == len(rows) - 1
    path.write_text("".join(kept), encoding="utf-8")
    world.mappings.clear()
    world.mappings.update(load_mappings(folder))


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("policy", "last", "winner"), POLICIES)
def test_a_quickbooks_win_no_inbound_row_carries_back_fails_the_account_visibly(world, passes, clock, tmp_path,
                                                                                 caplog, shown_everywhere, policy,
                                                                                 last, winner, order) -> None:
    from qbsf.sync.state import Direction

    _without_row(world, tmp_path, "Customer_to_Acct", "Fax", "Fax")  # Fax goes to QuickBooks only
    account_id, list_id = _synced_account(world, passes)
    _edit(world, clock, account_id, list_id, {"Fax": "(415) 555-0808"}, {"Fax": "(415) 555-0909"}, last)

    run(passes, policy, order, strict=False)

    account, customer = world.sf_state.get("Account", account_id), world.qb_sim.get(list_id)
    if winner == "salesforce":
        assert account["Fax"] == customer["Fax"] == "(415) 555-0808", "Salesforce's win reached QuickBooks"
        assert world.state.failures() == []
        return
    # QuickBooks wins, but nothing brings its Fax to Salesforce: neither side is silently overwritten, the Account
    # fails with what to do, and says so everywhere a user looks.
    assert (account["Fax"], customer["Fax"]) == ("(415) 555-0808", "(415) 555-0909")
    (failure,) = world.state.failures()
    assert (failure.entity, failure.direction, failure.record_key) == ("Account", Direction.SF_TO_QB, account_id)
    texts = ("Fax (QuickBooks '(415) 555-0909', Salesforce '(415) 555-0808')", "no QuickBooks → Salesforce mapping",
             "add a row for Fax to the Customer_to_Acct sheet", "set sync.conflict_policy = salesforce")
    shown_everywhere(*texts)
    assert any("Customer_to_Acct" in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)

    # The bookkeeper's value is typed into Salesforce too: they agree, the record syncs and the failure closes.
    clock.advance(60)
    world.sf_state.update("Account", account_id, {"Fax": "(415) 555-0909"})
    run(passes, policy, order, cycles=1)
    assert world.state.failures() == []
    _quiet_cycle(world, passes, policy, order, account_id, list_id)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("policy", "last", "winner"), POLICIES)
def test_a_salesforce_win_no_outbound_row_carries_back_fails_the_customer_visibly(world, passes, clock, tmp_path,
                                                                                  shown_everywhere, policy, last,
                                                                                  winner, order) -> None:
    from qbsf.sync.state import Direction

    _without_row(world, tmp_path, "Acct_to_Customer", "Fax", "Fax")  # Fax comes from QuickBooks only
    account_id, list_id = _synced_account(world, passes)
    world.qb_sim.modify(list_id, {"Fax": "(415) 555-0001"})
    run(passes, policy, order, cycles=1)
    assert world.sf_state.get("Account", account_id)["Fax"] == "(415) 555-0001", "both sides agree on the Fax"
    _edit(world, clock, account_id, list_id, {"Fax": "(415) 555-0808"}, {"Fax": "(415) 555-0909"}, last)

    run(passes, policy, order, strict=False)

    account, customer = world.sf_state.get("Account", account_id), world.qb_sim.get(list_id)
    if winner == "quickbooks":
        assert account["Fax"] == customer["Fax"] == "(415) 555-0909", "QuickBooks' win reached Salesforce"
        assert world.state.failures() == []
        return
    assert (account["Fax"], customer["Fax"]) == ("(415) 555-0808", "(415) 555-0909")
    (failure,) = world.state.failures()
    assert (failure.direction, failure.record_key) == (Direction.QB_TO_SF, list_id)
    shown_everywhere("Customer", "Fax (QuickBooks '(415) 555-0909', Salesforce '(415) 555-0808')",
                     "no Salesforce → QuickBooks mapping", "add a row for Fax to the Acct_to_Customer sheet",
                     "set sync.conflict_policy = quickbooks")
