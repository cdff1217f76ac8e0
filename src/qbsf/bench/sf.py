"""`qbsf bench sf`: upsert N Accounts through sObject Collections and read them back, against the emulator.

Measures what a real org charges for: API calls per record (target: at most 1 call per 150 records) and records/s.
The emulator runs in-process on a free loopback port and is reached over real HTTP, so the figures include JSON,
HTTP and the client's own work; ``latency`` adds a per-call delay to model a distant org.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from qbsf.errors import QbsfError
from qbsf.salesforce import ClientCredentialsAuth, SalesforceClient

log = logging.getLogger(__name__)

TARGET_RECORDS_PER_CALL = 150
READ_BATCH = 2000  # the largest query page Salesforce returns


@dataclass(frozen=True)
class SfBenchResult:
    """One run: records written and read, the API calls each took, and wall-clock seconds."""

    records: int
    upsert_calls: int
    upsert_seconds: float
    read_calls: int
    read_seconds: float
    token_requests: int
    retried: int
    org_api_usage: int
    failures: int

    @property
    def api_calls(self) -> int:
        """Data API calls (what counts against the org's daily allocation)."""
        return self.upsert_calls + self.read_calls

    @property
    def records_per_call(self) -> float:
        """Records moved (written and read) per API call."""
        return self.records / self.api_calls if self.api_calls else float("inf")

    @property
    def upsert_per_second(self) -> float:
        """Upsert throughput."""
        return self.records / self.upsert_seconds if self.upsert_seconds else float("inf")

    @property
    def read_per_second(self) -> float:
        """Read-back throughput."""
        return self.records / self.read_seconds if self.read_seconds else float("inf")

    @property
    def meets_target(self) -> bool:
        """At most one API call per 150 records, and nothing lost."""
        return self.records_per_call >= TARGET_RECORDS_PER_CALL and self.failures == 0


def run_sf_bench(records: int = 10_000, *, latency: float = 0.0, fault_rate: float = 0.0,
                 seed: int = 1) -> SfBenchResult:
    """Start the emulator, upsert ``records`` Accounts by QB_Customer_ID__c, read them back, and verify them."""
    if records < 1:
        raise QbsfError(f"--records must be at least 1 (got {records})", hint="e.g. --records 10000")
    from qbsf.sim.salesforce import SalesforceState, start_emulator

    state = SalesforceState()
    accounts = [{"QB_Customer_ID__c": f"80000{i:05d}-1700000000", "Name": f"Bench Customer {i:05d}",
                 "Phone": f"555-{i % 10_000:04d}", "BillingCity": "Springfield"} for i in range(records)]
    with start_emulator(state) as emulator:
        state.latency = latency
        if fault_rate:
            state.inject_faults(fault_rate, ("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"), seed=seed)
        auth = ClientCredentialsAuth(emulator.url, emulator.client_id, emulator.client_secret)
        with SalesforceClient(emulator.url, auth, backoff=0.01, backoff_max=0.1, retries=8) as client:
            started = time.perf_counter()
            results = client.upsert_many("Account", "QB_Customer_ID__c", accounts)
            upsert_seconds = time.perf_counter() - started
            upsert_calls = client.calls
            started = time.perf_counter()
            rows = client.query("SELECT Id, QB_Customer_ID__c, Name FROM Account WHERE QB_Customer_ID__c != null",
                                batch_size=READ_BATCH)
            read_seconds = time.perf_counter() - started
            read_calls = client.calls - upsert_calls
            written = {r.id for r in results if r.success}
            by_key = {row["QB_Customer_ID__c"]: row for row in rows}
            lost = sum(1 for a in accounts if by_key.get(a["QB_Customer_ID__c"], {}).get("Name") != a["Name"])
            failures = sum(1 for r in results if not r.success) + lost + len(written ^ {row["Id"] for row in rows})
            return SfBenchResult(records, upsert_calls, upsert_seconds, read_calls, read_seconds,
                                 auth.token_requests, client.retried, state.api_calls, failures)


def format_result(result: SfBenchResult, *, latency: float, fault_rate: float) -> str:
    """The lines `qbsf bench sf` prints."""
    verdict = "PASS" if result.meets_target else "FAIL"
    return "\n".join([
        f"records: {result.records:,} Accounts (emulator latency {latency * 1000:.0f} ms/call, "
        f"fault rate {fault_rate:.0%})",
        f"upsert:  {result.upsert_calls} API calls, {result.upsert_seconds:.2f} s, "
        f"{result.upsert_per_second:,.0f} records/s",
        f"read:    {result.read_calls} API calls, {result.read_seconds:.2f} s, {result.read_per_second:,.0f} records/s",
        f"total:   {result.api_calls} API calls (org counter: {result.org_api_usage}; {result.retried} retried; "
        f"{result.token_requests} token request), {result.records_per_call:,.0f} records per call",
        f"target:  ≤ 1 call per {TARGET_RECORDS_PER_CALL} records, nothing lost — {verdict}"
        + ("" if result.failures == 0 else f" ({result.failures} records failed or differ)"),
    ])
