"""QuickBooks → Salesforce acknowledges each batch: a pass killed after batch 2 of 4 is read again by the next pass,
which writes only batches 3 and 4 to Salesforce (counted on the emulator) — on a first sync and on a reset's
re-send alike."""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qbsf.quickbooks.client import QuickBooksClient
from qbsf.quickbooks.transports.simulator import SimulatorTransport
from qbsf.salesforce.auth import ClientCredentialsAuth
from qbsf.salesforce.client import SalesforceClient
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sync.inbound import InboundConfig, InboundReport, InboundSync
from qbsf.sync.state import StateStore

CUSTOMERS = 8
BATCH = 2  # four batches


class Pass:
    """One QuickBooks → Salesforce pass over fresh clients (as a restarted process opens them)."""

    def __init__(self, sf_emulator: Any, paths: dict[str, Path], mappings: dict[str, Any]) -> None:
        self.sf_emulator, self.paths, self.mappings = sf_emulator, paths, mappings

    def run(self, **kwargs: Any) -> InboundReport:
        emulator = self.sf_emulator
        sf = SalesforceClient(emulator.url, ClientCredentialsAuth(emulator.url, emulator.client_id,
                                                                  emulator.client_secret),
                              backoff=0.001, backoff_max=0.01)
        sim = QuickBooksSimulator(self.paths["qb"])
        qb = QuickBooksClient(SimulatorTransport(sim))
        state = StateStore(self.paths["state"])
        try:
            return InboundSync(InboundConfig(batch_size=BATCH), sf, qb, state, self.mappings).run(["Customer"],
                                                                                                   **kwargs)
        finally:
            state.close()
            qb.close()
            sim.close()
            sf.close()

    def killed_after_batch(self, batch: int, **kwargs: Any) -> None:
        """The pass in a forked child, SIGKILLed once batch ``batch`` is recorded (``inbound_after_record``)."""

        def child() -> None:
            os.environ["QBSF_CRASH_AT"] = f"inbound_after_record:{batch}"
            self.run(**kwargs)
            os._exit(0)

        process = multiprocessing.get_context("fork").Process(target=child)
        process.start()
        process.join(120)
        assert process.exitcode == -signal.SIGKILL, f"the pass was not killed after batch {batch}"


@pytest.fixture
def setup(sf_emulator, example_mappings, tmp_path: Path) -> Iterator[tuple[Pass, list[str]]]:
    """Customers in QuickBooks, the pass, and the Accounts Salesforce writes (names, in order; the emulator's own
    count of every Account it saves)."""
    paths = {"qb": tmp_path / "company.qbw.sqlite", "state": tmp_path / "state.db"}
    sim = QuickBooksSimulator(paths["qb"])
    for number in range(CUSTOMERS):
        sim.add("Customer", {"Name": f"Batch Customer {number}"})
    sim.close()
    written: list[str] = []
    state = sf_emulator.state
    put = state._put

    def counted(name: str, record_id: str, record: dict[str, Any]) -> Any:
        if name == "Account":
            written.append(str(record.get("Name")))
        return put(name, record_id, record)

    state._put = counted  # the emulator runs in this process: it counts what the child writes too
    try:
        yield Pass(sf_emulator, paths, dict(example_mappings)), written
    finally:
        del state._put


def test_a_first_sync_killed_after_batch_2_of_4_writes_only_batches_3_and_4_next_pass(setup, sf_emulator) -> None:
    run, written = setup
    run.killed_after_batch(2)
    first = list(written)
    assert len(first) == 2 * BATCH, f"batches 1 and 2 were written before the kill: {first}"
    written.clear()

    report = run.run()
    assert report.ok, report.failures
    customers = report.entities["Customer"]
    assert len(written) == 2 * BATCH and not set(written) & set(first), \
        f"the next pass wrote {written}; batches 1–2 were {first}"
    assert (customers.created, customers.queried, customers.reread) == (4, 4, 4)
    names = sorted(a["Name"] for a in sf_emulator.state.records("Account"))
    assert names == sorted(f"Batch Customer {n}" for n in range(CUSTOMERS)), "each customer once"
    written.clear()
    assert run.run().entities["Customer"].synced == 0 and written == []


def test_a_reset_re_send_killed_after_batch_2_of_4_re_sends_only_batches_3_and_4_next_pass(setup) -> None:
    run, written = setup
    assert run.run().entities["Customer"].created == CUSTOMERS
    written.clear()
    run.killed_after_batch(2, reset=True)  # a reset writes every record again: killed half way through
    first = list(written)
    assert len(first) == 2 * BATCH
    written.clear()

    report = run.run()  # the re-send goes on where it stopped
    assert report.ok, report.failures
    assert len(written) == 2 * BATCH and not set(written) & set(first), \
        f"the re-send wrote {written} again after batches 1–2 ({first}) were acknowledged"
    assert report.entities["Customer"].updated == 2 * BATCH
    written.clear()
    again = run.run()  # the re-send is finished: later passes sync changes only
    assert again.entities["Customer"].synced == 0 and written == []


def test_an_inactivation_the_pass_died_telling_is_told_once_by_the_next_pass(world, inbound, monkeypatch) -> None:
    from qbsf.errors import Retriable
    from qbsf.sync.inbound import DeletionAction
    from qbsf.sync.state import Direction

    action = {"Customer": DeletionAction.parse("set:Site=inactive in QuickBooks")}
    customer = world.qb_sim.add("Customer", {"Name": "Fading Traders"})
    assert inbound(on_deleted=action).run(["Customer"]).ok
    world.qb_sim.advance(60)
    world.qb_sim.modify(customer["ListID"], {"IsActive": "false"})
    update_many = world.sf.update_many

    def dies_on_the_action(sobject: str, records: list[dict[str, Any]], *args: Any, **kwargs: Any) -> Any:
        if any(set(record) == {"Id", "Site"} for record in records):
            raise Retriable("Salesforce went away", hint="try again")
        return update_many(sobject, records, *args, **kwargs)

    monkeypatch.setattr(world.sf, "update_many", dies_on_the_action)
    assert inbound(on_deleted=action).run(["Customer"]).error is not None
    monkeypatch.setattr(world.sf, "update_many", update_many)

    report = inbound(on_deleted=action).run(["Customer"])
    assert report.ok and report.entities["Customer"].inactivated == 1
    (account,) = world.sf_state.records("Account")
    assert account["Site"] == "inactive in QuickBooks"
    told = [a for a in world.state.recent(50, direction=Direction.QB_TO_SF) if a.operation == "inactivate"]
    assert [a.qb_id for a in told] == [customer["ListID"]], "told once"
    assert inbound(on_deleted=action).run(["Customer"]).entities["Customer"].inactivated == 0
