"""Change sources against the Salesforce emulator: the SystemModstamp poller and the QBSync_Queue__c queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qbsf.sim.salesforce.apexrest import MAX_ROWS
from qbsf.sync.adapters import SalesforceAdapter
from qbsf.sync.changes import QueueSource, RecordResult, SystemModstampPoller
from qbsf.sync.entities import entity, parse_sf_datetime, soql_datetime
from qbsf.sync.state import StateStore


class Clock:
    """The emulator's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clocked(sf_schema):
    """A Salesforce org on a hand-moved clock, served over http, with a client port and a state store."""
    from qbsf.salesforce.auth import ClientCredentialsAuth
    from qbsf.salesforce.client import SalesforceClient
    from qbsf.sim.salesforce import SalesforceState, start_emulator

    clock = Clock()
    org = SalesforceState(sf_schema, clock=clock)
    with start_emulator(org) as emulator:
        client = SalesforceClient(emulator.url, ClientCredentialsAuth(emulator.url, emulator.client_id,
                                                                      emulator.client_secret), backoff=0.001)
        state = StateStore(":memory:", clock=clock)
        yield org, SalesforceAdapter(client), state, clock
        state.close()
        client.close()


def _ids(batches, entity: str) -> list[str]:
    return [r["Id"] for b in batches if b.spec.name == entity for r in b.records]


def _ack_all(source, batches) -> None:
    source.ack([RecordResult(b.spec.name, r["Id"], ok=True) for b in batches for r in b.records])


def test_poller_reads_changes_once_and_moves_the_watermark(clocked) -> None:
    org, sf, state, clock = clocked
    first = org.insert("Account", {"Name": "Acme"})
    poller = SystemModstampPoller(sf, state)
    batches = list(poller.changes(entities=["Account"]))
    assert _ids(batches, "Account") == [first]
    _ack_all(poller, batches)
    assert parse_sf_datetime(state.get_watermark("sf:Account")) == clock.now
    clock.now += timedelta(seconds=10)
    assert _ids(list(poller.changes(entities=["Account"])), "Account") == [], "already handled: de-duplicated"
    org.update("Account", first, {"Phone": "1"})
    second = org.insert("Account", {"Name": "Globex"})
    batches = list(poller.changes(entities=["Account"]))
    assert sorted(_ids(batches, "Account")) == sorted([first, second])


def test_poller_catches_a_record_committed_late_inside_the_overlap(clocked) -> None:
    org, sf, state, clock = clocked
    org.insert("Account", {"Name": "Seen"})
    poller = SystemModstampPoller(sf, state, overlap=timedelta(minutes=2))
    _ack_all(poller, list(poller.changes(entities=["Account"])))
    # A transaction that started before the watermark commits after it: its SystemModstamp is older.
    clock.now -= timedelta(seconds=30)
    late = org.insert("Account", {"Name": "Late"})
    clock.now += timedelta(seconds=60)
    assert _ids(list(poller.changes(entities=["Account"])), "Account") == [late]
    blind = SystemModstampPoller(sf, state, overlap=timedelta(0))
    assert _ids(list(blind.changes(entities=["Account"])), "Account") == [], "without the overlap it is missed"


def test_unacknowledged_batch_is_read_again(clocked) -> None:
    org, sf, state, _clock = clocked
    record = org.insert("Account", {"Name": "Acme"})
    poller = SystemModstampPoller(sf, state)
    list(poller.changes(entities=["Account"]))
    poller.ack([])  # the engine died before handling the batch
    assert state.get_watermark("sf:Account") is None
    assert _ids(list(poller.changes(entities=["Account"])), "Account") == [record]


