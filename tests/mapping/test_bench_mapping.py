"""The mapping benchmark runs, maps its records without errors, and reports through `qbsf bench mapping`."""

from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.bench.mapping import BENCH_ROWS, bench_mapping, run_mapping_bench, sample_accounts


def test_bench_mapping_has_fifteen_rows_and_maps_its_sample_cleanly() -> None:
    mapping = bench_mapping()
    assert len(BENCH_ROWS) == len(mapping.rules) == 15
    target = mapping.apply(sample_accounts(2)[1])
    assert target == {
        "Name": "Customer 1 Holdings", "CompanyName": "CUSTOMER 1 HOLDINGS", "Phone": "415-555-0001", "Fax": None,
        "AccountNumber": "CD1", "BillAddr1": "1234 Northwest Industrial Parkway",
        "BillAddr2": "Boulevard, Building 7, Suite 400", "BillAddress.City": "Reno", "BillAddress.State": "CA",
        "BillAddress.PostalCode": "94001", "BillAddress.Country": "USA", "CreditLimit": "754245.87",
        "JobStartDate": "2025-02-02", "Notes": "Owner: Ada Admin", "SalesTaxCountry": "US",
    }


def test_run_mapping_bench_measures_throughput() -> None:
    result = run_mapping_bench(count=5_000, repeat=1)
    assert result.records == 5_000 and result.rows == 15 and result.errors == 0
    assert result.records_per_second > 0 and result.records_per_cpu_second > 0


def test_bench_mapping_command() -> None:
    result = CliRunner().invoke(app, ["bench", "mapping", "--records", "2000", "--repeat", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("mapping: 2,000 records × 15 fields in ")
    assert "records/s per CPU second (0 record errors)" in result.stdout
