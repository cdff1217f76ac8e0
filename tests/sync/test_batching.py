"""Batching targets: a 1,000-Account initial sync in at most 15 Salesforce calls and 25 QuickBooks messages."""

from __future__ import annotations

from qbsf.bench.outbound import seed_org


def test_thousand_accounts_initial_sync_budget(world) -> None:
    seeded = seed_org(world.sf_state, accounts=1_000)
    world.sf_state.reset_api_usage()
    messages_before = world.qb.messages_sent
    report = world.engine().run_cycle()
    assert report.ok, report.failures[:3]
    assert report.entities["Account"].created == 1_000
    assert report.sf_calls <= 15, f"{report.sf_calls} Salesforce calls"
    assert world.sf_state.api_calls <= 15 + 1, "the emulator agrees (+1 for the token request)"
    assert world.qb.messages_sent - messages_before <= 25, f"{report.qb_messages} QuickBooks messages"
    assert report.qb_messages == world.qb.messages_sent - messages_before
    assert len(world.customers()) == 1_000
    written = [a["QB_Customer_ID__c"] for a in world.sf_state.records("Account")]
    assert all(written) and len(set(written)) == 1_000
    assert set(seeded.accounts) == {link.sf_id for link in world.state.links("Account")}
