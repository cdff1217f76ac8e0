"""The QuickBooks Sync app in Salesforce, end to end: the real run loop against the Salesforce emulator (which learns
QBSF_Mapping__c, QBSF_Watermark__c and QBSF_Activity__c from the package) and the QuickBooks simulator."""

from __future__ import annotations

import math
import shutil
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.app.support import emulated_settings

from qbsf.app.logging import configure_logging, reset_logging
from qbsf.app.org_app import MANIFEST
from qbsf.app.runtime import Connector
from qbsf.app.wiring import EngineServices
from qbsf.bench.outbound import EXAMPLE_MAPPINGS, seed_org
from qbsf.quickbooks.transports.simulator import SimulatorTransport
from qbsf.sim.quickbooks import QuickBooksSimulator
from qbsf.sim.salesforce import start_emulator
from qbsf.sync.state import StateStore

HEADER = "SF_Field_API_Name,QB_Field_Name,Required (Y/N),Transformation,Default_Value,Notes\n"


@pytest.fixture(autouse=True)
def quiet_logs():
    configure_logging(console=False)
    yield
    reset_logging()


class Running:
    """A connector on the emulator and the simulator, driven one cycle at a time."""

    def __init__(self, sf_state, tmp_path: Path) -> None:
        self.org = sf_state
        self.sim = QuickBooksSimulator()
        self.mappings = tmp_path / "mappings"
        shutil.copytree(EXAMPLE_MAPPINGS, self.mappings)
        self.tmp_path = tmp_path

    def __enter__(self) -> Running:
        self._emulator = start_emulator(self.org)
        emulator = self._emulator.__enter__()
        self.settings = emulated_settings(emulator, mappings=self.mappings, polling_interval=86400,
                                          salesforce_heartbeat=True)
        self.state = StateStore(self.tmp_path / "state.db")
        self.services = EngineServices(self.settings, None, self.state,
                                       transport_factory=lambda: SimulatorTransport(self.sim))
        self.connector = Connector(self.services, self.settings)
        self.connector.start()
        self._wait(1)
        return self

    def __exit__(self, *exc: object) -> None:
        self.connector.stop(wait=60)
        self.services.close()
        self.state.close()
        self._emulator.__exit__(None, None, None)

    def cycles(self) -> int:
        last = self.connector.status().last_cycle
        return 0 if last is None else last.number

    def _wait(self, number: int) -> None:
        end = time.monotonic() + 90
        while self.cycles() < number:
            assert time.monotonic() < end, "the connector did not finish a cycle in time"
            threading.Event().wait(0.01)

    def cycle(self) -> int:
        """Run one more cycle; returns the Salesforce API calls it cost (``heavy``: the queries and collections those
        calls carried inside composite calls, 5 at most per call)."""
        before, heavy = self.org.api_calls, self.org.composite_heavy
        self.connector.run_now()
        self._wait(self.cycles() + 1)
        assert self.connector.status().last_cycle.error is None
        self.heavy = self.org.composite_heavy - heavy
        return self.org.api_calls - before

    def rows(self, sobject: str) -> list[dict]:
        return self.org.records(sobject)


@pytest.fixture
def running(sf_state, tmp_path: Path):
    seed_org(sf_state, accounts=3)
    with Running(sf_state, tmp_path) as run:
        yield run


