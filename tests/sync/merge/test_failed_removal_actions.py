"""A removal's action the other system refuses is a failure like any record's, in both directions: its failure row
shows in `qbsf sync status`, `qbsf status` and the dashboard's failed records, and the error policy retries it —
the action is done on the retry and the failure cleared (before, only an activity line said so, and nothing retried).
"""

from __future__ import annotations

from tests.sync.merge.support import merge_in_salesforce

from qbsf.bench.outbound import seed_org
from qbsf.sync.inbound import DeletionAction, InboundConfig, InboundSync
from qbsf.sync.lifecycle import Notices
from qbsf.sync.state import Direction


def _cycle(world, passes, **settings) -> None:
    cycle = passes("newest", strict=False, lifecycle_check_minutes=0, **settings)
    cycle["sf_to_qb"]()
    cycle["qb_to_sf"]()


def test_an_inactivation_quickbooks_refuses_is_a_failure_retried_until_done(world, passes, shown_everywhere) -> None:
    seeded = seed_org(world.sf_state, accounts=2)
    _cycle(world, passes)
    gone = world.sf_state.get("Account", seeded.accounts[0])
    list_id = gone["QB_Customer_ID__c"]
    world.sf_state.delete("Account", gone["Id"])
    world.qb_sim.fail_next(3180, request_type="CustomerMod")  # QuickBooks could not save the change

    _cycle(world, passes, on_sf_gone={"Account": "inactivate"})

    assert world.qb_sim.get(list_id)["IsActive"] == "true"
    (failure,) = world.state.failures(entity="Account")
    assert (failure.direction, failure.record_key) == (Direction.SF_TO_QB, gone["Id"])
    shown_everywhere("could not be made inactive", gone["Name"])
    assert [n.kind for n in Notices(world.state).open()] == ["deleted"]

    _cycle(world, passes, on_sf_gone={"Account": "inactivate"})  # the retry is due at once (retry_base 0)

    assert world.qb_sim.get(list_id)["IsActive"] == "false"
    assert world.state.failures() == []
    (notice,) = Notices(world.state).open()
    assert "was made inactive" in notice.message
    _cycle(world, passes, on_sf_gone={"Account": "inactivate"})
    assert world.state.failures() == [] and len(Notices(world.state).open()) == 1


def test_a_deletion_action_salesforce_refuses_is_a_failure_retried_until_done(world, shown_everywhere) -> None:
    item = world.qb_sim.add("ItemService", {"Name": "Gone Service", "SalesOrPurchase": {
        "Price": "10.00", "AccountRef": {"FullName": "Sales"}}})
    kept = world.qb_sim.add("ItemService", {"Name": "Kept Service", "SalesOrPurchase": {
        "Price": "12.00", "AccountRef": {"FullName": "Sales"}}})

    def inbound(action: str):
        config = InboundConfig(on_deleted={"Item": DeletionAction.parse(action)})
        return InboundSync(config, world.sf, world.qb, world.state, world.mappings).run(["Item"])

    assert inbound("set:IsActive=false").entities["Item"].created == 2
    product = world.state.lookup_qb_many("Product2", [item["ListID"]])[item["ListID"]].sf_id
    world.qb_sim.delete(item["ListID"])

    # A field Product2 does not have: Salesforce refuses the update; the user must act.
    refused = inbound("set:Retired__c=true")

    assert not refused.ok and refused.entities["Item"].failed == 1
    assert world.sf_state.get("Product2", product)["IsActive"] is True
    (failure,) = world.state.failures(entity="Product2")
    assert (failure.direction, failure.record_key, failure.parked) == (Direction.QB_TO_SF, item["ListID"], True)
    shown_everywhere("Gone Service", "setting Retired__c failed")
    inbound("set:Retired__c=true")
    assert [f.parked for f in world.state.failures(entity="Product2")] == [True], "parked: kept, not tried again"

    # The user fixes the setting and presses Retry: the deletion is not read again, the failure says what to do.
    assert world.state.retry(entity="Product2") == 1
    retried = inbound("set:IsActive=false")

    assert retried.ok and retried.entities["Item"].deleted == 1
    assert world.sf_state.get("Product2", product)["IsActive"] is False
    assert world.state.failures() == []
    other = world.state.lookup_qb_many("Product2", [kept["ListID"]])[kept["ListID"]].sf_id
    assert world.sf_state.get("Product2", other)["IsActive"] is True, "only the deleted item's Product"
    assert inbound("set:IsActive=false").ok and world.state.failures() == []


def test_an_inactivation_action_salesforce_refuses_is_retried_from_the_record(world, shown_everywhere) -> None:
    customer = world.qb_sim.add("Customer", {"Name": "Dormant Ltd"})

    def inbound(action: str):
        config = InboundConfig(on_deleted={"Customer": DeletionAction.parse(action)})
        return InboundSync(config, world.sf, world.qb, world.state, world.mappings).run(["Customer"])

    assert inbound("record").entities["Customer"].created == 1
    world.qb_sim.modify(customer["ListID"], {"EditSequence": customer["EditSequence"], "IsActive": "false"})

    refused = inbound("set:Retired__c=true")

    assert not refused.ok and refused.entities["Customer"].failed == 1, refused.entities["Customer"]
    (failure,) = world.state.failures(entity="Account")
    assert (failure.direction, failure.record_key) == (Direction.QB_TO_SF, customer["ListID"])
    shown_everywhere("Dormant Ltd", "made inactive", "setting Retired__c failed")

    # The user fixes the setting and presses Retry: the customer is read again and the action done.
    assert world.state.retry(entity="Account") == 1
    retried = inbound("set:Description=Inactive in QuickBooks")

    assert retried.ok and retried.entities["Customer"].inactivated == 1
    (account,) = world.sf_state.records("Account")
    assert account["Description"] == "Inactive in QuickBooks"
    assert world.state.failures() == []
    assert inbound("set:Description=Inactive in QuickBooks").entities["Customer"].inactivated == 0, "told once"


def test_a_merged_accounts_refused_inactivation_names_the_survivor_when_retried(world, passes) -> None:
    seeded = seed_org(world.sf_state, accounts=2)
    _cycle(world, passes)
    winner, loser = (world.sf_state.get("Account", i) for i in seeded.accounts)
    merge_in_salesforce(world, winner, loser)
    world.qb_sim.fail_next(3180, request_type="CustomerMod")  # QuickBooks could not save the change

    _cycle(world, passes, on_sf_gone={"Account": "inactivate"})
    (failure,) = world.state.failures(entity="Account")
    assert f"merged into Account {winner['Id']}" in failure.message

    _cycle(world, passes, on_sf_gone={"Account": "inactivate"})  # the retry is due at once (retry_base 0)

    assert world.qb_sim.get(loser["QB_Customer_ID__c"])["IsActive"] == "false"
    assert world.state.failures() == []
    (notice,) = Notices(world.state).open()
    assert notice.kind == "merged"
    assert f"was merged into Account {winner['Id']} in Salesforce" in notice.message, notice.message
    assert "was made inactive" in notice.message
