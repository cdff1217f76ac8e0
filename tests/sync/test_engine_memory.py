"""The sync engine's memory grows with the batch, not with the records synced (issue 17): after a pass of N
Accounts and after a pass of 4 N, the engine keeps about the same Python memory."""

from __future__ import annotations

import gc
import tracemalloc

import pytest

from qbsf.bench.outbound import seed_org

# Allocations made by the emulators (in this process for the test) and by the test harness are not the engine's.
_NOT_THE_ENGINE = ("*/qbsf/sim/*", "*/socketserver.py", "*/http/server.py", "*/_pytest/*", "*/pluggy/*",
                   "*/tracemalloc.py")


def _engine_bytes() -> int:
    """Python memory alive now that no emulator frame allocated (tracing keeps every frame)."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, pattern, all_frames=True) for pattern in _NOT_THE_ENGINE])
    return sum(stat.size for stat in snapshot.statistics("filename"))


def _kept_after_a_pass(world, accounts: int) -> tuple[int, int]:
    """Bytes the engine keeps after syncing ``accounts`` new Accounts (engine and report still alive), and the
    number created."""
    seed_org(world.sf_state, accounts=accounts, prefix=f"{accounts} ")
    engine = world.engine(batch_size=25)
    before = _engine_bytes()
    report = engine.sync_sf_to_qb(["Account"])
    kept = _engine_bytes() - before
    assert report.ok, report.failures
    return kept, report.entities["Account"].created


# Tracing every allocation 12 frames deep makes this ~70 s on a quiet machine and past the suite's 300 s ceiling
# when the cores are shared: a longer ceiling of its own, still finite.
@pytest.mark.timeout(1200)
def test_the_engine_keeps_the_same_memory_after_n_and_after_4n_records(world) -> None:
    tracemalloc.start(12)
    try:
        _kept_after_a_pass(world, 20)  # imports, caches and first-use structures, before measuring
        small, small_created = _kept_after_a_pass(world, 100)
        large, large_created = _kept_after_a_pass(world, 400)
    finally:
        tracemalloc.stop()
    assert (small_created, large_created) == (100, 400)
    # A record kept per synced Account would cost at least ~1 KB (its id, QuickBooks record or version): 450 more
    # Accounts would add ≥ 450 KB. Allow 150 KB of noise.
    assert large - small < 150_000, f"kept {small:,} bytes after 150 Accounts and {large:,} after 600"
