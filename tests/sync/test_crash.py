"""Crash safety: a cycle killed with SIGKILL at each step boundary, then restarted, leaves every Salesforce record
in QuickBooks exactly once with the right values (and the crash-point hook itself)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from qbsf.bench.outbound import EXAMPLE_MAPPINGS, seed_org
from qbsf.quickbooks.bodies import external_guid
from qbsf.sync.crash import POINTS
from qbsf.sync.engine import SyncConfig, SyncEngine, load_mappings
from qbsf.sync.state import StateStore

HOOK_SCRIPT = (
    "from qbsf.sync.crash import crash_point\n"
    "for i in range(3):\n"
    "    crash_point('after_qb_write')\n"
    "    print('passed', i, flush=True)\n"
)



def _cycle_in_child(env: dict[str, str]) -> None:
    """One cycle in a forked child: the Salesforce emulator stays in the parent (it outlives the child); the
    QuickBooks company and the state store are SQLite files the restarted engine opens again."""
    from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.salesforce.auth import ClientCredentialsAuth
    from qbsf.salesforce.client import SalesforceClient
    from qbsf.sim.quickbooks import QuickBooksSimulator

    os.environ["QBSF_CRASH_AT"] = env["QBSF_CRASH_AT"]
    sf = SalesforceClient(env["SF_URL"], ClientCredentialsAuth(env["SF_URL"], env["SF_ID"], env["SF_SECRET"]))
    qb = QuickBooksClient(SimulatorTransport(QuickBooksSimulator(env["QB_PATH"])),
                          default_accounts=DefaultAccounts(income="Sales"))
    engine = SyncEngine(SyncConfig(qb_batch_size=2, batch_size=4, income_account="Sales"), sf, qb,
                        StateStore(env["STATE_PATH"]), load_mappings(EXAMPLE_MAPPINGS))
    engine.run_cycle()
    os._exit(0)


def _run_hook(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "QBSF_CRASH_AT"}
    if value is not None:
        env["QBSF_CRASH_AT"] = value
    return subprocess.run([sys.executable, "-c", HOOK_SCRIPT], capture_output=True, text=True, env=env, timeout=60)


def test_crash_hook_does_nothing_without_the_variable() -> None:
    result = _run_hook(None)
    assert result.returncode == 0 and result.stdout.count("passed") == 3


def test_crash_hook_ignores_other_points() -> None:
    assert _run_hook("after_journal").returncode == 0


def test_crash_hook_kills_at_the_nth_hit() -> None:
    result = _run_hook("after_qb_write:2")
    assert result.returncode == -9
    assert result.stdout.splitlines() == ["passed 0"]


def test_crash_hook_raises_at_the_nth_hit_when_asked_to(monkeypatch) -> None:
    from qbsf.sync import crash

    monkeypatch.setenv(crash.ENV_VAR, "inbound_after_read:2")
    monkeypatch.setenv(crash.HOW_VAR, "raise")
    crash.reset()
    try:
        crash.crash_point("inbound_after_read")
        crash.crash_point("after_qb_write")
        with pytest.raises(crash.CrashPointReached, match="inbound_after_read"):
            crash.crash_point("inbound_after_read")
    finally:
        crash.reset()


CRASHES = [
    ("after_journal", 1),        # Adds journaled, nothing sent
    ("mid_batch", 1),            # first Account message answered, the rest never sent
    ("mid_batch", 2),            # inside the Contact batch (sub-customers)
    ("after_qb_write", 1),       # every Account Add done in QuickBooks, nothing recorded locally
    ("after_qb_write", 5),       # the Opportunity batch (invoices) written, nothing recorded
    ("after_local_record", 2),   # second Account batch recorded; Salesforce not told
    ("mid_write_back", 1),       # first write-back collection sent
    ("after_write_back", 3),     # Contacts' ids in Salesforce, not marked locally
    ("after_ack", 1),            # the whole cycle done, killed at the very end
]


@pytest.mark.parametrize(("point", "hit"), CRASHES, ids=[f"{p}:{h}" for p, h in CRASHES])
def test_killed_cycle_restarts_to_exactly_once(point: str, hit: int, sf_emulator, sf_client, validating,
                                               tmp_path: Path) -> None:
    assert point in POINTS
    seeded = seed_org(sf_emulator.state, accounts=6, contacts=3, products=3, opportunities=2, lines=2)
    qb_path, state_path = tmp_path / "company.qbw.sqlite", tmp_path / "state.db"
    env = {"QBSF_CRASH_AT": f"{point}:{hit}", "SF_URL": sf_emulator.url, "SF_ID": sf_emulator.client_id,
           "SF_SECRET": sf_emulator.client_secret, "QB_PATH": str(qb_path), "STATE_PATH": str(state_path)}
    # Forked, so the child starts with qbsf already imported (a fresh interpreter would cost seconds per case).
    child = multiprocessing.get_context("fork").Process(target=_cycle_in_child, args=(env,))
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL, f"the cycle was not killed at {point}:{hit} (exit {child.exitcode})"

    from qbsf.quickbooks.client import DefaultAccounts, QuickBooksClient
    from qbsf.quickbooks.transports.simulator import SimulatorTransport
    from qbsf.sim.quickbooks import QuickBooksSimulator

    sim = QuickBooksSimulator(qb_path)
    qb = QuickBooksClient(validating(SimulatorTransport(sim)), default_accounts=DefaultAccounts(income="Sales"))
    state = StateStore(state_path)
    try:
        engine = SyncEngine(SyncConfig(qb_batch_size=2, batch_size=4, income_account="Sales"), sf_client, qb,
                            state, load_mappings(EXAMPLE_MAPPINGS))
        first = engine.run_cycle()
        assert first.ok, first.failures
        if point in ("after_journal", "mid_batch", "after_qb_write"):
            assert first.reconciled > 0, "the interrupted Adds were reconciled before anything new was sent"
        second = engine.run_cycle()
        assert second.ok and second.qb_messages == 0 and second.total("created") == 0
        assert state.in_flight() == []
        assert all(link.written_back for name in ("Account", "Contact", "Product2", "Opportunity")
                   for link in state.links(name))
        _assert_exactly_once(sf_emulator.state, sim, seeded)
    finally:
        state.close()
        sim.close()


def _assert_exactly_once(org, sim, seeded) -> None:
    customers = sim.customers()
    items = sim.items()
    invoices = sim.invoices()
    by_guid: dict[str, list[dict]] = {}
    for record in [*customers, *items, *invoices]:
        by_guid.setdefault(record.get("ExternalGUID"), []).append(record)
    checks = [("Account", seeded.accounts, "QB_Customer_ID__c", "ListID"),
              ("Contact", seeded.contacts, "QB_Customer_ID__c", "ListID"),
              ("Product2", seeded.products, "QB_Item_ID__c", "ListID"),
              ("Opportunity", seeded.opportunities, "QB_Invoice_ID__c", "TxnID")]
    for sobject, ids, field, id_field in checks:
        for sf_id in ids:
            matches = by_guid.get(external_guid(sf_id), [])
            assert len(matches) == 1, f"{sobject} {sf_id} is in QuickBooks {len(matches)} times"
            record = org.get(sobject, sf_id)
            assert record[field] == matches[0][id_field], f"{sobject} {sf_id}: Salesforce holds the wrong id"
            if sobject == "Account":
                assert matches[0]["Name"] == record["Name"]
            elif sobject == "Contact":
                assert matches[0]["FullName"].endswith(":" + record["Name"])
            elif sobject == "Product2":
                assert matches[0]["Name"] == record["Name"]
            else:
                lines = matches[0]["InvoiceLineRet"]
                assert len(lines if isinstance(lines, list) else [lines]) == 2
    assert len(customers) == len(seeded.accounts) + len(seeded.contacts)
    assert len(items) == len(seeded.products)
    assert len(invoices) == len(seeded.opportunities)
