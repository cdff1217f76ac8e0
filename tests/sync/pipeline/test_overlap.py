"""Salesforce work beside QuickBooks work (qbsf.sync.pipeline.overlap): the next page is read and a batch's ids are
written back while QuickBooks takes the next batch — proven by the emulators' own counters, not by the clock: a
Salesforce call held until the QuickBooks simulator has answered one more message can only finish when the pass
goes on beside it (a pass that waited for the call would never send that message)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from qbsf.bench.outbound import seed_org
from qbsf.salesforce.errors import SalesforceRetriable
from qbsf.sim.salesforce import rest
from qbsf.sync.entities import entity
from qbsf.sync.pipeline.overlap import Job, read_ahead

# How long a held Salesforce call waits for QuickBooks before the test calls the pass serial (generous: a loaded
# machine takes a few seconds for a batch; only a serial pass ever waits this long).
HOLD_LIMIT = 60.0


def _until(condition: Callable[[], bool], limit: float = HOLD_LIMIT) -> bool:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class _Held:
    """Holds chosen Salesforce calls until the QuickBooks simulator has answered a message more than when the call
    started; notes, for each, whether that happened."""

    def __init__(self, qb_sim: Any) -> None:
        self.qb_sim = qb_sim
        self.beside_quickbooks: list[bool] = []

    def hold(self) -> None:
        answered = self.qb_sim.stats.messages
        self.beside_quickbooks.append(_until(lambda: self.qb_sim.stats.messages > answered))


def test_a_batchs_write_back_goes_to_salesforce_while_quickbooks_takes_the_next_batch(world, monkeypatch) -> None:
    seed_org(world.sf_state, accounts=30)
    held = _Held(world.qb_sim)
    real = world.sf.update_and_read

    def update_and_read(sobject: str, records: Any, **kwargs: Any) -> Any:
        if len(held.beside_quickbooks) < 2:  # the first two batches' write-backs; the last has no batch after it
            held.hold()
        return real(sobject, records, **kwargs)

    monkeypatch.setattr(world.sf, "update_and_read", update_and_read)
    report = world.engine(batch_size=10).sync_sf_to_qb(["Account"])
    assert report.ok and report.entities["Account"].created == 30
    assert held.beside_quickbooks == [True, True], \
        "QuickBooks answered the next batch while each write-back was on its way"
    assert report.entities["Account"].written_back == 30
    assert all(link.written_back for link in world.state.links("Account"))
    # The poll ended after its last write-back was finished: the watermark moved past the engine's own writes, so
    # the next cycle reads nothing.
    again = world.engine(batch_size=10).sync_sf_to_qb(["Account"])
    assert again.ok and again.total("read") == 0 and again.qb_messages == 0


def _small_pages(monkeypatch, size: int) -> None:
    """The emulator answers queries in pages of ``size`` records (Salesforce's smallest is 200; a test needs fewer)."""
    monkeypatch.setattr(rest, "DEFAULT_BATCH", size)


def _on_next_page(world, monkeypatch, action: Callable[[], None]) -> list[str]:
    """Run ``action`` when the client asks Salesforce for a query's next page (``nextRecordsUrl``)."""
    real = world.sf._json
    asked: list[str] = []

    def _json(method: str, path: str, **kwargs: Any) -> Any:
        if method == "GET" and "/query/" in path:
            asked.append(path)
            action()
        return real(method, path, **kwargs)

    monkeypatch.setattr(world.sf, "_json", _json)
    return asked


def test_the_next_page_is_read_while_quickbooks_takes_the_page_before(world, monkeypatch) -> None:
    # Pages of 20 hold two batches: each write-back's read of the changes since the call before fits one page.
    _small_pages(monkeypatch, 20)
    seed_org(world.sf_state, accounts=60)
    held = _Held(world.qb_sim)
    asked = _on_next_page(world, monkeypatch, held.hold)
    report = world.engine(batch_size=10).sync_sf_to_qb(["Account"])
    assert report.ok and report.entities["Account"].created == 60
    assert len(asked) == 2, "60 Accounts in pages of 20: two next pages"
    assert held.beside_quickbooks == [True, True], "each next page was read while QuickBooks took the page before"
    again = world.engine(batch_size=10).sync_sf_to_qb(["Account"])
    assert again.ok and again.total("read") == 0 and again.qb_messages == 0


def test_a_page_that_cannot_be_read_fails_the_pass_after_the_pages_before_it_synced(world, monkeypatch) -> None:
    _small_pages(monkeypatch, 10)
    seeded = seed_org(world.sf_state, accounts=30)

    def refuse() -> None:
        raise SalesforceRetriable("GET query failed (ReadTimeout)", error_code="TIMEOUT")

    _on_next_page(world, monkeypatch, refuse)
    failed = world.engine(batch_size=10).sync_sf_to_qb(["Account"])
    # The read ahead failed long before the pass wanted the page: the pass still synced the first page whole and
    # stopped only where it asked for the second, with the read's own error — as when the page was read then.
    assert failed.error is not None and "ReadTimeout" in failed.error
    assert failed.entities["Account"].created == 10 and failed.entities["Account"].written_back == 10
    assert world.state.get_watermark(entity("Account").watermark_source) is None, "the watermark did not move"
    monkeypatch.undo()
    again = world.engine(batch_size=10).sync_sf_to_qb(["Account"])
    assert again.ok and again.entities["Account"].created == 20
    names = sorted(c["Name"] for c in world.customers())
    assert names == sorted(world.sf_state.get("Account", i)["Name"] for i in seeded.accounts), "each one once"


def test_a_write_back_that_breaks_ends_the_pass_with_its_error_and_the_next_cycle_writes_the_ids(world,
                                                                                              monkeypatch) -> None:
    seed_org(world.sf_state, accounts=20)
    real = world.sf.update_and_read
    calls = [0]

    def update_and_read(sobject: str, records: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("the write-back's thread broke")
        return real(sobject, records, **kwargs)

    monkeypatch.setattr(world.sf, "update_and_read", update_and_read)
    with pytest.raises(RuntimeError, match="write-back's thread broke"):
        world.engine(batch_size=10).sync_sf_to_qb(["Account"])
    monkeypatch.undo()
    assert sum(1 for link in world.state.links("Account") if link.written_back) < 20
    again = world.engine(batch_size=10).sync_sf_to_qb(["Account"])
    assert again.ok
    assert all(link.written_back for link in world.state.links("Account"))
    assert len(world.customers()) == 20, "every Account in QuickBooks once"


# ---- read_ahead itself ---------------------------------------------------------------------------------------------

class _Pages:
    """Pages handed out one by one, counting how many were asked for; page ``broken`` raises instead."""

    def __init__(self, count: int, broken: int | None = None) -> None:
        self.count = count
        self.broken = broken
        self.asked = 0
        self.closed = False
        self.threads: set[str] = set()

    def __iter__(self) -> Iterator[int]:
        try:
            for number in range(self.count):
                self.asked += 1
                self.threads.add(threading.current_thread().name)
                if number == self.broken:
                    raise SalesforceRetriable(f"page {number} could not be read")
                yield number
        finally:
            self.closed = True


def test_read_ahead_reads_at_most_one_page_ahead_on_another_thread() -> None:
    pages = _Pages(5)
    seen: list[int] = []
    for page in read_ahead(pages):
        assert _until(lambda page=page: pages.asked == min(page + 2, 5), 10)
        time.sleep(0.02)
        assert pages.asked == min(page + 2, 5), "never more than the next page"
        seen.append(page)
    assert seen == [0, 1, 2, 3, 4] and pages.closed
    assert threading.current_thread().name not in pages.threads


def test_read_ahead_raises_a_failed_read_where_its_page_is_asked_for() -> None:
    pages = _Pages(5, broken=2)
    reader = read_ahead(pages)
    assert next(reader) == 0
    assert _until(lambda: pages.asked == 2, 10)
    assert next(reader) == 1  # page 2 failed on the other thread meanwhile: nothing is raised yet
    with pytest.raises(SalesforceRetriable, match="page 2 could not be read"):
        next(reader)
    assert pages.closed


def test_closing_a_read_ahead_waits_for_the_page_on_its_way_and_closes_the_read() -> None:
    pages = _Pages(5)
    reader = read_ahead(pages)
    assert next(reader) == 0
    reader.close()
    assert pages.closed and pages.asked == 2


def test_a_job_hands_back_its_value_or_raises_its_error_in_the_waiting_thread() -> None:
    def down() -> None:
        raise SalesforceRetriable("down")

    assert Job(lambda: 42).result() == 42
    with pytest.raises(SalesforceRetriable, match="down"):
        Job(down).result()
