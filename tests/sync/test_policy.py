"""Errors drive what happens next (qbsf.sync.policy): one test per error class, in the store and end to end.

Retriable → backoff, parked after max_attempts; AfterDependency → waits for its parent's link, not a timer;
NeedsUser → parked at once, un-parked by a change or a retry; Skippable → recorded, not retried.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qbsf.bench.outbound import seed_org
from qbsf.errors import AfterDependency, NeedsUser, Retriable, Skippable
from qbsf.quickbooks.errors import InvalidReference, NameInUse, ObjectNotFound, RecordBusy
from qbsf.salesforce.errors import SalesforceSkippable
from qbsf.sync.policy import NextStep, step_for, step_for_kind, waits_for
from qbsf.sync.state import Direction, FailureInput, Link, Outcome, RetryPolicy, StateStore

SF = Direction.SF_TO_QB


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock, state_url: str):
    policy = RetryPolicy(max_attempts=3, base=timedelta(seconds=30), cap=timedelta(minutes=10))
    with StateStore(state_url, clock=clock, retry_policy=policy) as state:
        yield state


def _due(store: StateStore) -> list[str]:
    return [f.record_key for f in store.failures_due("Contact", SF)]


def test_each_error_class_has_its_next_step() -> None:
    assert [step_for(e) for e in (Retriable("x"), AfterDependency("x"), NeedsUser("x"), Skippable("x"))] == [
        NextStep.BACKOFF, NextStep.AFTER_PARENT, NextStep.PARK, NextStep.RECORD]
    assert step_for(ValueError("not ours")) is NextStep.BACKOFF
    # Stored failures carry the concrete class name: the policy finds its class through the hierarchy.
    assert [step_for_kind(cls.__name__) for cls in (RecordBusy, InvalidReference, NameInUse, ObjectNotFound,
                                                    SalesforceSkippable)] == [
        NextStep.BACKOFF, NextStep.AFTER_PARENT, NextStep.PARK, NextStep.RECORD, NextStep.RECORD]
    assert step_for_kind("SomethingUnknown") is NextStep.BACKOFF
    assert waits_for(AfterDependency("x", parent=("Account", "001A"))) == ("Account", "001A")
    assert waits_for(AfterDependency("x")) is None and waits_for(NeedsUser("x")) is None


def test_retriable_backs_off_then_parks(store: StateStore, clock: Clock) -> None:
    busy = FailureInput("003A", "RecordBusy", "QuickBooks is busy", version="v1")
    (first,) = store.fail_many("Contact", SF, [busy])
    assert (first.next_step, first.parked, first.next_attempt_at) == ("backoff", False,
                                                                     clock.now + timedelta(seconds=30))
    assert _due(store) == []
    clock.now += timedelta(seconds=30)
    assert _due(store) == ["003A"]
    store.fail_many("Contact", SF, [busy])
    (third,) = store.fail_many("Contact", SF, [busy])
    assert third.parked and third.attempts == 3
    clock.now += timedelta(days=1)
    assert _due(store) == []


def test_after_dependency_waits_for_the_parent_not_a_timer(store: StateStore, clock: Clock) -> None:
    waiting = FailureInput("003A", "AfterDependency", "No Account found in QuickBooks", version="v1",
                           waits_for=("Account", "001P"))
    other = FailureInput("003B", "AfterDependency", "No Account found", version="v1", waits_for=("Account", "001Q"))
    (state, _) = store.fail_many("Contact", SF, [waiting, other])
    assert (state.next_step, state.waits_for, state.parked) == ("after_parent", ("Account", "001P"), False)
    for _attempt in range(5):  # failing again and again never parks it: it is waiting, not broken
        store.fail_many("Contact", SF, [waiting])
    clock.now += timedelta(days=3)
    assert _due(store) == [], "no timer retries a record waiting for its parent"
    store.record_many([Link("Account", "001P", "80000001-1")])
    assert _due(store) == ["003A"], "linking the parent makes its children due at once"
    assert store.failures_for("Contact", SF, ["003B"])["003B"].waits_for == ("Account", "001Q")


def test_after_dependency_on_a_parent_already_linked_backs_off(store: StateStore, clock: Clock) -> None:
    store.record_many([Link("Account", "001P", "80000001-1")])
    by_qb_id = FailureInput("003A", "InvalidReference", "x", version="v1", waits_for=("Account", "80000001-1"))
    unnamed = FailureInput("003B", "AfterDependency", "a Link lookup found nothing", version="v1")
    states = store.fail_many("Contact", SF, [by_qb_id, unnamed])
    assert [(s.next_step, s.waits_for) for s in states] == [("backoff", None), ("backoff", None)]
    clock.now += timedelta(seconds=30)
    assert _due(store) == ["003A", "003B"]


def test_needs_user_is_parked_at_once_and_unparked_by_a_change_or_a_retry(store: StateStore) -> None:
    states = store.fail_many("Contact", SF, [FailureInput(key, "NameInUse", "the name is a Vendor's", version="v1")
                                             for key in ("003A", "003B")])
    assert all(s.parked and s.attempts == 1 and s.next_step == "park" for s in states)
    assert _due(store) == []
    assert store.unpark_changed("Contact", SF, {"003A": "v2", "003B": "v1"}) == ["003A"]
    assert _due(store) == ["003A"]
    assert store.retry(keys=["003B"]) == 1
    assert _due(store) == ["003A", "003B"]


def test_skippable_is_recorded_not_retried(store: StateStore, clock: Clock) -> None:
    (state,) = store.fail_many("Contact", SF, [FailureInput("003A", "ObjectNotFound", "deleted in QuickBooks",
                                                            version="v1")])
    assert (state.next_step, state.parked) == ("record", False)
    clock.now += timedelta(days=3)
    assert _due(store) == [] and not state.due(clock.now)
    assert [f.record_key for f in store.failures()] == ["003A"], "recorded"
    store.retry(entity="Contact")
    assert _due(store) == ["003A"], "a person's retry tries it again"


# ----------------------------------------------------------------------- end to end, on the emulators
def test_a_contact_waits_for_its_parked_account_and_syncs_when_the_account_does(world) -> None:
    seeded = seed_org(world.sf_state, accounts=1, contacts=1)
    account, contact = seeded.accounts[0], seeded.contacts[0]
    world.qb_sim.add("Vendor", {"Name": "Customer 00000"})  # the Account's name is taken: it needs a person
    engine = world.engine(max_attempts=3)
    first = engine.run_cycle()
    assert first.entities["Account"].parked == 1
    (waiting,) = world.state.failures(entity="Contact")
    assert (waiting.next_step, waiting.waits_for, waiting.parked) == ("after_parent", ("Account", account), False)
    assert world.state.recent(entity="Contact")[0].message.endswith(f"(waiting for Account {account}: retried as "
                                                                    "soon as it syncs)")
    for _cycle in range(4):  # retry_base is 0 here: a timer would retry it every cycle
        report = engine.run_cycle()
        assert report.entities["Contact"].failed == 0 and report.qb_messages == 0
    assert world.state.failures(entity="Contact")[0].attempts == 1, "not retried while the Account is parked"
    world.sf_state.update("Account", account, {"Name": "Customer 00000 (renamed)"})
    fixed = engine.run_cycle()
    assert fixed.entities["Account"].created == 1 and fixed.entities["Contact"].created == 1, fixed.summary()
    assert world.state.failures() == [] and world.state.lookup("Contact", contact) is not None


def test_a_deleted_quickbooks_record_is_recorded_once_not_retried(world) -> None:
    seeded = seed_org(world.sf_state, accounts=1)
    engine = world.engine(max_attempts=3)
    assert engine.run_cycle().entities["Account"].created == 1
    link = world.state.lookup("Account", seeded.accounts[0])
    world.qb_sim.delete(link.qb_id)
    world.sf_state.update("Account", seeded.accounts[0], {"Phone": "555-0199"})
    report = engine.run_cycle()
    assert report.entities["Account"].failed == 1 and report.entities["Account"].parked == 0
    (skipped,) = world.state.failures()
    assert (skipped.kind, skipped.next_step) == ("Skippable", "record")
    assert world.state.recent(entity="Account")[0].outcome == Outcome.SKIPPED
    for _cycle in range(3):
        assert engine.run_cycle().entities["Account"].failed == 0, "recorded, not retried"
    assert world.state.failures()[0].attempts == 1
