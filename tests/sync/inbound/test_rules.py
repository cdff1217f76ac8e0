"""The pure rules of the inbound sync: invoice status, conflict merging, value comparison, configuration."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.errors import ConfigError
from qbsf.sync.conflicts import ConflictPolicy, normalise, pick_winner, same
from qbsf.sync.inbound import DeletionAction, InboundConfig, InboundEntityReport, InboundReport, inbound_spec
from qbsf.sync.inbound_state import InboundState
from qbsf.sync.invoice_status import OpenInvoice, company_today, derive_status, newly_overdue
from qbsf.sync.merge import OWN, merge_fields
from qbsf.sync.state import StateStore

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(("balance", "due", "status"), [
    ("0.00", "2026-01-01", "Paid"),          # paid wins over a past due date
    (Decimal("-5"), None, "Paid"),           # overpaid is paid
    ("10.00", "2026-03-09", "OverDue"),
    ("10.00", "2026-03-10", "Open"),         # due today is not overdue yet
    ("10.00", None, "Open"),
    (None, "2026-03-01", "OverDue"),         # unknown balance with a past due date: not known to be paid
])
def test_invoice_status(balance, due, status) -> None:
    assert derive_status(balance, due, TODAY) == status


def test_company_today_uses_the_company_zone_not_utc() -> None:
    pacific = timezone(timedelta(hours=-8))
    moment = datetime(2026, 3, 11, 7, 30, tzinfo=UTC)  # 23:30 on the 10th in the company's zone
    assert company_today(moment, pacific) == date(2026, 3, 10)
    assert derive_status("10", "2026-03-10", company_today(moment, pacific)) == "Open"
    assert derive_status("10", "2026-03-10", moment.date()) == "OverDue", "UTC would call it overdue too early"
    with pytest.raises(ValueError, match="time-zone-aware"):
        company_today(datetime(2026, 3, 11), pacific)


def test_newly_overdue_only_lists_transitions() -> None:
    invoices = [OpenInvoice("a", date(2026, 3, 1), Decimal(5), "Open"),
                OpenInvoice("b", date(2026, 3, 1), Decimal(5), "OverDue"),
                OpenInvoice("c", date(2026, 4, 1), Decimal(5), "Open"),
                OpenInvoice("d", date(2026, 3, 1), Decimal(0), "Open")]
    assert [i.txn_id for i in newly_overdue(invoices, TODAY)] == ["a"]


@pytest.mark.parametrize(("a", "b", "equal"), [
    ("12.50", 12.5, True), ("12.50", "12.5", True), (None, "", True), ("  x ", "x", True), (True, "true", True),
    ("02134", "2134", False), ("555-0100", "555-0101", False), (0, "0.00", True), ("abc", None, False),
])
def test_same_compares_like_both_systems(a, b, equal) -> None:
    assert same(a, b) is equal


@settings(max_examples=60, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-10**9, max_value=10**9))
def test_a_number_equals_its_salesforce_float_and_text(value: Decimal) -> None:
    assert same(str(value), float(value)) and normalise(f"{value:.2f}") == normalise(value)


def _merge(qb: dict, snapshot: dict, sf: dict, policy: ConflictPolicy, now: datetime, always: tuple = ()) -> tuple:
    """The inbound merge of a record synced before bases were kept: its snapshot is both sides' base."""
    result = merge_fields(base_source={OWN + k.casefold(): v for k, v in snapshot.items()},
                          base_target={k.casefold(): v for k, v in snapshot.items()}, source={}, proposed=qb,
                          feeds={}, target={k: sf.get(k) for k in qb}, policy=policy, source_side="quickbooks",
                          source_modified=now, target_modified=now, always=always)
    return result.send, result.conflicts


def test_merge_sends_only_quickbooks_changes_and_decides_conflicts() -> None:
    snapshot = {"QB_Customer_ID__c": "L1", "Phone": "1", "Fax": "2", "City": "A"}
    qb = {"QB_Customer_ID__c": "L1", "Phone": "9", "Fax": "3", "City": "A"}
    sf = {"Phone": "8", "Fax": "2", "City": "B"}
    now = datetime(2026, 3, 10, tzinfo=UTC)
    changes, conflicts = _merge(qb, snapshot, sf, ConflictPolicy.SALESFORCE, now, always=("QB_Customer_ID__c",))
    assert changes == {"QB_Customer_ID__c": "L1", "Fax": "3"}, "City changed in Salesforce only: it stays"
    assert [(c.field, c.qb_value, c.sf_value, c.base_value, c.winner) for c in conflicts] == [
        ("Phone", "9", "8", "1", "salesforce")]
    changes, _ = _merge(qb, snapshot, sf, ConflictPolicy.QUICKBOOKS, now)
    assert changes == {"Phone": "9", "Fax": "3"}
    # Both sides made the same change: nothing to write, no conflict.
    changes, conflicts = _merge({"Phone": "9"}, {"Phone": "1"}, {"Phone": "9"}, ConflictPolicy.NEWEST, now)
    assert changes == {} and conflicts == []


