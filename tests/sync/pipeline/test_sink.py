"""One sink per system, called from both directions' write stage; one failure recording for both directions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from qbsf.errors import AfterDependency, NeedsUser, Retriable, SyncError
from qbsf.sync import inbound as inbound_module
from qbsf.sync import outbound as outbound_module
from qbsf.sync.entities import entity, inbound_spec
from qbsf.sync.pipeline.batch import BatchReport
from qbsf.sync.pipeline.failures import FailedRecord, record_failures
from qbsf.sync.pipeline.sink import QuickBooksSink, SalesforceSink, Sink
from qbsf.sync.policy import NextStep
from qbsf.sync.ports import QbWrite
from qbsf.sync.state import Direction, Link, Outcome, StateStore


@pytest.fixture
def state(tmp_path: Path):
    store = StateStore(tmp_path / "state.db")
    yield store
    store.close()


# ---- the QuickBooks sink -------------------------------------------------------------------------------------------

@dataclass
class QbWork:
    sf_id: str
    name: str
    target: dict[str, Any]
    link: Link | None = None
    adopt: Any = None
    qb_type: str = "Customer"
    payload_hash: str | None = "hash"
    merge: Any = None
    line_merge: Any = None
    send_lines: bool = True
    base: Any = None
    error: SyncError | None = None
    outcome: Outcome | None = None
    operation: str = ""
    write: QbWrite | None = None
    journal_id: int | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None


class FakeQuickBooks:
    """Answers Adds and Mods; remembers every message; ``broken`` fails a whole message."""

    def __init__(self, state: StateStore, broken: bool = False) -> None:
        self.state = state
        self.broken = broken
        self.sent: list[tuple[str, str, list[dict[str, Any]], int]] = []  # op, type, payloads, journal in flight

    def external_guid(self, sf_id: str) -> str:
        return f"{{guid-{sf_id}}}"

    def _answer(self, operation: str, qb_type: str, records: Sequence[Mapping[str, Any]]) -> list[QbWrite]:
        self.sent.append((operation, qb_type, [dict(r) for r in records], len(self.state.in_flight())))
        if self.broken:
            raise Retriable("QuickBooks is busy", hint="try again")
        return [QbWrite(qb_id=str(r.get("ListID") or f"new-{i}"), edit_sequence="2") for i, r in enumerate(records)]

    def add_many(self, qb_type: str, records: Sequence[Mapping[str, Any]]) -> list[QbWrite]:
        return self._answer("add", qb_type, records)

    def mod_many(self, qb_type: str, records: Sequence[Mapping[str, Any]]) -> list[QbWrite]:
        return self._answer("mod", qb_type, records)


@dataclass
class Config:
    qb_batch_size: int = 2


def _qb_sink(state: StateStore, qb: FakeQuickBooks) -> QuickBooksSink:
    return QuickBooksSink(qb, state, Config(), lambda spec, work: work.target["Name"])  # type: ignore[arg-type]


def test_the_quickbooks_sink_journals_adds_before_sending_them_and_sends_many_per_message(state) -> None:
    spec = entity("Account")
    qb = FakeQuickBooks(state)
    linked = Link("Account", "001L", "80-1", edit_sequence="7")
    works = [QbWork("001A", "Acme", {"Name": "Acme"}), QbWork("001B", "Beta", {"Name": "Beta"}),
             QbWork("001C", "Gamma", {"Name": "Gamma"}), QbWork("001L", "Linked", {"Name": "Linked"}, link=linked),
             QbWork("001U", "Same", {"Name": "Same"}, outcome=Outcome.UNCHANGED)]
    _qb_sink(state, qb).write(spec, works)
    # Three Adds at two per message, all three journaled before the first was sent; then the one Mod.
    assert [(op, [p["Name"] for p in payloads], journaled) for op, _, payloads, journaled in qb.sent] == [
        ("add", ["Acme", "Beta"], 3), ("add", ["Gamma"], 3), ("mod", ["Linked"], 3)]
    assert qb.sent[0][2][0]["ExternalGUID"] == "{guid-001A}"
    assert (qb.sent[2][2][0]["ListID"], qb.sent[2][2][0]["EditSequence"]) == ("80-1", "7")
    assert [w.operation for w in works] == ["add", "add", "add", "mod", ""]
    assert all(w.journal_id is not None for w in works[:3]) and works[3].journal_id is None
    assert works[4].write is None, "an unchanged record is not sent"


def test_a_quickbooks_message_that_fails_whole_fails_its_records_and_leaves_adds_in_flight(state) -> None:
    spec = entity("Account")
    works = [QbWork("001A", "Acme", {"Name": "Acme"})]
    _qb_sink(state, FakeQuickBooks(state, broken=True)).write(spec, works)
    assert isinstance(works[0].error, Retriable) and works[0].journal_id is None
    assert [e.sf_id for e in state.in_flight("Account")] == ["001A"], "reconciled next cycle, never repeated blind"


# ---- the Salesforce sink -------------------------------------------------------------------------------------------

@dataclass
class SfWork:
    qb_id: str
    changes: dict[str, Any]
    link: Link | None = None
    sf_id: str | None = None
    recreate: bool = False
    payload: dict[str, Any] | None = field(default_factory=dict)
    record: Any = None
    flat: dict[str, Any] = field(default_factory=dict)
    outcome: Outcome | None = None
    error: SyncError | None = None


@dataclass
class Answer:
    success: bool
    id: str | None = None
    created: bool | None = None
    error: Any = None


class FakeSalesforce:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[dict[str, Any]]]] = []

    def update_many(self, sobject: str, records: list[dict[str, Any]]) -> list[Answer]:
        self.calls.append(("update", records))
        return [Answer(True, r["Id"]) if r.get("Name") != "refused" else Answer(False, error="FIELD_INTEGRITY")
                for r in records]

    def upsert_many(self, sobject: str, external_id: str, records: list[dict[str, Any]]) -> list[Answer]:
        self.calls.append((f"upsert by {external_id}", records))
        return [Answer(True, f"001new{i}", created=True) for i, _ in enumerate(records)]


def test_the_salesforce_sink_updates_linked_records_by_id_and_upserts_new_ones_by_external_id() -> None:
    spec = inbound_spec("Customer")
    sf = FakeSalesforce()
    works = [SfWork("80-1", {"Name": "Old"}, link=Link("Account", "001A", "80-1")),
             SfWork("80-2", {"Name": "New", spec.external_id: "80-2"}),
             SfWork("80-3", {"Name": "refused"}, sf_id="001C"),
             SfWork("80-4", {"Name": "Gone", spec.external_id: "80-4"}, link=Link("Account", "001D", "80-4"),
                    recreate=True),
             SfWork("80-5", {"Name": "Same"}, outcome=Outcome.UNCHANGED)]
    SalesforceSink(sf, resolver=None).write(spec, works)
    assert [(op, [r["Name"] for r in records]) for op, records in sf.calls] == [
        ("update", ["Old", "refused"]), (f"upsert by {spec.external_id}", ["New", "Gone"])]
    assert sf.calls[0][1][0]["Id"] == "001A"
    assert [w.outcome for w in works] == [Outcome.UPDATED, Outcome.CREATED, None, Outcome.CREATED,
                                          Outcome.UNCHANGED]
    assert isinstance(works[2].error, NeedsUser) and "FIELD_INTEGRITY" in str(works[2].error)
    assert works[1].sf_id == "001new0"


def test_both_sinks_are_sinks() -> None:
    def takes(sink: Sink[Any]) -> Sink[Any]:
        return sink

    for sink in (QuickBooksSink(None, None, Config(), str), SalesforceSink(None, None)):  # type: ignore[arg-type]
        assert callable(takes(sink).write)


def test_each_direction_writes_through_its_sink_from_the_write_stage(world, monkeypatch) -> None:
    seen: list[tuple[str, str, int]] = []

    class WatchedQuickBooks(QuickBooksSink):
        def write(self, spec: Any, works: list[Any]) -> None:
            seen.append(("QuickBooks", spec.name, len(works)))
            super().write(spec, works)

    class WatchedSalesforce(SalesforceSink):
        def write(self, spec: Any, works: list[Any]) -> None:
            seen.append(("Salesforce", spec.name, len(works)))
            super().write(spec, works)

    monkeypatch.setattr(outbound_module, "QuickBooksSink", WatchedQuickBooks)
    monkeypatch.setattr(inbound_module, "SalesforceSink", WatchedSalesforce)
    world.sf_state.insert("Account", {"Name": "Sink Traders"})
    world.qb_sim.add("Customer", {"Name": "Ledger Works"})
    assert world.engine().sync_sf_to_qb(["Account"]).ok
    assert world.engine().sync_qb_to_sf(["Customer"]).ok
    # the inbound batch holds the new customer and the echo of the outbound Add (which the sink does not send)
    assert seen == [("QuickBooks", "Account", 1), ("Salesforce", "Customer", 2)]
    assert sorted(a["Name"] for a in world.sf_state.records("Account")) == ["Ledger Works", "Sink Traders"]
    assert {c["FullName"] for c in world.customers()} >= {"Sink Traders", "Ledger Works"}


# ---- one failure recording for both directions ---------------------------------------------------------------------

@pytest.mark.parametrize("direction", [Direction.SF_TO_QB, Direction.QB_TO_SF])
def test_a_failed_record_is_recorded_the_same_way_in_both_directions(state, direction: Direction) -> None:
    report, events = BatchReport(), []
    failed = [
        FailedRecord("r1", "Acme", NeedsUser("Acme has two names", hint="rename one"), "Acme has two names", "v1",
                     "upsert", sf_id="001A", qb_id="80-1"),
        FailedRecord("r2", "Beta", Retriable("busy", hint="wait"), "Beta: busy", "v1", "add", sf_id="001B"),
        FailedRecord("r3", "Gamma", AfterDependency("no parent", hint="sync it", parent=("Account", "001P")),
                     "Gamma: no parent", "v1", "add", sf_id="001C"),
    ]
    with state.batch():
        states = record_failures(state, "Account", direction, failed, report, cycle="c1", events=events)
        state.log_many(events)
    assert [s.next_step for s in states] == [NextStep.PARK, NextStep.BACKOFF, NextStep.AFTER_PARENT]
    assert (report.failed, report.parked) == (3, 1)
    assert report.failures == [("r1", "Acme", "Acme has two names"), ("r2", "Beta", "Beta: busy"),
                               ("r3", "Gamma", "Gamma: no parent")]
    rows = {f.record_key: f for f in state.failures(entity="Account")}
    assert set(rows) == {"r1", "r2", "r3"} and all(f.direction is direction for f in rows.values())
    assert rows["r1"].parked and rows["r3"].waits_for == ("Account", "001P")
    logged = {e.sf_id: e for e in state.recent(entity="Account")}
    assert logged["001A"].outcome is Outcome.PARKED and logged["001A"].message.endswith(
        "(parked: fix it, then `qbsf sync retry`; a change to the record retries it too)")
    assert logged["001B"].outcome is Outcome.FAILED and "(attempt 1; retrying at" in logged["001B"].message
    assert logged["001C"].message.endswith("(waiting for Account 001P: retried as soon as it syncs)")
    assert logged["001A"].qb_id == "80-1" and logged["001B"].operation == "add"
