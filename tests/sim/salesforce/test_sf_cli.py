"""The Salesforce CLI (`sf`, pinned in tests/node) drives the emulator unchanged: login by access token, data
commands, describe and limits — each compared with what the command shows a person."""

from __future__ import annotations

import json

from qbsf.sim.salesforce.ids import ORG_ID


def test_login_by_access_token_stores_the_instance_url_with_a_slash_and_every_command_works(sf_cli):
    result = sf_cli.login["result"]
    assert result["orgId"] == ORG_ID and result["username"] == sf_cli.emulator.username
    assert result["instanceUrl"] == sf_cli.emulator.url + "/"  # so the CLI's requests start with //services/…
    shown = sf_cli.run("org", "display", "--target-org", "emu")["result"]
    assert shown["connectedStatus"] == "Connected" and shown["id"] == ORG_ID


def test_data_query_lists_fields_parent_fields_child_rows_and_aggregates(sf_cli):
    state = sf_cli.emulator.state
    acme = state.insert("Account", {"Name": "Query Acme", "BillingCity": "Rome"})
    state.insert("Contact", {"LastName": "Doe", "AccountId": acme})
    state.insert("Account", {"Name": "Query Globex", "BillingCity": "Rome"})
    soql = ("SELECT Name, Owner.Name, (SELECT LastName FROM Contacts) FROM Account WHERE Name LIKE 'Query %' "
            "ORDER BY Name")
    records = sf_cli.run("data", "query", "-o", "emu", "-q", soql)["result"]["records"]
    assert [r["Name"] for r in records] == ["Query Acme", "Query Globex"]
    assert records[0]["Owner"]["Name"] == "Qbsf Demo"
    assert records[0]["Contacts"]["records"][0]["LastName"] == "Doe" and records[1]["Contacts"] is None
    table = sf_cli.raw("data", "query", "-o", "emu", "-q", soql)
    assert table.returncode == 0, table.stderr
    header = next(line for line in table.stdout.splitlines() if "NAME" in line)
    assert "OWNER.NAME" in header and "CONTACTS.LASTNAME" in header  # laid out from the columns=true answer
    assert "Query Acme" in table.stdout and "Doe" in table.stdout
    grouped = sf_cli.raw("data", "query", "-o", "emu", "-q",
                         "SELECT BillingCity, COUNT(Id) FROM Account WHERE BillingCity = 'Rome' GROUP BY BillingCity")
    assert grouped.returncode == 0, grouped.stderr
    row = next(line for line in grouped.stdout.splitlines() if "Rome" in line)
    assert "COUNT(ID)" in grouped.stdout.upper() and " 2 " in row


def test_record_create_get_update_delete_and_a_second_delete_fails_as_salesforce_does(sf_cli):
    created = sf_cli.run("data", "create", "record", "-o", "emu", "-s", "Account", "-v",
                         "Name='Acme Corp' BillingCity=Paris")["result"]
    record_id = created["id"]
    assert created["success"] is True and record_id.startswith("001")
    got = sf_cli.run("data", "get", "record", "-o", "emu", "-s", "Account", "-i", record_id)["result"]
    assert got["Name"] == "Acme Corp" and got["BillingCity"] == "Paris"
    sf_cli.run("data", "update", "record", "-o", "emu", "-s", "Account", "-w", "Name='Acme Corp'", "-v",
               "BillingCity=Lyon")
    assert sf_cli.emulator.state.get("Account", record_id)["BillingCity"] == "Lyon"
    sf_cli.run("data", "delete", "record", "-o", "emu", "-s", "Account", "-i", record_id)
    assert sf_cli.emulator.state.get("Account", record_id) is None
    again = sf_cli.run("data", "delete", "record", "-o", "emu", "-s", "Account", "-i", record_id, ok=False)
    assert again["name"] == "ENTITY_IS_DELETED" and again["message"] == "entity is deleted"


