"""The pipeline's source: reads stream page by page (a pass holds a batch, its page and the page read ahead, not
the whole read), and QuickBooks' delta reads of every entity start in one qbXML message."""

from __future__ import annotations

import gc
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from qbsf.bench.outbound import seed_org
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.together import Query, delta_query, query_together
from qbsf.sync.inbound import InboundConfig, InboundSync
from qbsf.sync.pipeline.source import Cursor, in_batches
from qbsf.sync.state import StateStore


class _Record(dict):
    """A Salesforce record that can be counted while alive."""


class CountingSalesforce:
    """The Salesforce client, answering every query in pages of ``page`` records and counting how many records
    read are still alive (referenced by the pass) each time a page is fetched or a batch written back."""

    def __init__(self, client: Any, page: int) -> None:
        self.client = client
        self.page = page
        self.alive = 0
        self.most_alive = 0
        self.pages = 0

    def _sample(self) -> None:
        gc.collect()
        self.most_alive = max(self.most_alive, self.alive)

    def _gone(self) -> None:
        self.alive -= 1

    def iter_query(self, soql: str, **_options: Any):
        for page in self.client.iter_query(soql, batch_size=self.page):
            self._sample()
            self.pages += 1
            records = [_Record(record) for record in page]
            for record in records:
                self.alive += 1
                weakref.finalize(record, self._gone)
            del page
            yield records

    def query(self, soql: str, **_options: Any) -> list[dict[str, Any]]:
        return [record for page in self.iter_query(soql) for record in page]

    def update_many(self, sobject: str, records: Any) -> Any:
        self._sample()
        return self.client.update_many(sobject, records)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


@pytest.fixture
def inbound(world):
    """``inbound(**config)`` → a fresh QuickBooks → Salesforce sync over the world's systems."""

    def make(**changes: Any) -> InboundSync:
        return InboundSync(InboundConfig(**changes), world.sf, world.qb, world.state, world.mappings)

    return make


def test_an_outbound_pass_holds_a_batch_and_a_page_not_the_whole_read(world) -> None:
    seed_org(world.sf_state, accounts=1000)
    counting = CountingSalesforce(world.sf, page=200)
    world.sf = counting
    report = world.engine(batch_size=50).run_cycle()
    assert report.ok and report.entities["Account"].created == 1000
    assert counting.pages >= 5, "the Account poll came in pages"
    # 1,000 Accounts read: at most a batch (50), the page it came from (200) and the next page, read ahead while
    # QuickBooks works (200), were alive at once (qbsf.sync.pipeline.overlap.read_ahead).
    assert 0 < counting.most_alive <= 450, f"{counting.most_alive} records alive at once"


def test_an_inbound_pass_holds_a_batch_and_a_page_not_the_whole_read(world, inbound) -> None:
    for number in range(300):
        world.qb_sim.add("Customer", {"Name": f"Customer {number:03d}"})
    world.qb.page_size = 40
    most: list[int] = []
    upsert = world.sf.upsert_many

    def counting_upsert(sobject: str, external_id: str, records: Any) -> Any:
        gc.collect()
        most.append(sum(1 for thing in gc.get_objects() if type(thing) is rec.Customer))
        return upsert(sobject, external_id, records)

    world.sf.upsert_many = counting_upsert
    report = inbound(batch_size=25, company_tz=ZoneInfo("UTC")).run(["Customer"])
    assert report.ok and report.entities["Customer"].created == 300
    assert len(most) >= 12, "one upsert per batch of 25"
    # 300 customers read: at most a page (40) and a batch (25) of them were alive at once.
    assert max(most) <= 65, f"{max(most)} QuickBooks customers alive at once"


def test_an_idle_inbound_pass_costs_one_quickbooks_message(world, inbound) -> None:
    world.qb_sim.add("Customer", {"Name": "Acme"})
    world.qb_sim.add("ItemService", {"Name": "Consulting", "SalesOrPurchase": {"Price": "150.00",
                                                                               "AccountRef": {"FullName": "Sales"}}})
    first = inbound(company_tz=ZoneInfo("UTC")).run()
    assert first.ok and first.total("created") == 2
    idle = inbound(company_tz=ZoneInfo("UTC")).run()
    assert idle.ok and idle.total("queried") == 0
    # Customer, Item and Invoice modified-since reads and the deletions reads: one message, not four.
    assert idle.qb_messages == 1 and idle.sf_calls == 0