def test_eligibility_and_integration_user_filters(clocked) -> None:
    org, sf, state, _clock = clocked
    account = org.insert("Account", {"Name": "Acme"})
    won = org.insert("Opportunity", {"Name": "Won", "StageName": "Closed Won", "CloseDate": "2026-05-01",
                                     "AccountId": account})
    prospect = org.insert("Opportunity", {"Name": "Open", "StageName": "Prospecting", "CloseDate": "2026-05-01",
                                          "AccountId": account})
    poller = SystemModstampPoller(sf, state)
    assert _ids(list(poller.changes(entities=["Opportunity"])), "Opportunity") == [won]
    custom = SystemModstampPoller(sf, state, eligibility={"Opportunity": "StageName = 'Prospecting'"})
    assert _ids(list(custom.changes(entities=["Opportunity"])), "Opportunity") == [prospect]
    integration = SystemModstampPoller(sf, state, exclude_user=org.user_id)
    assert _ids(list(integration.changes(entities=["Account"])), "Account") == [], \
        "changes made by the integration user are not polled"


def test_queue_claims_pending_rows_and_marks_them(clocked) -> None:
    org, sf, state, _clock = clocked
    done = org.insert("Account", {"Name": "Acme"})
    failed = org.insert("Account", {"Name": "Globex"})
    queue = QueueSource(sf, poller=SystemModstampPoller(sf, state))
    batches = list(queue.changes(entities=["Account"]))
    assert sorted(_ids(batches, "Account")) == sorted([done, failed])
    rows = {r["Record_Id__c"]: r for r in org.records("QBSync_Queue__c")}
    assert {rows[done]["Status__c"], rows[failed]["Status__c"]} == {"Processing"}
    assert rows[done]["Attempts__c"] == 1
    queue.ack([RecordResult("Account", done, ok=True), RecordResult("Account", failed, ok=False,
                                                                    message="QuickBooks said no → rename it")])
    rows = {r["Record_Id__c"]: r for r in org.records("QBSync_Queue__c")}
    assert rows[done]["Status__c"] == "Done" and rows[done].get("Error__c") in (None, "")
    assert rows[failed]["Status__c"] == "Failed" and rows[failed]["Error__c"] == "QuickBooks said no → rename it"
    assert rows[done]["Processed_At__c"] is not None
    (batch,) = list(queue.changes(entities=["Account"]))
    assert batch.records == [], "nothing pending any more"


def test_queue_reclaims_rows_a_crashed_connector_left_processing(clocked) -> None:
    org, sf, state, clock = clocked
    record = org.insert("Account", {"Name": "Acme"})
    crashed = QueueSource(sf, poller=SystemModstampPoller(sf, state), stale_after=timedelta(minutes=10))
    list(crashed.changes(entities=["Account"]))  # claimed, then the process died: no ack
    again = QueueSource(sf, poller=SystemModstampPoller(sf, state), stale_after=timedelta(minutes=10))
    assert _ids(list(again.changes(entities=["Account"])), "Account") == [], "still owned by the first run"
    clock.now += timedelta(minutes=11)
    batches = list(again.changes(entities=["Account"]))
    assert _ids(batches, "Account") == [record]
    (row,) = org.records("QBSync_Queue__c")
    assert row["Attempts__c"] == 2


def test_queue_rows_for_deleted_or_ineligible_records_are_done(clocked) -> None:
    org, sf, state, _clock = clocked
    account = org.insert("Account", {"Name": "Acme"})
    lost = org.insert("Opportunity", {"Name": "Lost", "StageName": "Closed Lost", "CloseDate": "2026-05-01",
                                      "AccountId": account})
    queue = QueueSource(sf, poller=SystemModstampPoller(sf, state))
    batches = list(queue.changes(entities=["Account", "Opportunity"]))
    (opportunities,) = [b for b in batches if b.spec.name == "Opportunity"]
    assert opportunities.records == [] and lost in opportunities.dropped
    queue.ack([RecordResult("Account", account, ok=True)])
    statuses = {r["Record_Id__c"]: (r["Status__c"], r.get("Error__c")) for r in org.records("QBSync_Queue__c")}
    assert statuses[lost][0] == "Done" and "not eligible" in statuses[lost][1]
    assert statuses[account] == ("Done", None)


