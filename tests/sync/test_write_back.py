"""The QuickBooks-id write-back: one composite call per 400 ids, the engine's own writes remembered so the next poll
does not read them again — and an edit a user makes meanwhile still syncs (qbsf.sync.write_back)."""

from __future__ import annotations

from typing import Any

import pytest

from qbsf.bench.idle import measure_idle
from qbsf.bench.outbound import seed_org
from qbsf.errors import QbsfError
from qbsf.sync.entities import entity, parse_sf_datetime, soql_datetime


def _editing_before_call(world, monkeypatch, number: int, edit) -> list[int]:
    """Run ``edit()`` right before the ``number``-th write-back call reaches Salesforce; returns the call count."""
    real = world.sf.update_and_read
    calls = [0]

    def update_and_read(sobject: str, records: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == number:
            edit()
        return real(sobject, records, **kwargs)

    monkeypatch.setattr(world.sf, "update_and_read", update_and_read)
    return calls


def _assert_read_again(world, account_id: str) -> None:
    """The record's current version stays after the watermark: the next poll reads it whatever its window holds."""
    version = soql_datetime(parse_sf_datetime(world.sf_state.get("Account", account_id)["SystemModstamp"]))
    assert world.state.get_watermark(entity("Account").watermark_source) < version


def _customer_of(world, account_id: str) -> dict[str, Any]:
    qb_id = world.sf_state.get("Account", account_id)["QB_Customer_ID__c"]
    (customer,) = [c for c in world.customers() if c["ListID"] == qb_id]
    return customer


def test_the_next_cycle_reads_nothing_of_the_write_back_and_the_watermark_passes_it(world) -> None:
    seeded = seed_org(world.sf_state, accounts=30)
    first = world.engine(batch_size=10).sync_sf_to_qb(["Account"])
    assert first.ok and first.total("created") == 30
    newest = max(soql_datetime(parse_sf_datetime(world.sf_state.get("Account", i)["SystemModstamp"]))
                 for i in seeded.accounts)
    assert world.state.get_watermark(entity("Account").watermark_source) == newest, \
        "the watermark moved past the engine's own write-backs"
    again = world.engine(batch_size=10).sync_sf_to_qb(["Account"])
    assert again.ok and again.total("read") == 0 and again.qb_messages == 0


def test_the_write_back_costs_one_call_per_400_ids(world) -> None:
    seed_org(world.sf_state, accounts=1000)
    calls_before = world.sf_state.api_calls
    report = world.engine(batch_size=1000).sync_sf_to_qb(["Account"], full=True)
    assert report.ok and report.entities["Account"].written_back == 1000
    # one read of the 1,000 Accounts, 3 write-back calls (400 + 400 + 200), one COUNT() before the watermark moves
    assert world.sf_state.api_calls - calls_before == 5


def test_an_edit_between_the_read_and_the_write_back_is_synced_next_cycle(world, monkeypatch) -> None:
    seeded = seed_org(world.sf_state, accounts=5)
    edited = seeded.accounts[2]
    # the same user as the connector's: only the version read right before the write can tell
    _editing_before_call(world, monkeypatch, 1,
                         lambda: world.sf_state.update("Account", edited, {"Phone": "(510) 555-0199"}))
    assert world.engine().sync_sf_to_qb(["Account"]).ok
    assert _customer_of(world, edited)["Phone"] != "(510) 555-0199", "the pass read the record before the edit"
    _assert_read_again(world, edited)
    again = world.engine().sync_sf_to_qb(["Account"])
    assert again.ok and again.total("updated") == 1
    assert _customer_of(world, edited)["Phone"] == "(510) 555-0199"


def test_an_edit_after_its_write_back_in_the_same_pass_is_synced_next_cycle(world, monkeypatch) -> None:
    seeded = seed_org(world.sf_state, accounts=6)
    edited = seeded.accounts[0]  # written back by the first call; edited before the second
    _editing_before_call(world, monkeypatch, 2,
                         lambda: world.sf_state.update("Account", edited, {"Phone": "(510) 555-0142"}))
    assert world.engine(batch_size=2).sync_sf_to_qb(["Account"]).ok
    assert _customer_of(world, edited)["Phone"] != "(510) 555-0142"
    _assert_read_again(world, edited)
    again = world.engine(batch_size=2).sync_sf_to_qb(["Account"])
    assert again.ok and again.total("updated") == 1
    assert _customer_of(world, edited)["Phone"] == "(510) 555-0142"


def test_an_edit_of_a_record_not_written_back_during_the_pass_is_synced_next_cycle(world, monkeypatch) -> None:
    seeded = seed_org(world.sf_state, accounts=3)
    assert world.engine().sync_sf_to_qb(["Account"]).ok
    newcomers = seed_org(world.sf_state, accounts=3, prefix="New ")
    edited = seeded.accounts[1]  # synced last cycle: this pass writes nothing back to it
    _editing_before_call(world, monkeypatch, 1,
                         lambda: world.sf_state.update("Account", edited, {"Phone": "(510) 555-0177"}))
    second = world.engine().sync_sf_to_qb(["Account"])
    assert second.ok and second.total("created") == len(newcomers.accounts)
    _assert_read_again(world, edited)
    third = world.engine().sync_sf_to_qb(["Account"])
    assert third.ok and third.total("updated") == 1
    assert _customer_of(world, edited)["Phone"] == "(510) 555-0177"


def test_update_and_read_refuses_more_than_five_collections_and_queries(sf_client) -> None:
    records = [{"Id": f"001Q0000000{n:04d}AAA", "Name": "x"} for n in range(800)]
    with pytest.raises(QbsfError, match="at most 5"):
        sf_client.update_and_read("Account", records, before={"a": "SELECT Id FROM Account"},
                                  after={"b": "SELECT Id FROM Account"})


def test_update_and_read_answers_each_record_and_each_read_in_one_call(sf_state, sf_client) -> None:
    ids = [sf_state.insert("Account", {"Name": f"Account {n}"}) for n in range(3)]
    before = sf_state.api_calls
    results, pages = sf_client.update_and_read(
        "Account", [{"Id": ids[0], "Phone": "1"}, {"Id": "001000000000000AAA", "Phone": "2"},
                    {"Id": ids[2], "Phone": "3"}],
        before={"was": f"SELECT Id, Phone FROM Account WHERE Id = '{ids[0]}'"},
        after={"now": f"SELECT Id, Phone FROM Account WHERE Id = '{ids[0]}'"})
    assert sf_state.api_calls - before == 1
    assert [r.success for r in results] == [True, False, True]
    assert pages["was"]["records"][0].get("Phone") is None and pages["now"]["records"][0]["Phone"] == "1"


def test_after_a_large_initial_sync_the_first_idle_cycle_costs_what_a_settled_one_costs() -> None:
    # 2,500 write-back echoes span two query pages: before, the first idle cycle read them again (two more calls)
    result = measure_idle(2, accounts=2_500, timeout=600)
    first, settled = result.sf_by_cycle
    assert first == settled <= 3, result.line()