def test_a_good_mapping_uploaded_in_salesforce_is_checked_and_put_in_use(running: Running) -> None:
    local = running.mappings / "Acct_to_Customer.csv"
    original = local.read_text()
    body = HEADER + "Name,Name,Y,Trim|Left:41,,\nPhone,Phone,N,Trim|Left:21,,\nFax,AltPhone,N,Trim|Left:21,,\n"
    record = running.org.insert("QBSF_Mapping__c", {"Name": "Acct_to_Customer_v2.csv", "Body__c": body})
    running.cycle()
    row = running.org.get("QBSF_Mapping__c", record)
    assert (row["State__c"], row["Sheet__c"], row["Errors__c"]) == ("Active", "Acct_to_Customer", None)
    assert row["Checked_At__c"] is not None
    assert (running.mappings / "Acct_to_Customer_v2.csv").read_text() == body, "the org's mapping wins"
    assert not local.exists() and (running.mappings / "replaced" / "Acct_to_Customer.csv").read_text() == original
    assert "Acct_to_Customer" in running.services.engine.mappings

    again = running.org.insert("QBSF_Mapping__c", {"Name": "Acct_to_Customer_v2.csv", "Body__c": body})
    running.cycle()
    assert running.org.get("QBSF_Mapping__c", again)["State__c"] == "Active"
    older = running.org.get("QBSF_Mapping__c", record)
    assert (older["State__c"], older["Errors__c"]) == (
        "Rejected", "Acct_to_Customer_v2.csv: replaced by a newer upload of Acct_to_Customer_v2.csv")

    running.org.delete("QBSF_Mapping__c", again)
    running.cycle()
    assert not (running.mappings / "Acct_to_Customer_v2.csv").exists(), "deleted in the org: no longer used"
    assert (running.mappings / MANIFEST).read_text().strip() == "{}"


def test_a_bad_mapping_is_rejected_with_its_line_errors_and_nothing_is_replaced(running: Running) -> None:
    local = running.mappings / "Acct_to_Customer.csv"
    original = local.read_text()
    unknown_field = running.org.insert("QBSF_Mapping__c", {
        "Name": "Acct_to_Customer.csv",
        "Body__c": HEADER + "Name,Name,Y,Trim,,\nPhonee,Phone,N,Trim,,\n"})
    bad_step = running.org.insert("QBSF_Mapping__c", {
        "Name": "Product_to_Item.csv", "Body__c": HEADER + "Name,Name,Y,Trimm,,\n"})
    running.cycle()
    refused = running.org.get("QBSF_Mapping__c", unknown_field)
    assert refused["State__c"] == "Rejected"
    assert refused["Errors__c"].startswith("Acct_to_Customer.csv:3: Account has no field 'Phonee' (column 1)")
    assert "did you mean Phone?" in refused["Errors__c"]
    step = running.org.get("QBSF_Mapping__c", bad_step)
    assert step["State__c"] == "Rejected" and step["Errors__c"].startswith("Product_to_Item.csv:2:")
    assert "Trimm" in step["Errors__c"]
    assert local.read_text() == original, "a rejected upload replaces nothing"


def test_timestamps_are_mirrored_and_a_reset_request_is_carried_out(running: Running) -> None:
    marks = {row["Entity__c"]: row for row in running.rows("QBSF_Watermark__c")}
    assert "Customer" in marks and marks["Customer"]["Last_Modified__c"] is not None
    assert not any(":" in name or name.islower() for name in marks), "bookkeeping sources are not shown"
    newest = running.state.get_watermark("qb:Customer")
    running.state.set_watermark("qb:Customer", "2099-01-01T00:00:00Z")  # nothing would be read from here on
    running.org.update("QBSF_Watermark__c", marks["Customer"]["Id"], {"Reset_Requested__c": True})
    running.cycle()
    assert running.state.get_watermark("qb:Customer") == newest, "reset, then read from scratch again"
    row = running.org.get("QBSF_Watermark__c", marks["Customer"]["Id"])
    assert row["Reset_Requested__c"] is False
    assert row["Last_Modified__c"].startswith(newest[:19])


