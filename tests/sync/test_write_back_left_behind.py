"""A QuickBooks id whose write-back to Salesforce failed (or was cut off with its worker) is written back on the
next cycle even when no record changed since: it no longer waits for that record's next edit."""

from __future__ import annotations

from qbsf.errors import Retriable


def test_a_failed_write_back_is_retried_by_a_cycle_without_changes(world, monkeypatch) -> None:
    account = world.sf_state.insert("Account", {"Name": "Written Back Ltd"})
    real_update_many = world.sf.update_many
    down = [True]

    def failing_while_down(sobject, records, *args, **kwargs):
        if down[0]:
            raise Retriable("Salesforce did not answer in time")
        return real_update_many(sobject, records, *args, **kwargs)

    real_update_and_read = world.sf.update_and_read

    def composite_failing_while_down(sobject, records, *args, **kwargs):
        if down[0]:
            raise Retriable("Salesforce did not answer in time")
        return real_update_and_read(sobject, records, *args, **kwargs)

    monkeypatch.setattr(world.sf, "update_many", failing_while_down)
    monkeypatch.setattr(world.sf, "update_and_read", composite_failing_while_down)  # the write-back's one call
    first = world.engine().sync_sf_to_qb(["Account"])
    assert first.error is None and len(world.customers()) == 1
    assert not world.sf_state.get("Account", account).get("QB_Customer_ID__c"), "the write-back failed"

    down[0] = False
    second = world.engine().sync_sf_to_qb(["Account"])
    assert second.error is None
    assert world.sf_state.get("Account", account)["QB_Customer_ID__c"] == world.customers()[0]["ListID"]
    assert len(world.customers()) == 1
