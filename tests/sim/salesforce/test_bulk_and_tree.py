"""Bulk API 2.0 ingest jobs and sObject Tree, over HTTP, in the shapes Salesforce's guides give."""

import csv
import io

import pytest

V = "/services/data/v62.0"


@pytest.fixture
def api(sf_emulator):
    with sf_emulator.client() as client:
        yield client


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _job(api, **spec) -> str:
    created = api.post(f"{V}/jobs/ingest", json={"contentType": "CSV", "lineEnding": "LF", **spec})
    assert created.status_code == 200, created.text
    info = created.json()
    assert info["state"] == "Open" and info["id"].startswith("750")
    assert info["contentUrl"] == f"services/data/v62.0/jobs/ingest/{info['id']}/batches"
    return info["id"]


def _run(api, job: str, text: str) -> dict:
    upload = api.put(f"{V}/jobs/ingest/{job}/batches", content=text.encode(), headers={"Content-Type": "text/csv"})
    assert upload.status_code == 201 and upload.content == b""
    closed = api.patch(f"{V}/jobs/ingest/{job}", json={"state": "UploadComplete"})
    assert closed.status_code == 200 and closed.json()["state"] == "UploadComplete"
    return api.get(f"{V}/jobs/ingest/{job}").json()


def test_upsert_job_reports_each_row_and_fails_rows_alone(api, sf_emulator):
    state = sf_emulator.state
    parent = state.insert("Account", {"Name": "Parent", "QB_Customer_ID__c": "P-1"})
    existing = state.insert("Account", {"Name": "Old name", "QB_Customer_ID__c": "E-1", "BillingCity": "Rome"})
    job = _job(api, object="Account", operation="upsert", externalIdFieldName="qb_customer_id__c")
    info = _run(api, job, "Name,QB_Customer_ID__c,BillingCity,Parent.QB_Customer_ID__c\n"
                          "New one,N-1,Paris,P-1\n"
                          "New name,E-1,#N/A,\n"
                          ",N-2,Lyon,\n"
                          "Dup A,D-1,,\n"
                          "Dup B,d-1,,\n"
                          "Orphan,N-3,,NOPE\n")
    assert info["state"] == "JobComplete" and info["externalIdFieldName"] == "QB_Customer_ID__c"
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (6, 4)
    good = _rows(api.get(f"{V}/jobs/ingest/{job}/successfulResults").text)
    assert [(r["sf__Created"], r["Name"]) for r in good] == [("true", "New one"), ("false", "New name")]
    created = state.get("Account", good[0]["sf__Id"])
    assert created["ParentId"] == parent and created["BillingCity"] == "Paris"
    assert good[1]["sf__Id"] == existing and state.get("Account", existing)["BillingCity"] is None  # #N/A nulls
    bad = {r["QB_Customer_ID__c"]: r["sf__Error"] for r in _rows(api.get(f"{V}/jobs/ingest/{job}/failedResults").text)}
    assert bad["N-2"] == "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
    assert bad["D-1"] == "DUPLICATE_VALUE:Duplicate external id specified: D-1:QB_Customer_ID__c --"
    assert bad["d-1"] == "DUPLICATE_VALUE:Duplicate external id specified: d-1:QB_Customer_ID__c --"
    assert bad["N-3"].startswith("INVALID_FIELD:Foreign key external ID: NOPE not found")
    assert _rows(api.get(f"{V}/jobs/ingest/{job}/unprocessedrecords").text) == []
    assert api.get(f"{V}/limits").json()["DailyBulkApiBatches"] == {"Max": 15000, "Remaining": 14999}


def test_insert_update_delete_jobs_and_the_job_life_cycle(api, sf_emulator):
    state = sf_emulator.state
    job = _job(api, object="Contact", operation="insert", columnDelimiter="SEMICOLON")
    info = _run(api, job, "LastName;Email\nDoe;doe@example.com\nRoe;roe@example.com\n")
    assert info["state"] == "JobComplete" and info["numberRecordsFailed"] == 0
    ids = [r["sf__Id"] for r in _rows(api.get(f"{V}/jobs/ingest/{job}/successfulResults").text.replace(";", ","))]
    update = _job(api, object="Contact", operation="update")
    assert _run(api, update, f"Id,LastName\n{ids[0]},Doe-Smith\n")["numberRecordsFailed"] == 0
    assert state.get("Contact", ids[0])["LastName"] == "Doe-Smith"
    delete = _job(api, object="Contact", operation="delete")
    assert _run(api, delete, f"Id\n{ids[1]}\n")["numberRecordsProcessed"] == 1
    assert state.get("Contact", ids[1]) is None
    late = api.put(f"{V}/jobs/ingest/{delete}/batches", content=b"Id\nx\n", headers={"Content-Type": "text/csv"})
    assert late.status_code == 409 and late.json()[0]["errorCode"] == "INVALIDJOBSTATE"
    listed = api.get(f"{V}/jobs/ingest").json()
    assert listed["done"] is True and {j["id"] for j in listed["records"]} == {job, update, delete}
    assert api.delete(f"{V}/jobs/ingest/{delete}").status_code == 204
    assert api.get(f"{V}/jobs/ingest/{delete}").status_code == 404


