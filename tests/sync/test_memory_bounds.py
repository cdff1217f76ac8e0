"""Memory grows with the batch, not with the records synced: the QuickBooks adapter keeps only recent Mod bases."""

from __future__ import annotations

from qbsf.bench.outbound import seed_org
from qbsf.sync.adapters import QuickBooksAdapter


def test_the_adapter_keeps_only_the_newest_bases_and_reads_a_dropped_one_again(qb_client) -> None:
    adapter = QuickBooksAdapter(qb_client, keep=10)
    written = adapter.add_many("Customer", [{"Name": f"Customer {n:03d}"} for n in range(40)])
    assert all(w.qb_id for w in written)
    assert len(adapter._bases) == 10, "only the newest ten written records are kept"
    first = written[0]
    assert first.qb_id not in adapter._bases
    sent_before = qb_client.messages_sent
    (modified,) = adapter.mod_many("Customer", [{"ListID": first.qb_id, "EditSequence": first.edit_sequence,
                                                 "Phone": "555-0100"}])
    assert modified.error is None and not modified.unchanged, "a base let go is read again, not lost"
    assert qb_client.messages_sent - sent_before == 2  # one read of the base, one Mod
    assert len(adapter._bases) == 10


def test_an_engine_keeps_bases_for_a_batch_not_for_every_record(world) -> None:
    seed_org(world.sf_state, accounts=120)
    engine = world.engine(batch_size=20)
    report = engine.run_cycle()
    assert report.ok and report.entities["Account"].created == 120
    assert engine.qb.keep == 40 and len(engine.qb._bases) <= 40