def test_sobject_describe_and_api_limits(sf_cli):
    described = sf_cli.run("sobject", "describe", "-o", "emu", "-s", "Account")["result"]
    fields = {f["name"]: f for f in described["fields"]}
    assert described["name"] == "Account" and described["keyPrefix"] == "001"
    assert fields["QB_Customer_ID__c"]["externalId"] is True and fields["Name"]["nillable"] is False
    limits = {entry["name"]: entry for entry in sf_cli.run("limits", "api", "display", "-o", "emu")["result"]}
    daily = limits["DailyApiRequests"]
    assert daily["max"] == sf_cli.emulator.state.daily_api_limit
    assert 0 < daily["max"] - daily["remaining"] <= sf_cli.emulator.state.api_calls


def test_data_import_tree_creates_accounts_with_their_contacts(sf_cli):
    tree = sf_cli.cwd / "accounts.json"
    tree.write_text(json.dumps({"records": [
        {"attributes": {"type": "Account", "referenceId": "TreeAcme"}, "Name": "Tree Acme", "BillingCity": "Oslo",
         "Contacts": {"records": [{"attributes": {"type": "Contact", "referenceId": "TreeJane"},
                                   "LastName": "Jane", "Email": "jane@example.com"}]}},
        {"attributes": {"type": "Account", "referenceId": "TreeGlobex"}, "Name": "Tree Globex"}]}))
    result = sf_cli.run("data", "import", "tree", "-o", "emu", "--files", str(tree))["result"]
    ids = {entry["refId"]: entry["id"] for entry in result}
    assert set(ids) == {"TreeAcme", "TreeJane", "TreeGlobex"}
    state = sf_cli.emulator.state
    assert state.get("Contact", ids["TreeJane"])["AccountId"] == ids["TreeAcme"]
    assert state.get("Account", ids["TreeAcme"])["BillingCity"] == "Oslo"


def test_data_upsert_bulk_runs_an_ingest_job_and_reports_failed_rows(sf_cli):
    good = sf_cli.cwd / "good.csv"
    good.write_text("Name,QB_Customer_ID__c,BillingCity\nBulk One,B-1,Paris\nBulk Two,B-2,Lyon\n")
    done = sf_cli.run("data", "upsert", "bulk", "-o", "emu", "-s", "Account", "--file", str(good), "--external-id",
                      "QB_Customer_ID__c", "--wait", "1")["result"]
    assert done["jobInfo"]["state"] == "JobComplete" and done["jobInfo"]["numberRecordsProcessed"] == 2
    state = sf_cli.emulator.state
    assert {state.get("Account", i)["Name"] for i in state.find("Account", "QB_Customer_ID__c", "B-1")} == {"Bulk One"}
    good.write_text("Name,QB_Customer_ID__c\nBulk One renamed,B-1\n")
    again = sf_cli.run("data", "upsert", "bulk", "-o", "emu", "-s", "Account", "--file", str(good), "--external-id",
                       "QB_Customer_ID__c", "--wait", "1")["result"]
    assert again["jobInfo"]["numberRecordsFailed"] == 0
    assert state.get("Account", state.find("Account", "QB_Customer_ID__c", "B-1")[0])["Name"] == "Bulk One renamed"
    bad = sf_cli.cwd / "bad.csv"
    bad.write_text("Name,QB_Customer_ID__c\nBulk Three,B-3\n,B-4\nDup A,B-5\nDup B,B-5\n")
    failed = sf_cli.run("data", "upsert", "bulk", "-o", "emu", "-s", "Account", "--file", str(bad), "--external-id",
                        "QB_Customer_ID__c", "--wait", "1", ok=False)
    assert failed["name"] == "FailedRecordDetailsError" and "3 records" in failed["message"]
    job_id = failed["data"]["jobId"]
    results = sf_cli.run("data", "bulk", "results", "-o", "emu", "--job-id", job_id)["result"]
    assert (results["successfulRecords"], results["failedRecords"]) == (1, 3)
    errors = (sf_cli.cwd / results["failedFilePath"]).read_text()
    assert "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --" in errors
    assert errors.count("DUPLICATE_VALUE:Duplicate external id specified: B-5") == 2
