"""The one batch step: every direction's stages run in one order; one report type for both directions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qbsf.sync.inbound import InboundEntityReport
from qbsf.sync.outbound import EntityReport
from qbsf.sync.pipeline.batch import STEPS, BatchReport, run_batch


class Recording:
    """Stages that write down what each one was given; ``skip_seen`` leaves out records named ``wait``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def _note(self, step: str, works: Sequence[dict[str, Any]]) -> None:
        self.calls.append((step, [w["id"] for w in works]))

    def read(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        self._note("read", records)
        return [dict(r) for r in records]

    def skip_seen(self, works: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self._note("skip_seen", works)
        return [w for w in works if w["id"] != "wait"]

    def map(self, works: list[dict[str, Any]]) -> None:
        self._note("map", works)
        for work in works:
            work["mapped"] = True

    def diff(self, works: list[dict[str, Any]]) -> None:
        self._note("diff", works)

    def write(self, works: list[dict[str, Any]]) -> None:
        self._note("write", works)

    def record(self, works: list[dict[str, Any]]) -> None:
        self._note("record", works)

    def ack(self, works: list[dict[str, Any]]) -> None:
        self._note("ack", works)


def test_stages_run_in_one_order_and_waiting_records_go_no_further() -> None:
    stages = Recording()
    handled = run_batch(stages, [{"id": "a"}, {"id": "wait"}, {"id": "b"}])
    assert [step for step, _ in stages.calls] == list(STEPS)
    assert stages.calls[1] == ("skip_seen", ["a", "wait", "b"])
    assert all(ids == ["a", "b"] for step, ids in stages.calls[2:])
    assert [w["id"] for w in handled] == ["a", "b"] and all(w["mapped"] for w in handled)


def test_an_empty_read_runs_no_other_stage() -> None:
    stages = Recording()
    assert run_batch(stages, []) == []
    assert stages.calls == [("read", [])]


def test_both_directions_report_with_one_type() -> None:
    assert EntityReport is BatchReport and InboundEntityReport is BatchReport
    outbound = BatchReport(read=3, created=1, linked=1, parked=1, failed=1, failures=[("001", "Acme", "why")])
    inbound = BatchReport(created=2, updated=1, echoes=4)
    inbound.queried = 7  # the inbound pass's word for read
    assert inbound.read == 7 and inbound.synced == 3 and outbound.synced == 2
    outbound.add(inbound)
    assert (outbound.read, outbound.created, outbound.echoes, outbound.parked) == (10, 3, 4, 1)
    assert outbound.failures == [("001", "Acme", "why")]