def test_activity_and_failures_are_written_once_per_cycle_and_retry_requeues(running: Running) -> None:
    summaries = [r for r in running.rows("QBSF_Activity__c") if r["Kind__c"] == "Summary"]
    assert [(r["Entity__c"], r["Direction__c"], r["Created_Count__c"]) for r in summaries] == [
        ("Account", "SF_TO_QB", 3)]

    idle = running.cycle()
    running.sim.add("Vendor", {"Name": "Taken Name Ltd"})
    account = running.org.insert("Account", {"Name": "Taken Name Ltd"})
    calls = running.cycle()
    assert calls <= idle + 3, "an idle cycle's reads (the whole dashboard in them), the heartbeat, the write-backs"
    failures = [r for r in running.rows("QBSF_Activity__c") if r["Kind__c"] == "Failure"]
    assert [(r["Entity__c"], r["Record_Key__c"]) for r in failures] == [("Account", account)]
    assert failures[0]["Message__c"]
    # The Account's own summary: the vendor itself now syncs to Salesforce in the same cycle, with its own row.
    latest = [r for r in running.rows("QBSF_Activity__c") if r["Kind__c"] == "Summary" and r["Entity__c"] == "Account"]
    assert latest[-1]["Failed_Count__c"] == 1

    (failure,) = running.state.failures(entity="Account")
    running.org.update("QBSF_Activity__c", failures[0]["Id"], {"Retry_Requested__c": True})
    retried: list[dict] = []
    running.state.retry = _spy(running.state.retry, retried)
    running.cycle()
    assert retried == [{"entity": "Account", "keys": [failure.record_key]}], "the record is due again"
    assert running.org.get("QBSF_Activity__c", failures[0]["Id"]) is None, "a retried failure leaves the list"


def _spy(method, calls: list):
    def wrapper(**kwargs):
        calls.append(kwargs)
        return method(**kwargs)
    return wrapper


def test_activity_stays_bounded(running: Running) -> None:
    old = (datetime.now(UTC) - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    stale = [running.org.insert("QBSF_Activity__c", {"Kind__c": "Summary", "Entity__c": "Account",
                                                     "Direction__c": "SF_TO_QB", "Cycle_At__c": old})
             for _ in range(3)]
    running.services.org_app.max_rows = 4
    recent = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    for _ in range(6):
        running.org.insert("QBSF_Activity__c", {"Kind__c": "Summary", "Entity__c": "Item",
                                                "Direction__c": "QB_TO_SF", "Cycle_At__c": recent})
    running.cycle()
    left = running.rows("QBSF_Activity__c")
    assert not {r["Id"] for r in left} & set(stale), "rows older than 7 days are purged"
    assert len(left) == 4, "and no more than max_rows are kept"


def test_an_idle_cycle_with_the_app_costs_one_call(running: Running) -> None:
    running.cycle()  # the first cycle's write-backs settle
    for _ in range(3):
        reads = running.org.apex_reads
        calls = running.cycle()
        # the app's six reads ride with the polls and the sync requests in the package's cycle resource
        assert calls == 1 and running.heavy == 0, (calls, running.heavy)
        assert running.org.apex_reads - reads >= 6 + 1 + 1


def test_with_an_older_package_an_idle_cycle_costs_the_fewest_calls_the_composite_limit_allows(
        sf_state, tmp_path: Path) -> None:
    seed_org(sf_state, accounts=3)
    sf_state.apex_resources.clear()  # a package from before the cycle resource
    with Running(sf_state, tmp_path) as running:
        running.cycle()
        costs = set()
        for _ in range(3):
            calls = running.cycle()
            assert calls == math.ceil(running.heavy / 5), (calls, running.heavy)  # the app's reads ride with the polls
            costs.add(calls)
        assert len(costs) == 1 and costs <= {2, 3}, costs


def test_a_reset_of_an_entity_the_connector_does_not_know_is_cleared_and_the_cycle_goes_on(running: Running) -> None:
    bogus = running.org.insert("QBSF_Watermark__c", {"Name": "Deposit", "Entity__c": "Deposit",
                                                    "Reset_Requested__c": True})
    running.cycle()  # no error: the cycle ran
    assert running.org.get("QBSF_Watermark__c", bogus)["Reset_Requested__c"] is False
    assert running.services.org_app.last.reset == []