def test_queued_delete_is_done_and_says_quickbooks_keeps_its_record(clocked) -> None:
    from qbsf.sync.changes import QUEUED_DELETE

    org, sf, state, _clock = clocked
    account = org.insert("Account", {"Name": "Acme"})
    queue = QueueSource(sf, poller=SystemModstampPoller(sf, state))
    queue.ack([RecordResult("Account", _ids(list(queue.changes(entities=["Account"])), "Account")[0], ok=True)])
    org.delete("Account", account)
    (batch,) = list(queue.changes(entities=["Account"]))
    assert batch.records == [] and batch.dropped == {account: QUEUED_DELETE}
    queue.ack([])
    rows = [r for r in org.records("QBSync_Queue__c") if r["Operation__c"] == "Delete"]
    assert [(r["Status__c"], r["Error__c"]) for r in rows] == [("Done", QUEUED_DELETE)]


def test_poll_first_pages_read_in_one_composite_call_serve_the_next_pass(clocked) -> None:
    from qbsf.sync.cycle_reads import read_in_one_call

    org, sf, state, clock = clocked
    acme = org.insert("Account", {"Name": "Acme"})
    poller = SystemModstampPoller(sf, state)
    queries = poller.cycle_reads(["Account", "Contact", "Product2"])
    assert set(queries) == {"poll_Account", "poll_Contact", "poll_Product2"}
    before = org.api_calls
    pages = read_in_one_call(sf.client, queries)
    assert org.api_calls - before == 1
    poller.accept_reads(queries, pages)
    batches = list(poller.changes(entities=["Account", "Contact", "Product2"]))
    assert org.api_calls - before == 1, "the pass used the pre-fetched pages"
    assert _ids(batches, "Account") == [acme]
    _ack_all(poller, batches)
    # pages serve one pass only: the next reads afresh
    clock.now += timedelta(seconds=5)
    list(poller.changes(entities=["Account"]))
    assert org.api_calls - before == 2


def test_a_stale_or_partial_pre_fetched_page_is_read_again(clocked) -> None:
    org, sf, state, clock = clocked
    poller = SystemModstampPoller(sf, state)
    queries = poller.cycle_reads(["Account"])
    first = org.insert("Account", {"Name": "First"})
    # a page with more to come is never taken as the whole answer
    poller.accept_reads(queries, {"poll_Account": {"done": False, "records": [], "nextRecordsUrl": "/next"}})
    batches = list(poller.changes(entities=["Account"]))
    assert _ids(batches, "Account") == [first]
    # a page for another SOQL (the watermark moved since it was read) is not used
    _ack_all(poller, batches)
    clock.now += timedelta(minutes=5)
    second = org.insert("Account", {"Name": "Second"})
    poller.accept_reads(queries, {"poll_Account": {"done": True, "records": []}})
    assert _ids(list(poller.changes(entities=["Account"])), "Account") == [second]
    # discarded pages are gone
    poller.accept_reads(poller.cycle_reads(["Account"]), {"poll_Account": {"done": True, "records": []}})
    poller.discard_reads()
    assert _ids(list(poller.changes(entities=["Account"])), "Account") == [second]


def test_queue_claim_read_joins_the_composite(clocked) -> None:
    from qbsf.sync.cycle_reads import read_in_one_call

    org, sf, state, _clock = clocked
    poller = SystemModstampPoller(sf, state)
    queue = QueueSource(sf, poller=poller)
    queries = queue.cycle_reads(["Account"])
    assert list(queries) == ["queue_claim"]
    before = org.api_calls
    queue.accept_reads(queries, read_in_one_call(sf.client, queries))
    assert [b.records for b in queue.changes(entities=["Account"])] == [[]]
    assert org.api_calls - before == 1, "an empty queue costs the composite call only"


