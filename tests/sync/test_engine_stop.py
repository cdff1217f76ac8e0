"""Stop between batches in SF → QB: the pass ends after the batch in hand and the rest syncs next cycle."""

from __future__ import annotations

import pytest

from qbsf.bench.outbound import seed_org


@pytest.mark.parametrize("change_source", ["poll", "queue"])
def test_stop_ends_the_pass_after_the_batch_in_hand_and_the_next_cycle_finishes(world, change_source: str) -> None:
    seeded = seed_org(world.sf_state, accounts=5)
    engine = world.engine(batch_size=2, change_source=change_source)
    asked = []

    def progress(entity: str, done: int, total: int) -> None:
        if done:  # Stop pressed while the first batch was being written
            asked.append(True)

    report = engine.sync_sf_to_qb(progress=progress, should_stop=lambda: bool(asked))
    assert report.stopped and report.error is None
    assert report.entities["Account"].created == 2
    assert len(world.customers()) == 2
    assert world.state.in_flight() == [], "never mid-write: nothing left in flight in the journal"
    assert len(world.state.lookup_many("Account", seeded.accounts)) == 2
    if change_source == "queue":
        statuses = sorted(row["Status__c"] for row in world.sf_state.records("QBSync_Queue__c"))
        assert statuses == ["Done"] * 2 + ["Pending"] * 3, "rows not reached go back to Pending"

    again = world.engine().sync_sf_to_qb()
    assert not again.stopped and again.ok
    assert again.entities["Account"].created == 3
    assert len(world.customers()) == 5, "nothing added twice"
    assert len(world.state.lookup_many("Account", seeded.accounts)) == 5
    if change_source == "queue":
        assert {row["Status__c"] for row in world.sf_state.records("QBSync_Queue__c")} == {"Done"}
    assert world.engine().sync_sf_to_qb().total("created") == 0
