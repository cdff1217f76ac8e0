"""The Salesforce CLI (`sf`, pinned in tests/node) drives the emulator unchanged: login by access token, data
commands, describe and limits — each compared with what the command shows a person."""

from __future__ import annotations

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