# ----------------------------------------------------------------------- no re-read storms
def _poll(poller, org, entities=("Account",)):
    """One scheduled poll as the connector runs it: the cycle's reads in one composite call, then the pass."""
    from qbsf.sync.cycle_reads import read_in_one_call

    queries = poller.cycle_reads(list(entities))
    before = org.api_calls
    pages = read_in_one_call(poller.sf.client, queries)
    poller.accept_reads(queries, pages)
    batches = list(poller.changes(entities=list(entities)))
    _ack_all(poller, batches)
    rows = sum(len(page.get("records", ())) for page in pages.values())
    return batches, org.api_calls - before, rows, queries


def test_an_idle_poll_after_a_large_write_back_reads_only_what_is_newer(clocked) -> None:
    """After an initial sync whose write-back stamped every record within the overlap, an idle poll is one call
    reading no record again: only records newer than the watermark, and a COUNT() of the window."""
    org, sf, state, clock = clocked
    for number in range(300):
        org.insert("Account", {"Name": f"Acme {number:03d}"})
        clock.now += timedelta(milliseconds=100)  # 30 s of writes, all within the 2-minute overlap
    poller = SystemModstampPoller(sf, state)
    first, _calls, rows, _queries = _poll(poller, org)
    # the cycle call's page holds at most MAX_ROWS records; the poll read the rest itself
    assert len(_ids(first, "Account")) == 300 and rows == MAX_ROWS
    for _cycle in range(3):
        clock.now += timedelta(seconds=10)
        batches, calls, rows, queries = _poll(poller, org)
        assert _ids(batches, "Account") == [] and calls == 1
        assert rows == 0, "the records already seen in the window are not read again"
        assert any(soql.startswith("SELECT COUNT() FROM Account") for soql in queries.values())


def test_a_record_that_arrives_late_in_the_window_is_still_read(clocked) -> None:
    org, sf, state, clock = clocked
    _accounts_a_second_apart(org, clock)
    poller = SystemModstampPoller(sf, state)
    _poll(poller, org)
    clock.now -= timedelta(seconds=3)  # committed late: stamped before the newest record already seen
    late = org.insert("Account", {"Name": "Late Ltd"})
    clock.now += timedelta(seconds=13)
    batches, _calls, _rows, _queries = _poll(poller, org)
    assert _ids(batches, "Account") == [late]
    batches, calls, rows, _queries = _poll(poller, org)
    assert _ids(batches, "Account") == [] and calls == 1 and rows == 0


def test_a_window_fully_seen_settles_and_reads_start_after_it(clocked) -> None:
    org, sf, state, clock = clocked
    acme = org.insert("Account", {"Name": "Acme"})
    mark = clock.now
    poller = SystemModstampPoller(sf, state, overlap=timedelta(minutes=2))
    _poll(poller, org)
    clock.now += timedelta(minutes=1)
    _, _, _, queries = _poll(poller, org)
    assert "poll_Account_window" in queries, "not settled within the overlap: the window is counted"
    clock.now += timedelta(minutes=2)  # the overlap has passed since the watermark was first seen
    _, calls, rows, queries = _poll(poller, org)
    assert "digest_poll_Account_window0" in queries and calls == 1 and rows == 0, \
        "the window's digest, in the cycle's one call, settles it"
    assert state.get_watermark("sf:Account@settled", entity="Account") is not None
    _, calls, rows, queries = _poll(poller, org)
    assert not {"poll_Account_window", "digest_poll_Account_window0"} & set(queries) and calls == 1 and rows == 0
    assert f"SystemModstamp >= {(mark + timedelta(milliseconds=1)).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z" in \
        queries["poll_Account"]
    # A change moves the watermark: the new window is unsettled again, and the record is read.
    clock.now += timedelta(minutes=5)
    org.update("Account", acme, {"Phone": "555-0100"})
    batches, _, _, _ = _poll(poller, org)
    assert _ids(batches, "Account") == [acme]
    assert state.reset_watermark("sf:Account") and state.get_watermark("sf:Account@settled", entity="Account") is None


# ----------------------------------------------------------------------- settling by the window's digest
def _settled(state) -> datetime | None:
    text = state.get_watermark("sf:Account@settled", entity="Account")
    return parse_sf_datetime(text) if text else None


