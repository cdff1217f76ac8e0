"""A bad mapping is refused before it replaces the active one: QuickBooks names against the sheet's QuickBooks
record, Salesforce names against the org's describe (`qbsf mapping check --org`, the dashboard's upload)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from qbsf.app.cli import app
from qbsf.mapping.loader import HEADER_LINE

ACCOUNT_ROWS = [HEADER_LINE, "Name,Name,Y,Trim,,", "Phone,Phone,N,,,", "Region__c,JobDesc,N,,,"]


def _write(folder: Path, name: str, rows: list[str]) -> Path:
    path = folder / name
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_check_refuses_quickbooks_names_the_record_does_not_have(tmp_path: Path) -> None:
    bad = _write(tmp_path, "Acct_to_Customer.csv", [HEADER_LINE, "Name,Name,Y,,,", "Phone,Phonee,N,,,"])
    result = CliRunner().invoke(app, ["mapping", "check", str(bad)])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{bad}:3: column 2 'Phonee': QuickBooks Customer has no field 'Phonee'")
    assert "did you mean Phone" in line


def test_check_org_refuses_a_salesforce_field_the_org_lacks_naming_the_line(sf_emulator, config_file: Path,
                                                                           tmp_path: Path) -> None:
    from qbsf.app.settings import update_settings
    from qbsf.resources import example_mappings_dir

    update_settings({"salesforce.instance_url": sf_emulator.url, "salesforce.client_id": sf_emulator.client_id,
                     "salesforce.auth_flow": "client_credentials"}, config_file)
    bad = _write(tmp_path, "Acct_to_Customer.csv", ACCOUNT_ROWS)
    link = _write(tmp_path, "Invoice_to_SF.csv", [HEADER_LINE, "TxnID,QB_Invoice_ID__c,Y,,,",
                                                  "CustomerRef.ListID,Linked_Account__c,N,Link:Account:QB_Cust_ID__c,,"])
    env = {"QBSF_SALESFORCE__CLIENT_SECRET": sf_emulator.client_secret}
    result = CliRunner().invoke(app, ["mapping", "check", "--org", "--config", str(config_file), str(bad), str(link),
                                      str(example_mappings_dir() / "Product_to_Item.csv")], env=env)
    assert result.exit_code == 2, result.output
    errors = result.stderr.splitlines()
    assert errors[0].startswith(f"{bad}:4: column 1 'Region__c': Salesforce Account has no field 'Region__c' in "
                                "this org")
    assert errors[1].startswith(f"{link}:3: the Link's Account.QB_Cust_ID__c: Salesforce Account has no field")
    assert len(errors) == 2
    assert "Product_to_Item.csv: OK" in result.stdout and "checked against the org" in result.stdout
    without = CliRunner().invoke(app, ["mapping", "check", str(bad)])
    assert without.exit_code == 0, "without --org the Salesforce names are not judged"


def test_dashboard_upload_checks_the_org_before_replacing_the_active_mapping(config_file: Path, tmp_path: Path,
                                                                             memory_secrets, dashboard_client) -> None:
    from qbsf.app.context import AppContext
    from qbsf.app.dashboard.app import Dashboard
    from qbsf.app.logging import LogBuffer

    mappings = tmp_path / "mappings"
    mappings.mkdir()
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text(f'mappings_dir = "{mappings}"\n[quickbooks]\ntransport = "com"\n')
    active = _write(mappings, "Acct_to_Customer.csv", [HEADER_LINE, "Name,Name,Y,,,"])
    asked: list[tuple[str, list[str]]] = []

    def missing(sobject: str, paths) -> list[str]:
        asked.append((sobject, list(paths)))
        return [p for p in paths if p == "Region__c"]

    board = Dashboard(app_context=AppContext(secrets=memory_secrets), log_buffer=LogBuffer(),
                      allowed_hosts=("testserver",), org_fields=lambda: missing)
    client = dashboard_client(board)
    data = ("\n".join(ACCOUNT_ROWS) + "\n").encode()
    refused = client.post("/mappings/upload", files={"file": ("Acct_to_Customer.csv", data, "text/csv")})
    assert refused.status_code == 400
    assert "Acct_to_Customer.csv:4: column 1 &#39;Region__c&#39;: Salesforce Account has no field" in refused.text
    assert active.read_text(encoding="utf-8") == f"{HEADER_LINE}\nName,Name,Y,,,\n", "the active mapping stays"
    assert ("Account", ["Region__c"]) in asked
    board.org_fields = lambda: None  # Salesforce not connected: QuickBooks names only, and the notice says so
    taken = client.post("/mappings/upload", files={"file": ("Acct_to_Customer.csv", data, "text/csv")},
                        follow_redirects=False)
    assert taken.status_code == 303 and "not+checked" in taken.headers["location"]
