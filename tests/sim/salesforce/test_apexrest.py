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


# ---- digest reads (QBSFCycleResource.runDigest) -----------------------------------------------------------------
def _expected_digest(rows: list[tuple[str, str]]) -> str:
    """The digest written out here from the class's contract, over (Id, SystemModstamp text) pairs."""
    import hashlib
    from datetime import datetime

    def millis(text: str) -> int:
        moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")
        return round(moment.timestamp() * 1000)

    lines = sorted(f"{record_id.upper()}:{millis(stamp)}" for record_id, stamp in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def test_a_digest_read_answers_the_windows_count_and_digest_not_its_records(sf, sf_emulator_tls) -> None:
    org = sf_emulator_tls.state
    ids = [org.insert("Account", {"Name": f"Digest {number}"}) for number in range(3)]
    org.insert("Account", {"Name": "Elsewhere"})
    soql = "SELECT Id, SystemModstamp FROM Account WHERE (Name LIKE 'Digest%')"
    calls = org.api_calls
    results = _by_reference(sf.apexecute("qbsf/cycle", method="POST", data={"reads": [
        {"referenceId": "digest_window", "soql": soql, "all": False, "digest": True},
        {"referenceId": "plain", "soql": soql, "all": False},
        {"referenceId": "limited", "soql": soql + " LIMIT 5", "all": False, "digest": True},
        {"referenceId": "no_stamp", "soql": "SELECT Id FROM Account", "all": False, "digest": True},
    ]}))
    assert org.api_calls == calls + 1
    stamps = [(record_id, org.get("Account", record_id)["SystemModstamp"]) for record_id in ids]
    assert all(len(record_id) == 18 for record_id, _ in stamps)
    assert results["digest_window"] == {"referenceId": "digest_window", "httpStatusCode": 200,
                                        "body": {"totalSize": 3, "digest": _expected_digest(stamps)}}
    assert len(results["plain"]["body"]["records"]) == 3, "without the flag the same SOQL reads records"
    assert results["limited"]["body"][0]["errorCode"] == "INVALID_QUERY"
    assert results["no_stamp"]["body"][0]["errorCode"] == "INVALID_QUERY"
    # an empty window: the digest of no lines
    empty = _by_reference(sf.apexecute("qbsf/cycle", method="POST", data={"reads": [
        {"referenceId": "w", "soql": "SELECT Id, SystemModstamp FROM Account WHERE Name = 'Nobody'", "digest": True}]}))
    assert empty["w"]["body"] == {"totalSize": 0, "digest": _expected_digest([])}


def test_a_digest_read_that_does_not_fit_the_calls_row_room_answers_limit_exceeded(sf, sf_emulator_tls) -> None:
    org = sf_emulator_tls.state
    for number in range(5):
        org.insert("Account", {"Name": f"Digest {number}"})
    soql = "SELECT Id, SystemModstamp FROM Account"
    org.apex_digest_row_cap = 6  # room for 5 rows: a window must stay under the room to be answered
    fits = _by_reference(sf.apexecute("qbsf/cycle", method="POST", data={"reads": [
        {"referenceId": "w", "soql": soql, "digest": True}]}))
    assert fits["w"]["body"]["totalSize"] == 5
    org.apex_digest_row_cap = 5
    refused = _by_reference(sf.apexecute("qbsf/cycle", method="POST", data={"reads": [
        {"referenceId": "w", "soql": soql, "digest": True},
        {"referenceId": "after", "soql": "SELECT Id FROM Account", "all": False}]}))
    assert refused["w"]["httpStatusCode"] == 400 and refused["w"]["body"][0]["errorCode"] == "LIMIT_EXCEEDED"
    assert refused["after"]["httpStatusCode"] == 200, "the reads after it still run"


def test_a_digest_read_leaves_each_read_after_it_a_pages_room(sf, sf_emulator_tls, monkeypatch) -> None:
    """The transaction's query rows (50,000; lowered here to 1,000) less MAX_ROWS + 1 for each read after the digest
    is its room: 4 reads after it leave 1,000 − 4 × 201 = 196 rows, too few for a window of 200."""
    from qbsf.sim.salesforce import apexrest

    org = sf_emulator_tls.state
    with org.batch():
        for number in range(200):
            org.insert("Account", {"Name": f"Digest {number:03d}"})
    monkeypatch.setattr(apexrest, "QUERY_ROWS", 1_000)
    digest = {"referenceId": "w", "soql": "SELECT Id, SystemModstamp FROM Account", "digest": True}
    after = [{"referenceId": f"r{n}", "soql": "SELECT COUNT() FROM Account"} for n in range(4)]
    results = _by_reference(sf.apexecute("qbsf/cycle", method="POST", data={"reads": [digest, *after]}))
    assert results["w"]["body"][0]["errorCode"] == "LIMIT_EXCEEDED"
    assert all(results[f"r{n}"]["body"]["totalSize"] == 200 for n in range(4))
    # last in the call, the same window fits; the reads before it took their rows (a COUNT() one each)
    results = _by_reference(sf.apexecute("qbsf/cycle", method="POST", data={"reads": [*after, digest]}))
    assert results["w"]["body"]["totalSize"] == 200