def _accounts_a_second_apart(org, clock, count: int = 5, **fields) -> list[str]:
    """``count`` Accounts "Acme 0", "Acme 1", … inserted one second apart; their ids."""
    ids = []
    for number in range(count):
        ids.append(org.insert("Account", {"Name": f"Acme {number}", **fields}))
        clock.now += timedelta(seconds=1)
    return ids


def _large_write_back(org, clock, count: int = 300) -> list[str]:
    ids = []
    for number in range(count):
        ids.append(org.insert("Account", {"Name": f"Acme {number:03d}"}))
        clock.now += timedelta(milliseconds=100)  # all within the 2-minute overlap
    return ids


def test_the_settling_cycle_after_a_large_write_back_is_one_call_reading_no_record(clocked) -> None:
    """The cycle whose settle is due takes the window's digest in its one call instead of reading 300 records (more
    than the cycle call's page: read whole, they cost more calls); the cycles after it read only what is newer."""
    org, sf, state, clock = clocked
    _large_write_back(org, clock)
    poller = SystemModstampPoller(sf, state)
    _poll(poller, org)
    clock.now += timedelta(seconds=10)
    _batches, calls, rows, queries = _poll(poller, org)
    assert calls == 1 and rows == 0 and _settled(state) is None, "within the overlap the window is only counted"
    clock.now += timedelta(minutes=2)  # the settle is due
    batches, calls, rows, queries = _poll(poller, org)
    assert _ids(batches, "Account") == [] and calls == 1 and rows == 0
    assert "digest_poll_Account_window0" in queries
    mark = state.get_watermark("sf:Account")
    assert _settled(state) == parse_sf_datetime(mark)
    for _cycle in range(3):
        clock.now += timedelta(seconds=30)
        batches, calls, rows, queries = _poll(poller, org)
        assert _ids(batches, "Account") == [] and calls == 1 and rows == 0
        assert list(queries) == ["poll_Account"]
        assert f"SystemModstamp >= {_after(mark)}" in queries["poll_Account"], "only what is newer than W"


def _after(mark: str) -> str:
    return soql_datetime(parse_sf_datetime(mark) + timedelta(milliseconds=1))


def _commit_late(org, clock, at, name: str) -> str:
    """A record committed now but stamped ``at`` (before records already seen): a late commit."""
    now = clock.now
    clock.now = at
    try:
        return org.insert("Account", {"Name": name})
    finally:
        clock.now = now


@pytest.mark.parametrize("leaves", ["deleted", "no longer eligible"])
def test_a_late_record_is_caught_by_the_digest_even_when_a_seen_one_left_the_window(clocked, leaves) -> None:
    """A seen record leaves the window (deleted, or edited into a record the poll does not take) as a late one
    arrives: the window's COUNT() is unchanged, its digest is not — the window is read and the late record syncs."""
    org, sf, state, clock = clocked
    ids = _accounts_a_second_apart(org, clock, Type="Customer")
    poller = SystemModstampPoller(sf, state, eligibility={"Account": "Type != 'Prospect'"})
    _poll(poller, org)
    mark = parse_sf_datetime(state.get_watermark("sf:Account"))
    clock.now += timedelta(minutes=3)  # the settle is due
    late = _commit_late(org, clock, mark - timedelta(seconds=2), "Late Ltd")
    if leaves == "deleted":
        org.delete("Account", ids[0])
    else:
        org.update("Account", ids[0], {"Type": "Prospect"})
    count_soql = poller._count_soql(entity("Account"), mark - poller.overlap, mark)
    assert sf.client.count(count_soql) == 5, "the count alone would not see it"
    batches, calls, _rows, queries = _poll(poller, org)
    assert "digest_poll_Account_window0" in queries
    assert _ids(batches, "Account") == [late], "the digest differed: the window was read and the late record synced"
    assert calls == 2, "the cycle's call, then the window read"
    assert _settled(state) == mark, "read whole, the window settles"
    batches, calls, rows, _queries = _poll(poller, org)
    assert _ids(batches, "Account") == [] and calls == 1 and rows == 0


