"""`qbsf bench mapping`: records per second through a realistic 15-row mapping, on one core."""

from __future__ import annotations

import gc
import random
import time
from dataclasses import dataclass
from typing import Annotated, Any

import typer

import qbsf.sync.entities  # noqa: F401  (declares the mapping sheets)
from qbsf.mapping import Mapping, load_mapping_bytes
from qbsf.mapping.loader import HEADER_LINE

# Fifteen rows exercising the common transformations, the way an Account → Customer sheet uses them.
BENCH_ROWS = (
    "Name,Name,Y,Trim|Left:41,,",
    "Name,CompanyName,N,Trim|Upper|Left:41,,",
    "Phone,Phone,N,Trim|Replace:.:-|Left:21,,",
    "Fax,Fax,N,Trim|Left:21,,",
    "AccountNumber,AccountNumber,N,Simple,,",
    "BillingStreet,BillAddr1,N,AddressSplit:1,,",
    "BillingStreet,BillAddr2,N,AddressSplit:2,,",
    "BillingCity,BillAddress.City,N,Trim|Left:31,,",
    "BillingState,BillAddress.State,N,Upper|Left:21,,",
    "BillingPostalCode,BillAddress.PostalCode,N,Trim|Left:13,,",
    "BillingCountry,BillAddress.Country,N,Trim,USA,",
    "AnnualRevenue,CreditLimit,N,NumberFormat,,",
    "CreatedDate,JobStartDate,N,DateFormat:yyyy-MM-dd,,",
    "Owner.Name,Notes,N,Concatenate:Owner: {value},,",
    ",SalesTaxCountry,N,Static,US,",
)
BENCH_CSV = ("\n".join([HEADER_LINE, *BENCH_ROWS]) + "\n").encode()


@dataclass(frozen=True, slots=True)
class MappingBenchResult:
    """What one benchmark run measured."""

    records: int
    rows: int
    seconds: float  # wall clock of the fastest run
    cpu_seconds: float  # CPU time of this process in the fastest run: steady even when other jobs share the cores
    errors: int

    @property
    def records_per_second(self) -> float:
        """Wall-clock throughput of ``Mapping.apply_many``."""
        return self.records / self.seconds if self.seconds else float("inf")

    @property
    def records_per_cpu_second(self) -> float:
        """Throughput per second of CPU on one core (what the ≥ 100,000/s target is about)."""
        return self.records / self.cpu_seconds if self.cpu_seconds else float("inf")


def bench_mapping() -> Mapping:
    """The 15-row mapping the benchmark uses."""
    return load_mapping_bytes(BENCH_CSV, "bench - Acct_to_Customer.csv")


def sample_accounts(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` Salesforce-shaped Account records with varied values (built before timing starts)."""
    rng = random.Random(seed)
    streets = ["1 Market Street", "1234 Northwest Industrial Parkway Boulevard, Building 7, Suite 400",
               "PO Box 12\nMail Stop 4", "77 Sunset Strip"]
    cities = ["San Francisco", "Reno", " Boston ", "Austin"]
    records = []
    for n in range(count):
        records.append({
            "attributes": {"type": "Account", "url": f"/services/data/v60.0/sobjects/Account/001{n:015d}"},
            "Id": f"001{n:015d}",
            "Name": f" Customer {n} Holdings ",
            "Phone": f"415.555.{n % 10000:04d}",
            "Fax": None,
            "AccountNumber": f"CD{n}",
            "BillingStreet": streets[n % len(streets)],
            "BillingCity": cities[n % len(cities)],
            "BillingState": "ca",
            "BillingPostalCode": f"{94000 + n % 1000}",
            "BillingCountry": None if n % 3 else "United States",
            "AnnualRevenue": round(rng.uniform(0, 5_000_000), 2),  # a currency field: two decimals
            "CreatedDate": f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}T10:{n % 60:02d}:00.000+0000",
            "Owner": {"attributes": {"type": "User"}, "Name": "Ada Admin"},
        })
    return records


def run_mapping_bench(count: int = 100_000, repeat: int = 3) -> MappingBenchResult:
    """Map ``count`` records through the 15-row mapping ``repeat`` times; keep the fastest run."""
    mapping = bench_mapping()
    records = sample_accounts(count)
    mapping.apply_many(records[:1000])  # warm caches (date memo, address split) as a long-running sync would
    best, best_cpu = float("inf"), float("inf")
    errors = 0
    for _ in range(repeat):
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        batch = mapping.apply_many(records)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - started_cpu)
        errors = len(batch.errors)
    return MappingBenchResult(count, len(mapping.rules), best, best_cpu, errors)


def mapping_command(
    records: Annotated[int, typer.Option(help="How many records to map")] = 100_000,
    repeat: Annotated[int, typer.Option(help="Runs; the fastest counts")] = 3,
) -> None:
    """Map 100,000 records through a 15-row mapping and print records/s (target: ≥ 100,000 on one core)."""
    result = run_mapping_bench(records, repeat)
    typer.echo(f"mapping: {result.records:,} records × {result.rows} fields in {result.seconds:.3f} s "
               f"= {result.records_per_second:,.0f} records/s wall clock; {result.cpu_seconds:.3f} s CPU "
               f"= {result.records_per_cpu_second:,.0f} records/s per CPU second ({result.errors} record errors)")
