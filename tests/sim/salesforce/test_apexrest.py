"""The package's Apex REST resource on the emulator, driven by simple-salesforce's ``apexecute`` (a client we did not
write, unchanged): the URL, the body and the answer are what salesforce/…/QBSFCycleResource.cls takes and gives."""

from __future__ import annotations

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceResourceNotFound

from qbsf.sim.salesforce.apexrest import MAX_READS, MAX_ROWS, deployed_resources
from qbsf.sim.salesforce.schema import default_metadata_dir


@pytest.fixture
def sf(sf_emulator_tls) -> Salesforce:
    emulator = sf_emulator_tls
    session = requests.Session()
    session.trust_env = False
    session.verify = str(emulator.ca_path)
    token = emulator.login()["access_token"]
    return Salesforce(instance_url=emulator.url, session_id=token, session=session, version="62.0")


def _by_reference(answer: dict) -> dict[str, dict]:
    return {item["referenceId"]: item for item in answer["results"]}


def test_the_emulator_serves_the_resources_the_package_classes_declare() -> None:
    assert "/qbsf/cycle" in deployed_resources(default_metadata_dir().parent / "classes")


def test_one_post_beats_closes_and_reads_and_counts_one_api_call(sf, sf_emulator_tls) -> None:
    org = sf_emulator_tls.state
    pending = org.insert("QBSF_Sync_Request__c", {"Direction__c": "SF_TO_QB", "Status__c": "Pending"})
    answered = org.insert("QBSF_Sync_Request__c", {"Direction__c": "QB_TO_SF", "Status__c": "Pending"})
    account = org.insert("Account", {"Name": "Acme"})
    org.delete("Account", account)
    calls = org.api_calls
    answer = sf.apexecute("qbsf/cycle", method="POST", data={
        "heartbeat": {"Connector_Id__c": "HOST-1", "Name": "qbsf on host", "Last_Seen__c": "2026-01-02T03:04:05.000Z",
                      "QB_Connected__c": True, "Version__c": "1.0"},
        "close": [{"referenceId": "close0", "id": answered, "status": "Done", "message": "3 synced"}],
        "reads": [
            {"referenceId": "pending", "soql": "SELECT Id, Direction__c, Entity__c FROM QBSF_Sync_Request__c "
                                              "WHERE Status__c = 'Pending'", "all": False},
            {"referenceId": "count", "soql": "SELECT COUNT() FROM QBSF_Sync_Request__c", "all": False},
            {"referenceId": "gone", "soql": "SELECT Id FROM Account WHERE IsDeleted = true", "all": True},
            {"referenceId": "hidden", "soql": "SELECT Id FROM Account WHERE IsDeleted = true", "all": False},
        ]})
    assert org.api_calls == calls + 1, "one Apex REST call is one API call"
    results = _by_reference(answer)
    assert [item["referenceId"] for item in answer["results"]] == ["heartbeat", "close0", "pending", "count", "gone",
                                                                   "hidden"]
    assert results["heartbeat"]["httpStatusCode"] == 201 and results["heartbeat"]["body"]["created"] is True
    assert results["close0"] == {"referenceId": "close0", "httpStatusCode": 204, "body": None}
    assert org.get("QBSF_Sync_Request__c", answered)["Status__c"] == "Done"
    page = results["pending"]["body"]
    assert page["done"] is True and [row["Id"] for row in page["records"]] == [pending]
    assert "Entity__c" not in page["records"][0], "null fields are left out, as Apex serializes records"
    assert page["records"][0]["attributes"]["type"] == "QBSF_Sync_Request__c"
    assert results["count"]["body"] == {"totalSize": 2, "done": True, "records": []}
    assert [row["Id"] for row in results["gone"]["body"]["records"]] == [account], "all: true reads deleted rows"
    assert results["hidden"]["body"]["records"] == []
    again = _by_reference(sf.apexecute("qbsf/cycle", method="POST", data={"heartbeat": {"Connector_Id__c": "HOST-1"}}))
    assert again["heartbeat"]["httpStatusCode"] == 200 and len(org.records("QBSF_Heartbeat__c")) == 1


def test_a_bad_read_fails_alone_and_only_selects_run(sf, sf_emulator_tls) -> None:
    sf_emulator_tls.state.insert("Account", {"Name": "Acme"})
    results = _by_reference(sf.apexecute("qbsf/cycle", method="POST", data={"reads": [
        {"referenceId": "bad", "soql": "SELECT Nope__c FROM Account", "all": False},
        {"referenceId": "unknown", "soql": "SELECT Id FROM Nowhere__c", "all": False},
        {"referenceId": "write", "soql": "DELETE FROM Account", "all": False},
        {"referenceId": "good", "soql": "SELECT Id, Name FROM Account", "all": False},
    ]}))
    assert results["bad"]["httpStatusCode"] == 400 and results["bad"]["body"][0]["errorCode"] == "MALFORMED_QUERY"
    assert results["unknown"]["body"][0]["errorCode"] == "INVALID_TYPE"
    assert results["write"]["body"][0]["errorCode"] == "INVALID_QUERY"
    assert results["good"]["httpStatusCode"] == 200
    assert [row["Name"] for row in results["good"]["body"]["records"]] == ["Acme"]


def test_pages_are_capped_and_reads_beyond_the_budget_left_for_the_caller(sf, sf_emulator_tls) -> None:
    org = sf_emulator_tls.state
    with org.batch():
        for number in range(MAX_ROWS + 5):
            org.insert("Account", {"Name": f"Account {number:03d}"})
    reads = [{"referenceId": f"r{n}", "soql": "SELECT Id FROM Account ORDER BY Name", "all": False}
             for n in range(MAX_READS + 1)]
    results = _by_reference(sf.apexecute("qbsf/cycle", method="POST", data={"reads": reads}))
    first = results["r0"]["body"]
    assert first["done"] is False and len(first["records"]) == MAX_ROWS and first["totalSize"] == MAX_ROWS + 1
    assert results[f"r{MAX_READS}"]["httpStatusCode"] == 400
    assert results[f"r{MAX_READS}"]["body"][0]["errorCode"] == "LIMIT_EXCEEDED"


def test_a_path_no_class_maps_is_404_not_found_as_salesforce_answers(sf, sf_emulator_tls) -> None:
    with pytest.raises(SalesforceResourceNotFound) as caught:
        sf.apexecute("qbsf/nothing", method="POST", data={})
    assert caught.value.content == [{"errorCode": "NOT_FOUND", "message": "Could not find a match for URL"}]
    sf_emulator_tls.state.apex_resources.clear()  # an org whose package predates the resource
    with pytest.raises(SalesforceResourceNotFound):
        sf.apexecute("qbsf/cycle", method="POST", data={})
