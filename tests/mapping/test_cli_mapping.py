"""`qbsf mapping check|apply|sheets` and `qbsf demo`, through the real CLI app."""

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.mapping.loader import HEADER_LINE

runner = CliRunner()


def _write(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER_LINE, *rows]) + "\n", encoding="utf-8")
    return path


def test_check_good_files_prints_one_summary_line_each(examples_dir: Path) -> None:
    files = sorted(examples_dir.glob("*.csv"))
    result = runner.invoke(app, ["mapping", "check", *map(str, files)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(files) == 19
    assert all(": OK " in line for line in lines)


def test_check_bad_file_exits_2_with_file_line_errors_on_stderr(tmp_path: Path, examples_dir: Path) -> None:
    bad = _write(tmp_path, "Acct_to_Customer.csv", "Name,Name,Y,Left:abc,,", "Phone,Name,X,,,")
    good = examples_dir / "Product_to_Item.csv"
    result = runner.invoke(app, ["mapping", "check", str(bad), str(good)])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"{bad}:2: Left needs the number of characters as a whole number, e.g. Left:41 (got 'abc')",
        f"{bad}:3: Required (Y/N) must be Y or N, got 'X'",
        f"{bad}:3: Name is already written by line 2; map each target field once (chain transformations with | "
        f"instead)",
    ]
    assert "Product_to_Item: Product2 → Item" in result.stdout


def test_apply_prints_target_json(tmp_path: Path, examples_dir: Path) -> None:
    record = tmp_path / "account.json"
    record.write_text(json.dumps({"Id": "001A", "Name": " Acme ", "BillingStreet": "1 Main St\nSuite 2",
                                  "Phone": "555"}))
    result = runner.invoke(app, ["mapping", "apply", str(examples_dir / "Acct_to_Customer.csv"),
                                 "--record", str(record)])
    assert result.exit_code == 0, result.output
    target = json.loads(result.stdout)
    assert target["Name"] == "Acme" and target["BillAddr1"] == "1 Main St" and target["BillAddr2"] == "Suite 2"
    assert target["Fax"] is None
    assert list(target) == ["Name", "CompanyName", "Phone", "Fax", "AccountNumber", "BillAddr1", "BillAddr2",
                            "BillAddr3", "BillAddress.City", "BillAddress.State", "BillAddress.PostalCode",
                            "BillAddress.Country", "ShipAddr1", "ShipAddr2", "ShipAddress.City", "ShipAddress.State",
                            "ShipAddress.PostalCode", "ShipAddress.Country", "Notes"]


def test_apply_reports_the_link_it_would_look_up(tmp_path: Path, examples_dir: Path) -> None:
    record = tmp_path / "invoice.json"
    record.write_text(json.dumps({"TxnID": "1-1", "RefNumber": "8", "CustomerRef": {"ListID": "8000-1"}}))
    result = runner.invoke(app, ["mapping", "apply", str(examples_dir / "Invoice_to_SF.csv"), "-r", str(record)])
    assert result.exit_code == 0, result.output
    target = json.loads(result.stdout)
    assert target["Linked_Account__c"] == "(Link: the Account Id whose QB_Customer_ID__c = 8000-1)"
    assert target["Name"] == "Invoice 8"


def test_apply_record_error_exits_1(tmp_path: Path, examples_dir: Path) -> None:
    record = tmp_path / "account.json"
    record.write_text('{"Id": "001A", "Phone": "555"}')
    result = runner.invoke(app, ["mapping", "apply", str(examples_dir / "Acct_to_Customer.csv"), "-r", str(record)])
    assert result.exit_code == 1
    assert "record error: Account Id=001A: Name → Name (mapping line 2): Name is required" in result.stderr
    assert result.stdout == ""


def test_apply_bad_mapping_exits_2(tmp_path: Path) -> None:
    bad = _write(tmp_path, "Acct_to_Customer.csv", "Name,Name,Y,Frobnicate,,")
    record = tmp_path / "r.json"
    record.write_text("{}")
    result = runner.invoke(app, ["mapping", "apply", str(bad), "--record", str(record)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{bad}:2: unknown transformation 'Frobnicate'")


def test_apply_bad_record_json_exits_2(tmp_path: Path, examples_dir: Path) -> None:
    record = tmp_path / "r.json"
    record.write_text("{not json")
    result = runner.invoke(app, ["mapping", "apply", str(examples_dir / "Acct_to_Customer.csv"), "-r", str(record)])
    assert result.exit_code == 2 and "not valid JSON" in result.stderr
    record.write_text("[1]")
    result = runner.invoke(app, ["mapping", "apply", str(examples_dir / "Acct_to_Customer.csv"), "-r", str(record)])
    assert result.exit_code == 2 and "not an object" in result.stderr


def test_apply_a_list_of_records(tmp_path: Path, examples_dir: Path) -> None:
    record = tmp_path / "r.json"
    record.write_text('[{"Name": "A"}, {"Name": "B"}]')
    result = runner.invoke(app, ["mapping", "apply", str(examples_dir / "Product_to_Item.csv"), "-r", str(record)])
    assert result.exit_code == 0
    assert [r["Name"] for r in json.loads(result.stdout)] == ["A", "B"]


def test_sheets_lists_the_eight_sheets() -> None:
    result = runner.invoke(app, ["mapping", "sheets"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "OpptyLines_CHILD_Oppty" in result.stdout and "Concatenate:TEMPLATE" in result.stdout


def test_demo_runs_every_example_mapping() -> None:
    result = runner.invoke(app, ["demo", "--mappings"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for sheet in ("Acct_to_Customer", "Invoice_to_SF", "OpptyLines_CHILD_Oppty", "Contact_to_SubCustomer"):
        assert sheet in result.stdout
    assert "Invoice 8" in result.stdout and "1234.50" in result.stdout
    assert "skipped" in result.stdout  # the demo shows a record error too


def test_console_script_check_exit_codes(tmp_path: Path, examples_dir: Path) -> None:
    bad = _write(tmp_path, "fields.csv", "Name,Name,Y,,,")
    done = subprocess.run([sys.executable, "-m", "qbsf.app.cli", "mapping", "check", str(bad)],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{bad}:1: the file name does not say which mapping this is")


def test_apply_with_lookups_resolves_links(tmp_path: Path, examples_dir: Path) -> None:
    record = tmp_path / "invoice.json"
    record.write_text(json.dumps([{"TxnID": "1-1", "RefNumber": "8", "CustomerRef.ListID": "8000-1"},
                                  {"TxnID": "1-2", "RefNumber": "9", "CustomerRef.ListID": "8000-9"}]))
    lookups = tmp_path / "lookups.json"
    lookups.write_text(json.dumps({"Account.QB_Customer_ID__c": {"8000-1": "001A"}}))
    result = runner.invoke(app, ["mapping", "apply", str(examples_dir / "Invoice_to_SF.csv"), "-r", str(record),
                                 "--lookups", str(lookups)])
    assert result.exit_code == 1
    assert [r["Linked_Account__c"] for r in json.loads(result.stdout)] == ["001A"]
    assert "no Account found with QB_Customer_ID__c = '8000-9'" in result.stderr
    lookups.write_text('{"Account": {}}')
    result = runner.invoke(app, ["mapping", "apply", str(examples_dir / "Invoice_to_SF.csv"), "-r", str(record),
                                 "--lookups", str(lookups)])
    assert result.exit_code == 2 and "must be \"Object.Field\"" in result.stderr
