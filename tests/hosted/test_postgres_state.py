"""The state store on the hosted database keeps what the engine writes: PostgreSQL enforces column lengths that
SQLite ignores."""

from __future__ import annotations

from qbsf.sync.state import StateStore


def test_a_read_windows_quiet_mark_fits_the_watermark_column(hosted_url) -> None:
    # The read window's quiet mark: the watermark and when it was first seen, two instants (65 characters).
    quiet = "2026-12-06T10:06:33.225000+00:00 2026-12-06T10:06:56.429492+00:00"
    with StateStore(hosted_url) as state:
        state.set_watermark("sf:Account@quiet", quiet, entity="Account")
        assert state.get_watermark("sf:Account@quiet", entity="Account") == quiet
    assert len(quiet) > 64, "longer than the 0.1.0 column, which PostgreSQL refused"