def test_a_record_edited_again_moves_out_of_the_window_and_the_digest_still_matches(clocked) -> None:
    """A seen record changed again is read as a newer record; the window no longer holds it, and neither does the
    digest the engine expects: the window settles in the one call."""
    org, sf, state, clock = clocked
    ids = _large_write_back(org, clock, 250)
    poller = SystemModstampPoller(sf, state)
    _poll(poller, org)
    clock.now += timedelta(minutes=3)
    org.update("Account", ids[7], {"Phone": "555-0107"})
    batches, calls, rows, _queries = _poll(poller, org)
    assert _ids(batches, "Account") == [ids[7]] and calls == 1 and rows == 1
    assert _settled(state) is not None


def test_a_digest_over_the_calls_limits_reads_the_window_and_loses_nothing(clocked) -> None:
    org, sf, state, clock = clocked
    _accounts_a_second_apart(org, clock)
    poller = SystemModstampPoller(sf, state)
    _poll(poller, org)
    mark = parse_sf_datetime(state.get_watermark("sf:Account"))
    clock.now += timedelta(minutes=3)
    late = _commit_late(org, clock, mark - timedelta(seconds=1), "Late Ltd")
    org.apex_digest_row_cap = 3  # the window (6 records) does not fit: LIMIT_EXCEEDED
    batches, calls, _rows, _queries = _poll(poller, org)
    assert _ids(batches, "Account") == [late] and calls == 2
    assert _settled(state) == mark


@pytest.mark.parametrize("package", ["no cycle resource", "a cycle resource without digests"])
def test_an_older_package_settles_by_reading_the_window(clocked, monkeypatch, package) -> None:
    from qbsf.sim.salesforce import apexrest

    org, sf, state, clock = clocked
    _accounts_a_second_apart(org, clock)
    if package == "no cycle resource":
        org.apex_resources.clear()  # reads go through /composite
    else:  # the previous release's class runs every read as a plain one
        monkeypatch.setattr(apexrest, "_digest", lambda api, reference, soql, after, rows:
                            apexrest._read(api, reference, soql, False))
    poller = SystemModstampPoller(sf, state)
    _poll(poller, org)
    mark = parse_sf_datetime(state.get_watermark("sf:Account"))
    clock.now += timedelta(minutes=3)
    late = _commit_late(org, clock, mark - timedelta(seconds=1), "Late Ltd")
    batches, _calls, _rows, _queries = _poll(poller, org)
    assert _ids(batches, "Account") == [late]
    assert _settled(state) == mark
    batches, _calls, rows, _queries = _poll(poller, org)
    assert _ids(batches, "Account") == [] and rows == 0


def test_the_engine_digest_is_the_one_computed_independently() -> None:
    """qbsf.sync.changes.window_digest against the contract written out with hashlib here."""
    import hashlib

    from qbsf.sync.changes import window_digest

    pairs = [("001000000000002AAB", "2026-05-04T12:00:00.250Z"), ("001000000000001aaa", "2026-05-04T12:00:01.000Z")]
    lines = "001000000000001AAA:1777896001000\n001000000000002AAB:1777896000250"
    assert window_digest(pairs) == hashlib.sha256(lines.encode()).hexdigest()
    assert window_digest([]) == hashlib.sha256(b"").hexdigest()