def test_aborted_empty_and_invalid_jobs(api):
    aborted = _job(api, object="Account", operation="insert")
    api.put(f"{V}/jobs/ingest/{aborted}/batches", content=b"Name\nA\nB\n", headers={"Content-Type": "text/csv"})
    assert api.patch(f"{V}/jobs/ingest/{aborted}", json={"state": "Aborted"}).json()["state"] == "Aborted"
    assert [r["Name"] for r in _rows(api.get(f"{V}/jobs/ingest/{aborted}/unprocessedrecords").text)] == ["A", "B"]
    empty = _job(api, object="Account", operation="insert")
    api.patch(f"{V}/jobs/ingest/{empty}", json={"state": "UploadComplete"})
    failed = api.get(f"{V}/jobs/ingest/{empty}").json()
    assert failed["state"] == "Failed" and "No data" in failed["errorMessage"]
    unknown = _job(api, object="Account", operation="insert")
    assert _run(api, unknown, "Name,Bogus__c\nA,1\n")["errorMessage"] == \
        "InvalidBatch : Field name not found : Bogus__c"
    for spec in ({"object": "Account", "operation": "merge"}, {"object": "Nope__c", "operation": "insert"},
                 {"object": "Account", "operation": "upsert", "externalIdFieldName": "BillingCity"}):
        refused = api.post(f"{V}/jobs/ingest", json=spec)
        assert refused.status_code == 400 and refused.json()[0]["errorCode"] == "INVALIDJOB"
    still_open = _job(api, object="Account", operation="insert")
    early = api.get(f"{V}/jobs/ingest/{still_open}/successfulResults")
    assert early.status_code == 400 and early.json()[0]["errorCode"] == "INVALIDJOBSTATE"


def _tree(*records: dict) -> dict:
    return {"records": list(records)}


def test_tree_creates_parents_then_children_and_lists_them_level_by_level(api, sf_emulator):
    body = _tree({"attributes": {"type": "Account", "referenceId": "ref1"}, "Name": "Tree Acme",
                  "Contacts": {"records": [{"attributes": {"type": "Contact", "referenceId": "ref2"},
                                            "LastName": "Jane"},
                                           {"attributes": {"type": "Contact", "referenceId": "ref3"},
                                            "LastName": "John"}]}},
                 {"attributes": {"type": "Account", "referenceId": "ref4"}, "Name": "Tree Globex"})
    answer = api.post(f"{V}/composite/tree/Account", json=body)
    assert answer.status_code == 201
    result = answer.json()
    assert result["hasErrors"] is False
    assert [r["referenceId"] for r in result["results"]] == ["ref1", "ref4", "ref2", "ref3"]
    ids = {r["referenceId"]: r["id"] for r in result["results"]}
    assert sf_emulator.state.get("Contact", ids["ref3"])["AccountId"] == ids["ref1"]


def test_tree_fails_whole_and_names_the_failing_records(api, sf_emulator):
    body = _tree({"attributes": {"type": "Account", "referenceId": "ok"}, "Name": "Kept?",
                  "Contacts": {"records": [{"attributes": {"type": "Contact", "referenceId": "bad"},
                                            "Email": "x@example.com"}]}})
    answer = api.post(f"{V}/composite/tree/Account", json=body)
    assert answer.status_code == 400
    assert answer.json() == {"hasErrors": True, "results": [{"referenceId": "bad", "errors": [
        {"statusCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing: [LastName]",
         "fields": ["LastName"]}]}]}
    assert sf_emulator.state.records("Account") == []  # rolled back with its child
    twice = _tree({"attributes": {"type": "Account", "referenceId": "r"}, "Name": "A"},
                  {"attributes": {"type": "Account", "referenceId": "r"}, "Name": "B"})
    again = api.post(f"{V}/composite/tree/Account", json=twice).json()
    assert again["hasErrors"] is True and [r["referenceId"] for r in again["results"]] == ["r", "r"]
    assert {r["errors"][0]["statusCode"] for r in again["results"]} == {"INVALID_INPUT"}
    many = _tree(*({"attributes": {"type": "Account", "referenceId": f"r{i}"}, "Name": f"A{i}"} for i in range(201)))
    assert api.post(f"{V}/composite/tree/Account", json=many).status_code == 400
    wrong = _tree({"attributes": {"type": "Contact", "referenceId": "c"}, "LastName": "X"})
    assert api.post(f"{V}/composite/tree/Account", json=wrong).json()["results"][0]["errors"][0]["statusCode"] == \
        "INVALID_TYPE"
    assert sf_emulator.state.records("Account") == [] and sf_emulator.state.records("Contact") == []


def test_a_csv_value_of_the_wrong_type_fails_its_row_in_the_bulk_api_words(api):
    job = _job(api, object="Contact", operation="insert")
    info = _run(api, job, "LastName,Birthdate,EmailBouncedDate\nOk,2001-02-03,2026-01-05T10:00:00Z\n"
                          "Bad date,6/15/19,\nBad time,,2026-01-05 10:00:00\n")
    assert (info["numberRecordsProcessed"], info["numberRecordsFailed"]) == (3, 2)
    errors = {r["LastName"]: r["sf__Error"] for r in _rows(api.get(f"{V}/jobs/ingest/{job}/failedResults").text)}
    assert errors == {
        "Bad date": "INVALID_FIELD:Failed to deserialize field at col 2. Due to, '6/15/19' is not a valid value for "
                    "the type xsd:date:Birthdate --",
        "Bad time": "INVALID_FIELD:Failed to deserialize field at col 3. Due to, '2026-01-05 10:00:00' is not a valid "
                    "value for the type xsd:dateTime:EmailBouncedDate --"}
