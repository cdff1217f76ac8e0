"""A parent QuickBooks says is missing (status 3130): wait for it while it may sync, never forever."""

from __future__ import annotations

from qbsf.bench.outbound import seed_org
from qbsf.errors import AfterDependency
from qbsf.quickbooks.errors import MissingParent, error_for_status


def test_3130_waits_for_the_parent_and_says_what_to_do_when_it_never_comes():
    error = error_for_status(3130, 'There is an invalid reference to a parent "Acme" in the Customer list.',
                             request="CustomerAdd", record="Contact 'Ada'")
    assert isinstance(error, MissingParent) and isinstance(error, AfterDependency)
    assert "sync the parent first" in error.hint and "deleted in QuickBooks" in error.hint
    assert "qbsf sync retry" in error.hint


def test_a_job_whose_customer_was_deleted_in_quickbooks_is_parked_with_the_fix(world) -> None:
    seeded = seed_org(world.sf_state, accounts=1)
    first = world.engine(max_attempts=3).run_cycle()
    assert first.ok, first.failures
    parent_id = world.sf_state.get("Account", seeded.accounts[0])["QB_Customer_ID__c"]
    world.qb_sim.delete(parent_id)  # a QuickBooks user deletes the customer; Salesforce still points at it
    contact = world.sf_state.insert("Contact", {"FirstName": "Ada", "LastName": "Lovelace",
                                                "AccountId": seeded.accounts[0]})
    engine = world.engine(max_attempts=3)
    reports = [engine.run_cycle() for _ in range(3)]
    assert [r.entities["Contact"].failed for r in reports] == [1, 1, 1]
    assert [r.entities["Contact"].parked for r in reports] == [0, 0, 1], "waits, then stops waiting"
    (failure,) = [f for f in world.state.failures(parked=True) if f.record_key == contact]
    assert "3130" in failure.message and "deleted in QuickBooks" in failure.message
    quiet = engine.run_cycle()
    assert quiet.entities["Contact"].failed == 0, "a parked record is not sent again by itself"
    assert not [c for c in world.customers() if c["Name"] == "Ada Lovelace"]