def test_queries_sent_together_page_on_their_own_and_a_refused_one_fails_alone(qb_sim, qb_client) -> None:
    for number in range(7):
        qb_sim.add("Customer", {"Name": f"Customer {number}"})
    for number in range(3):
        qb_sim.add("ItemService", {"Name": f"Item {number}", "SalesOrPurchase": {"Price": "1.00", "AccountRef": {
            "FullName": "Sales"}}})
    qb_client.page_size = 2
    assert qb_client.qbxml_version  # negotiated before counting
    before = qb_client.messages_sent
    customers, items, refused = query_together(qb_client, [
        delta_query("Customer", None), delta_query("Item", None),
        Query("InvoiceQueryRq", {"TxnID": ["NO-SUCH-TXN"]}, paged=False)])
    assert qb_client.messages_sent - before == 1, "the three first pages in one message"
    assert sorted(c.Name for page in customers for c in page) == [f"Customer {n}" for n in range(7)]
    assert sorted(i.Name for page in items for i in page) == [f"Item {n}" for n in range(3)]
    assert qb_client.messages_sent - before == 1 + 3 + 1, "then each iterator continues on its own"
    assert [list(page) for page in refused] == [[]], "a TxnID QuickBooks does not have: nothing, no error"


def test_a_cursor_moves_only_forward_and_remembers_versions() -> None:
    state = StateStore(":memory:")
    try:
        cursor = Cursor(state, "qb:Customer", entity="Customer", overlap=timedelta(seconds=10),
                        resolution=timedelta(seconds=1))
        assert cursor.watermark() is None and cursor.start(None).since is None
        moment = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
        assert cursor.advance(moment) and not cursor.advance(moment - timedelta(seconds=1))
        assert cursor.watermark() == moment
        assert cursor.start(moment).since == moment - timedelta(seconds=10)
        cursor.remember([("80-1", "v1")])
        assert cursor.unseen([("80-1", "v1"), ("80-1", "v2"), ("80-2", "v1")]) == {("80-1", "v2"), ("80-2", "v1")}
    finally:
        state.close()


def test_in_batches_reads_no_further_ahead_than_a_batch() -> None:
    pulled: list[int] = []

    def numbers():
        for number in range(7):
            pulled.append(number)
            yield number

    batches = in_batches(numbers(), 3)
    assert next(batches) == [0, 1, 2] and pulled == [0, 1, 2]
    assert list(batches) == [[3, 4, 5], [6]]



def test_every_inbound_entity_can_be_checked_by_its_versions_alone(qb_sim, qb_client) -> None:
    """The read window's check asks each QuickBooks → Salesforce entity for its records' id, TimeModified and
    EditSequence only (IncludeRetElement): every such query is valid qbXML (validated against Intuit's schemas) and
    answers versions the check can compare."""
    from qbsf.sync.entities import INBOUND_SPECS
    from qbsf.sync.pipeline.source import quickbooks_version

    customer = qb_sim.add("Customer", {"Name": "Versioned"})
    qb_sim.add("ItemService", {"Name": "Versioned Service", "SalesOrPurchase": {"Price": "1.00", "AccountRef": {
        "FullName": "Sales"}}})
    queries = [delta_query(spec.name, None, only=(spec.id_field, "TimeModified", "EditSequence"), page_size=50)
               for spec in INBOUND_SPECS]
    streams = query_together(qb_client, queries)
    found = {spec.name: [record for page in stream for record in page] for spec, stream in zip(INBOUND_SPECS, streams,
                                                                                                 strict=True)}
    (read,) = found["Customer"]
    assert (read.ListID, read.EditSequence, read.Name) == (customer["ListID"], customer["EditSequence"], None)
    assert quickbooks_version(read).endswith(f"|{customer['EditSequence']}") and read.TimeModified is not None
    assert [item.Name for item in found["Item"]] == [None] and found["Item"][0].ListID
