"""The state store: crosswalk, watermarks, hashes, journal, failures, activity — on SQLite and on PostgreSQL.

``store`` and ``state_url`` (tests/sync/conftest.py) run each test on an in-memory SQLite database and on the
test PostgreSQL server (`make postgres`); the tests about SQLite files stay on SQLite.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.errors import ConfigError
from qbsf.sync.state import (
    Activity,
    Direction,
    FailureInput,
    JournalEntry,
    JournalStatus,
    Link,
    Outcome,
    RetryPolicy,
    StateError,
    StateStore,
    database_url,
)

SF = Direction.SF_TO_QB
QB = Direction.QB_TO_SF


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock, state_url: str):
    with StateStore(state_url, clock=clock) as state:
        yield state


def sf_id(n: int, prefix: str = "001") -> str:
    return f"{prefix}Q0{n:010d}AAA"


# ----------------------------------------------------------------------- crosswalk
def test_record_many_then_lookup_many_returns_only_linked_records(store: StateStore) -> None:
    store.record_many([Link("Account", sf_id(i), f"8000{i:04d}-1700000000", edit_sequence="1700000000",
                            external_guid=f"{{0000000{i}-0000-4000-8000-000000000000}}", qb_name=f"Acme {i}")
                       for i in range(3)])
    found = store.lookup_many("Account", [sf_id(0), sf_id(2), sf_id(9)])
    assert set(found) == {sf_id(0), sf_id(2)}
    assert found[sf_id(2)].qb_id == "80000002-1700000000"
    assert found[sf_id(2)].qb_name == "Acme 2"
    assert found[sf_id(2)].written_back is False
    assert store.lookup("Contact", sf_id(0)) is None, "entities are separate crosswalks"


def test_record_many_updates_existing_link(store: StateStore) -> None:
    store.record_many([Link("Account", sf_id(1), "80000001-1", edit_sequence="1")])
    store.record_many([Link("Account", sf_id(1), "80000001-1", edit_sequence="2", written_back=True)])
    link = store.lookup("Account", sf_id(1))
    assert link is not None and link.edit_sequence == "2" and link.written_back
    assert store.count_links() == {"Account": 1}


def test_one_quickbooks_record_never_backs_two_salesforce_records(store: StateStore) -> None:
    store.record_many([Link("Account", sf_id(1), "80000001-1")])
    with pytest.raises(StateError, match="same QuickBooks record") as info:
        store.record_many([Link("Account", sf_id(2), "80000001-1")])
    assert "qbsf link" in str(info.value)
    assert store.lookup("Account", sf_id(2)) is None


def test_lookup_qb_many_and_edit_sequences(store: StateStore) -> None:
    store.record_many([Link("Product2", sf_id(i, "01t"), f"{i}-1", edit_sequence="1") for i in range(4)])
    store.update_edit_sequences("Product2", {"1-1": "55", "3-1": "77"})
    by_qb = store.lookup_qb_many("Product2", ["1-1", "3-1", "9-9"])
    assert {qb_id: link.edit_sequence for qb_id, link in by_qb.items()} == {"1-1": "55", "3-1": "77"}
    assert by_qb["3-1"].sf_id == sf_id(3, "01t")


def test_lookup_many_handles_more_ids_than_one_in_list(store: StateStore) -> None:
    store.record_many([Link("Account", sf_id(i), f"Q{i}") for i in range(1_200)])
    found = store.lookup_many("Account", [sf_id(i) for i in range(0, 1_300)])
    assert len(found) == 1_200


def test_pending_write_backs_until_marked(store: StateStore) -> None:
    store.record_many([Link("Account", sf_id(i), f"Q{i}") for i in range(3)])
    assert [link.sf_id for link in store.pending_write_backs("Account")] == [sf_id(0), sf_id(1), sf_id(2)]
    store.mark_written_back_many("Account", [sf_id(0), sf_id(2)])
    assert [link.sf_id for link in store.pending_write_backs("Account")] == [sf_id(1)]


def test_unlink_forgets_link_and_hashes(store: StateStore) -> None:
    store.record_many([Link("Account", sf_id(1), "Q1")])
    store.set_hashes_many("Account", SF, {sf_id(1): "h1"})
    assert store.unlink("Account", sf_id(1)) is True
    assert store.unlink("Account", sf_id(1)) is False
    assert store.lookup("Account", sf_id(1)) is None
    assert store.hashes_many("Account", SF, [sf_id(1)]) == {}


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(st.integers(0, 10_000), st.integers(0, 10_000), max_size=40))
def test_crosswalk_round_trips_any_set_of_links(pairs: dict[int, int]) -> None:
    qb_ids = {}
    for sf_number, qb_number in pairs.items():
        qb_ids.setdefault(qb_number, sf_number)  # keep QB ids unique, as the store demands
    with StateStore(":memory:") as state:
        state.record_many([Link("Account", sf_id(s), f"QB{q}") for q, s in qb_ids.items()])
        found = state.lookup_many("Account", [sf_id(s) for s in pairs])
        assert {key: link.qb_id for key, link in found.items()} == {sf_id(s): f"QB{q}" for q, s in qb_ids.items()}


# ----------------------------------------------------------------------- transactions
def test_batch_is_one_transaction_rolled_back_on_error(store: StateStore) -> None:
    with pytest.raises(RuntimeError), store.batch():
        store.record_many([Link("Account", sf_id(1), "Q1")])
        store.set_watermark("sf:Account", "2026-01-01T00:00:00.000Z")
        raise RuntimeError("crash mid-batch")
    assert store.lookup("Account", sf_id(1)) is None
    assert store.get_watermark("sf:Account") is None


def test_batch_commits_everything_together(store: StateStore) -> None:
    with store.batch():
        store.record_many([Link("Account", sf_id(1), "Q1")])
        with store.batch():  # nested batches join the outer transaction
            store.set_hashes_many("Account", SF, {sf_id(1): "h"})
    assert store.lookup("Account", sf_id(1)) is not None
    assert store.hashes_many("Account", SF, [sf_id(1)]) == {sf_id(1): "h"}


# ----------------------------------------------------------------------- watermarks and seen versions
def test_watermarks_get_set_reset(store: StateStore) -> None:
    assert store.get_watermark("sf:Account") is None
    store.set_watermark("sf:Account", "2026-01-01T00:00:00.000Z")
    store.set_watermark("sf:Account", "2026-01-02T00:00:00.000Z")
    store.set_watermark("sf:Contact", "2026-01-03T00:00:00.000Z")
    store.set_watermark("qb:Customer", "2026-01-04T00:00:00")
    assert store.get_watermark("sf:Account") == "2026-01-02T00:00:00.000Z"
    assert set(store.watermarks()) == {"sf:Account", "sf:Contact", "qb:Customer"}
    assert store.reset_watermark("sf:Contact") is True
    assert store.reset_watermark("sf:Contact") is False
    assert store.reset_all_watermarks(prefix="sf:") == 1
    assert set(store.watermarks()) == {"qb:Customer"}
    assert store.reset_all_watermarks() == 1
    assert store.watermarks() == {}


def test_reset_all_watermarks_prefix_is_literal(store: StateStore) -> None:
    store.set_watermark("sf_x", "1")
    store.set_watermark("sfAx", "1")
    assert store.reset_all_watermarks(prefix="sf_") == 1, "an underscore in the prefix is not a LIKE wildcard"
    assert set(store.watermarks()) == {"sfAx"}


def test_seen_versions_deduplicate_and_forget_old(store: StateStore) -> None:
    pairs = [("001A", "2026-01-01T00:00:01.000Z"), ("001B", "2026-01-01T00:00:02.000Z")]
    assert store.unseen("sf:Account", pairs) == pairs
    store.remember_seen("sf:Account", pairs)
    newer = ("001A", "2026-01-01T00:00:05.000Z")
    assert store.unseen("sf:Account", [*pairs, newer]) == [newer]
    assert store.unseen("sf:Contact", pairs) == pairs, "sources are separate"
    store.remember_seen("sf:Account", [newer], forget_before="2026-01-01T00:00:02.000Z")
    assert store.unseen("sf:Account", pairs) == [pairs[0]]
    store.reset_watermark("sf:Account")
    assert store.unseen("sf:Account", [newer]) == [newer], "a reset forgets what was seen"


def test_seen_versions_from_give_each_record_its_newest_version(store: StateStore) -> None:
    store.remember_seen("sf:Account", [("001A", "2026-01-01T00:00:01.000Z"), ("001A", "2026-01-01T00:00:05.000Z"),
                                       ("001B", "2026-01-01T00:00:02.000Z"), ("001C", "2025-12-31T00:00:00.000Z")])
    store.remember_seen("sf:Contact", [("003A", "2026-01-01T00:00:03.000Z")])
    assert store.seen_versions_from("sf:Account", "2026-01-01T00:00:00.000Z") == {
        "001A": "2026-01-01T00:00:05.000Z", "001B": "2026-01-01T00:00:02.000Z"}
    assert store.seen_versions_from("sf:Account", "2026-01-01T00:00:03.000Z") == {"001A": "2026-01-01T00:00:05.000Z"}


# ----------------------------------------------------------------------- payload hashes
def test_hashes_are_per_entity_direction_and_record(store: StateStore) -> None:
    store.set_hashes_many("Account", SF, {"001A": "h1", "001B": "h2"})
    store.set_hashes_many("Account", QB, {"001A": "other"})
    store.set_hashes_many("Account", SF, {"001A": "h3"})
    assert store.hashes_many("Account", SF, ["001A", "001B", "001C"]) == {"001A": "h3", "001B": "h2"}
    assert store.hashes_many("Account", QB, ["001A"]) == {"001A": "other"}
    assert store.clear_hashes("Account", SF) == 2
    assert store.hashes_many("Account", SF, ["001A"]) == {}
    assert store.hashes_many("Account", QB, ["001A"]) == {"001A": "other"}
    assert store.clear_hashes() == 1


# ----------------------------------------------------------------------- journal
def test_journal_begin_complete_abandon(store: StateStore) -> None:
    begun = store.journal_begin_many([
        JournalEntry("Account", sf_id(i), "add", external_guid=f"{{guid-{i}}}", qb_name=f"Acme {i}")
        for i in range(3)])
    assert [entry.id for entry in begun] == sorted(entry.id for entry in begun)
    assert [entry.sf_id for entry in store.in_flight()] == [sf_id(0), sf_id(1), sf_id(2)]
    store.journal_complete_many({begun[0].id: "Q0"})
    store.journal_abandon_many({begun[1].id: "QuickBooks refused: name in use"})
    assert [entry.sf_id for entry in store.in_flight("Account")] == [sf_id(2)]
    assert store.in_flight("Contact") == []
    by_id = {entry.id: entry for entry in store.journal()}
    assert by_id[begun[0].id].status is JournalStatus.COMPLETED and by_id[begun[0].id].qb_id == "Q0"
    assert by_id[begun[1].id].status is JournalStatus.ABANDONED
    assert by_id[begun[1].id].message == "QuickBooks refused: name in use"
    # A finished entry is final: completing an abandoned write does not resurrect it.
    store.journal_complete_many({begun[1].id: "Q1"})
    assert {entry.id: entry for entry in store.journal()}[begun[1].id].status is JournalStatus.ABANDONED


def test_prune_journal_keeps_in_flight(store: StateStore, clock: Clock) -> None:
    done, pending = store.journal_begin_many([JournalEntry("Account", "001A", "add"),
                                              JournalEntry("Account", "001B", "add")])
    store.journal_complete_many({done.id: "Q"})
    clock.advance(days=40)
    assert store.prune_journal(clock.now - timedelta(days=30)) == 1
    assert [entry.id for entry in store.journal()] == [pending.id]


def test_journal_survives_a_killed_process(tmp_path) -> None:
    """An in-flight Add journaled by a process that is SIGKILLed is still in flight for the next process."""
    path = tmp_path / "state.db"
    script = (
        "import os, signal\n"
        "from qbsf.sync.state import StateStore, JournalEntry\n"
        f"s = StateStore({str(path)!r})\n"
        "s.journal_begin_many([JournalEntry('Account', '001A', 'add', external_guid='{g}', qb_name='Acme')])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == -9, result.stderr.decode()
    with StateStore(path) as state:
        (entry,) = state.in_flight()
    assert (entry.sf_id, entry.external_guid, entry.qb_name) == ("001A", "{g}", "Acme")


# ----------------------------------------------------------------------- failures
def test_failures_back_off_then_park(clock: Clock, state_url: str) -> None:
    policy = RetryPolicy(max_attempts=3, base=timedelta(seconds=30), cap=timedelta(seconds=100))
    with StateStore(state_url, clock=clock, retry_policy=policy) as store:
        failure = FailureInput("001A", "Retriable", "QuickBooks is busy: retrying later", version="v1")
        (first,) = store.fail_many("Account", SF, [failure])
        assert (first.attempts, first.parked) == (1, False)
        assert first.next_attempt_at == clock.now + timedelta(seconds=30)
        assert store.failures_due("Account", SF) == []
        clock.advance(seconds=30)
        assert [f.record_key for f in store.failures_due("Account", SF)] == ["001A"]
        (second,) = store.fail_many("Account", SF, [failure])
        assert second.attempts == 2 and second.next_attempt_at == clock.now + timedelta(seconds=60)
        assert second.first_failed_at == first.first_failed_at
        clock.advance(seconds=60)
        (third,) = store.fail_many("Account", SF, [failure])
        assert third.attempts == 3 and third.parked
        clock.advance(days=1)
        assert store.failures_due("Account", SF) == [], "a parked record is not retried by time alone"
        assert [f.record_key for f in store.failures(parked=True)] == ["001A"]


def test_backoff_is_capped() -> None:
    policy = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(minutes=10))
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4, 5, 6, 9)] == [30, 60, 120, 240, 480, 600, 600]


def test_a_changed_record_starts_counting_again(store: StateStore) -> None:
    store.fail_many("Account", SF, [FailureInput("001A", "NeedsUser", "bad", version="v1")] * 1)
    (again,) = store.fail_many("Account", SF, [FailureInput("001A", "NeedsUser", "bad", version="v1")])
    assert again.attempts == 2
    (changed,) = store.fail_many("Account", SF, [FailureInput("001A", "NeedsUser", "still bad", version="v2")])
    assert changed.attempts == 1 and changed.message == "still bad"


def test_park_immediately_kinds(clock: Clock, state_url: str) -> None:
    policy = RetryPolicy(max_attempts=5, park_immediately=frozenset({"NeedsUser"}))
    with StateStore(state_url, clock=clock, retry_policy=policy) as store:
        states = store.fail_many("Account", SF, [FailureInput("001A", "NeedsUser", "fix the name", version="v1"),
                                                 FailureInput("001B", "Retriable", "busy", version="v1")])
    assert [(s.record_key, s.parked) for s in states] == [("001A", True), ("001B", False)]


def test_unpark_when_record_changes_and_user_retry(store: StateStore, clock: Clock) -> None:
    policy = RetryPolicy(max_attempts=1)
    store.fail_many("Account", SF, [FailureInput("001A", "NeedsUser", "x", version="v1"),
                                    FailureInput("001B", "NeedsUser", "x", version="v1"),
                                    FailureInput("001C", "NeedsUser", "x", version="v1")], policy=policy)
    assert store.unpark_changed("Account", SF, {"001A": "v1", "001B": "v2", "001Z": "v9"}) == ["001B"]
    assert {f.record_key for f in store.failures_due("Account", SF)} == {"001B"}
    assert store.retry(entity="Account", keys=["001C"]) == 1
    assert {f.record_key for f in store.failures_due("Account", SF)} == {"001B", "001C"}
    assert store.retry() == 3
    assert len(store.failures_due("Account", SF)) == 3
    assert store.clear_failures_many("Account", SF, ["001A", "001B"]) == 2
    assert [f.record_key for f in store.failures()] == ["001C"]
    assert store.failures_for("Account", QB, ["001C"]) == {}, "directions are separate"


# ----------------------------------------------------------------------- activity log
def _activity(entity: str, outcome: Outcome, n: int, direction: Direction = SF) -> Activity:
    return Activity(entity=entity, direction=direction, operation="add", outcome=outcome, sf_id=sf_id(n),
                    qb_id=f"Q{n}", message=f"attempt {n}", cycle="c1")


def test_activity_recent_failed_only_and_totals(store: StateStore, clock: Clock) -> None:
    store.log_many([_activity("Account", Outcome.CREATED, 1), _activity("Account", Outcome.FAILED, 2)])
    clock.advance(minutes=1)
    store.log_many([_activity("Product2", Outcome.PARKED, 3), _activity("Account", Outcome.UPDATED, 4, QB)])
    store.log(_activity("Account", Outcome.CREATED, 5))
    recent = store.recent(limit=3)
    assert [a.sf_id for a in recent] == [sf_id(5), sf_id(4), sf_id(3)]
    assert recent[2].at == clock.now and recent[2].failed
    assert [a.sf_id for a in store.recent(failed_only=True)] == [sf_id(3), sf_id(2)]
    assert [a.sf_id for a in store.recent(entity="Account", direction=SF)] == [sf_id(5), sf_id(2), sf_id(1)]
    assert [a.sf_id for a in store.recent(sf_id=sf_id(2))] == [sf_id(2)]
    assert len(store.recent(since=clock.now)) == 3
    assert store.totals() == {"Account": {"created": 2, "failed": 1, "updated": 1}, "Product2": {"parked": 1}}
    assert store.totals(direction=QB) == {"Account": {"updated": 1}}
    assert store.prune_activity(clock.now) == 2
    assert len(store.recent()) == 3


# ----------------------------------------------------------------------- databases
def test_file_database_uses_wal_and_persists(tmp_path, clock: Clock) -> None:
    path = tmp_path / "nested" / "qbsf.db"
    with StateStore(path, clock=clock) as store:
        store.record_many([Link("Account", "001A", "Q1")])
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with StateStore(str(path)) as reopened:
        assert reopened.lookup("Account", "001A").qb_id == "Q1"


def test_two_stores_on_one_file_see_each_others_writes(tmp_path) -> None:
    path = tmp_path / "shared.db"
    with StateStore(path) as writer, StateStore(path) as reader:
        writer.set_watermark("sf:Account", "w1")
        assert reader.get_watermark("sf:Account") == "w1"


def test_database_urls() -> None:
    assert database_url(":memory:") == "sqlite://"
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("state.db").startswith("sqlite:////")


def test_bad_database_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not a database URL"):
        StateStore("no such://thing")


def test_missing_driver_is_a_config_error_without_password() -> None:
    with pytest.raises(ConfigError) as info:
        StateStore("postgresql+nosuchdriver://qbsf:s3cret@localhost/qbsf")
    assert "s3cret" not in str(info.value)


def test_unwritable_database_is_a_config_error(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="cannot create the folder"):
        StateStore(blocker / "db.sqlite")


def test_naive_datetimes_are_refused(store: StateStore) -> None:
    with pytest.raises(Exception, match="time-zone-aware"):
        store.prune_activity(datetime(2026, 1, 1))