def test_newest_policy_compares_modification_times() -> None:
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    assert pick_winner(ConflictPolicy.NEWEST, late, early) == "quickbooks"
    assert pick_winner(ConflictPolicy.NEWEST, early, late) == "salesforce"
    assert pick_winner(ConflictPolicy.NEWEST, late, late) == "quickbooks", "a tie goes to QuickBooks"
    assert pick_winner(ConflictPolicy.NEWEST, None, late) == "salesforce"


def test_configuration_from_settings_and_clear_errors() -> None:
    settings_ = SimpleNamespace(sync=SimpleNamespace(conflict_policy="salesforce", batch_size=250,
                                                     on_qb_delete={"Product2": "set:IsActive=false"},
                                                     inbound_overlap_seconds=5, company_utc_offset_minutes=-300))
    config = InboundConfig.from_settings(settings_)
    assert config.conflict_policy is ConflictPolicy.SALESFORCE and config.batch_size == 250
    assert config.deletion_action("Item") == DeletionAction("IsActive", False)
    assert config.deletion_action("Customer").records_only
    assert config.overlap == timedelta(seconds=5) and config.company_tz.utcoffset(None) == timedelta(hours=-5)
    with pytest.raises(ConfigError, match="not one of newest, salesforce, quickbooks"):
        ConflictPolicy.parse("loudest")
    with pytest.raises(ConfigError, match="'delete' is not 'record' or 'set:Field=value'"):
        DeletionAction.parse("delete")
    assert DeletionAction.parse("set:Status__c=Closed") == DeletionAction("Status__c", "Closed")
    assert [inbound_spec(n).name for n in ("customer", "Account", "Product2", "qb_invoice__c")] == [
        "Customer", "Customer", "Item", "Invoice"]


def test_report_lines_follow_the_manual() -> None:
    report = InboundReport(cycle="c", started_at=datetime.now(UTC))
    report.entities["Customer"] = InboundEntityReport(read=13, created=10, updated=2, unchanged=1)
    report.entities["Invoice"] = InboundEntityReport(read=1, failed=1, failures=[("T1", "Invoice 8", "why")])
    # "synced" counts what was written (the unchanged one is not), and a line with a failure is marked ✗
    assert report.lines() == ["✓ Queried 13 QB Customers", "✓ 12 synced, ✗ 0 failed",
                              "✓ Queried 1 QB Invoice", "✗ 0 synced, ✗ 1 failed"]
    assert not report.ok and report.failures == [("Invoice", "T1", "Invoice 8", "why")]


def test_snapshots_and_open_invoices_round_trip_and_join_the_store_transaction() -> None:
    state = StateStore(":memory:")
    store = InboundState(state)
    store.set_snapshots("Customer", {"L1": ("001A", True, {"Phone": "1", "Amount": Decimal("2.50")})}, {"L1": "9"})
    snapshot = store.snapshots("Customer", ["L1", "L2"])["L1"]
    assert dict(snapshot) == {"Phone": "1", "Amount": "2.50"} and snapshot.sf_id == "001A" and snapshot.active
    store.set_invoice_statuses([OpenInvoice("T1", date(2026, 3, 1), Decimal(5), "Open"),
                                OpenInvoice("T2", None, Decimal(5), "Open")])
    store.set_invoice_statuses([OpenInvoice("T2", None, Decimal(0), "Paid")])
    assert [i.txn_id for i in store.open_invoices()] == ["T1"]
    assert store.open_invoices(due_before=date(2026, 3, 1)) == []
    with pytest.raises(RuntimeError), state.batch():
        store.forget("Customer")
        raise RuntimeError("rolled back with the batch")
    assert "L1" in store.snapshots("Customer", ["L1"])
    assert store.forget("Invoice") == 0 and store.open_invoices() == []
    state.close()