def test_a_late_record_a_count_would_miss_is_read_before_the_watermark_moves_past_it(clocked) -> None:
    """Within the overlap, a seen record deleted as a late one arrives leaves the window's COUNT() unchanged; had the
    watermark then moved on, the late record would fall out of every later read. The digest sees it at once."""
    org, sf, state, clock = clocked
    ids = _accounts_a_second_apart(org, clock)
    poller = SystemModstampPoller(sf, state)
    _poll(poller, org)
    mark = parse_sf_datetime(state.get_watermark("sf:Account"))
    clock.now = mark + timedelta(seconds=5)
    late = _commit_late(org, clock, mark - timedelta(seconds=110), "Late Ltd")  # within the 2-minute overlap
    org.delete("Account", ids[0])
    synced = []
    batches, calls, _rows, _queries = _poll(poller, org)
    synced += _ids(batches, "Account")
    assert late in synced and calls == 2, "the digest differed: the window was read in the same cycle"
    clock.now = mark + timedelta(seconds=60)
    newer = org.insert("Account", {"Name": "Newer Inc"})
    clock.now += timedelta(seconds=10)
    batches, _calls, _rows, _queries = _poll(poller, org)
    synced += _ids(batches, "Account")
    assert set(synced) == {late, newer}


def test_a_window_too_large_for_one_call_settles_part_by_part_one_call_a_cycle(clocked, monkeypatch) -> None:
    """The digest reads of a call cover a bounded number of records (parts of DIGEST_PART, DIGEST_ROWS_PER_CALL a
    call; lowered here to 100 and 200): a due settle over a larger window is proven part by part, one call each
    cycle, going on from where it stopped; a late record in a part not proven yet is read when its part is."""
    from qbsf.sync import changes

    monkeypatch.setattr(changes, "DIGEST_PART", 100)
    monkeypatch.setattr(changes, "DIGEST_ROWS_PER_CALL", 200)
    org, sf, state, clock = clocked
    _large_write_back(org, clock, 300)
    poller = SystemModstampPoller(sf, state)
    _poll(poller, org)
    mark = parse_sf_datetime(state.get_watermark("sf:Account"))
    clock.now += timedelta(seconds=10)
    _batches, calls, rows, queries = _poll(poller, org)
    assert calls == 1 and rows == 0 and "poll_Account_window" in queries
    assert not any(name.startswith("digest_") for name in queries), "not due: all parts in one call, or the count"
    late = _commit_late(org, clock, mark - timedelta(milliseconds=50), "Late Ltd")  # in the last part
    clock.now += timedelta(minutes=2)  # the settle is due
    batches, calls, rows, queries = _poll(poller, org)
    assert sorted(name for name in queries if name.startswith("digest_")) == [
        "digest_poll_Account_window0", "digest_poll_Account_window1"]
    assert _ids(batches, "Account") == [] and calls == 1 and rows == 0 and _settled(state) is None
    clock.now += timedelta(seconds=30)
    batches, calls, rows, queries = _poll(poller, org)
    assert [name for name in queries if name.startswith("digest_")] == ["digest_poll_Account_window0"]
    assert f"SystemModstamp <= {soql_datetime(mark)}" in queries["digest_poll_Account_window0"]
    assert _ids(batches, "Account") == [late], "the last part differed: read, and its late record synced"
    assert calls == 2 and _settled(state) == mark
    batches, calls, rows, queries = _poll(poller, org)
    assert _ids(batches, "Account") == [] and calls == 1 and rows == 0 and list(queries) == ["poll_Account"]


def test_a_settle_checked_in_part_starts_over_when_the_watermark_moves(clocked, monkeypatch) -> None:
    from qbsf.sync import changes

    monkeypatch.setattr(changes, "DIGEST_PART", 100)
    monkeypatch.setattr(changes, "DIGEST_ROWS_PER_CALL", 100)
    org, sf, state, clock = clocked
    _large_write_back(org, clock, 250)
    poller = SystemModstampPoller(sf, state)
    _poll(poller, org)
    clock.now += timedelta(minutes=3)
    _poll(poller, org)
    mark = parse_sf_datetime(state.get_watermark("sf:Account"))
    assert poller._window(entity("Account")).checked(mark) is not None, "one part proven"
    newer = org.insert("Account", {"Name": "Newer Inc"})
    batches, _calls, _rows, _queries = _poll(poller, org)
    assert _ids(batches, "Account") == [newer]
    moved = parse_sf_datetime(state.get_watermark("sf:Account"))
    assert moved > mark and poller._window(entity("Account")).checked(moved) is None and _settled(state) is None
