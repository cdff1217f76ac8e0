"""Upsert by external id, sObject Collections and composite over HTTP, with their documented shapes."""

import pytest

V = "/services/data/v62.0"


@pytest.fixture
def api(sf_emulator):
    with sf_emulator.client() as client:
        yield client


def test_upsert_creates_then_updates(sf_emulator, api):
    url = f"{V}/sobjects/Account/QB_Customer_ID__c/80000001-1"
    created = api.patch(url, json={"Name": "Acme"})
    assert created.status_code == 201
    body = created.json()
    assert body == {"id": body["id"], "success": True, "errors": [], "created": True}
    updated = api.patch(url, json={"Name": "Acme Corp"})
    assert updated.status_code == 200 and updated.json() == {"id": body["id"], "success": True, "errors": [],
                                                             "created": False}
    assert sf_emulator.state.get("Account", body["id"])["Name"] == "Acme Corp"
    legacy = api.patch(url.replace("v62.0", "v45.0"), json={"Name": "Old API"})
    assert legacy.status_code == 204 and not legacy.content


def test_upsert_errors(sf_emulator, api):
    both = api.patch(f"{V}/sobjects/Account/QB_Customer_ID__c/X1", json={"Name": "a", "QB_Customer_ID__c": "X1"})
    assert both.status_code == 400 and both.json()[0]["errorCode"] == "INVALID_FIELD"
    with_id = api.patch(f"{V}/sobjects/Account/QB_Customer_ID__c/X1", json={"Name": "a", "Id": "001Q00000000001IAA"})
    assert with_id.status_code == 400 and with_id.json()[0]["fields"] == ["Id"]
    only = api.patch(f"{V}/sobjects/Account/QB_Customer_ID__c/X2", params={"updateOnly": "true"}, json={"Name": "a"})
    assert only.status_code == 404 and only.json()[0]["errorCode"] == "NOT_FOUND"
    assert sf_emulator.state.records("Account") == []
    wrong_field = api.patch(f"{V}/sobjects/Account/BillingCity/Paris", json={"Name": "a"})
    assert wrong_field.status_code == 404
    # Email is not unique: two matches give 300 with the candidates' URLs.
    state = sf_emulator.state
    first = state.insert("Contact", {"LastName": "A", "Email": "same@example.com"})
    second = state.insert("Contact", {"LastName": "B", "Email": "same@example.com"})
    state.schema.get("Contact").field("Email").idLookup = True
    try:
        several = api.patch(f"{V}/sobjects/Contact/Email/same@example.com", json={"LastName": "C"})
    finally:
        state.schema.get("Contact").field("Email").idLookup = False
    assert several.status_code == 300
    assert several.json() == [f"{V}/sobjects/Contact/{first}", f"{V}/sobjects/Contact/{second}"]


def test_collections_create_in_order_with_partial_failure(sf_emulator, api):
    records = [{"attributes": {"type": "Account"}, "Name": "One"},
               {"attributes": {"type": "Account"}, "BillingCity": "no name"},
               {"attributes": {"type": "Contact"}, "LastName": "Three"}]
    response = api.post(f"{V}/composite/sobjects", json={"allOrNone": False, "records": records})
    assert response.status_code == 200
    one, two, three = response.json()
    assert one["success"] and one["id"].startswith("001") and one["errors"] == []
    assert two == {"success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
                                                 "message": "Required fields are missing: [Name]",
                                                 "fields": ["Name"]}]}
    assert three["success"] and three["id"].startswith("003")
    assert len(sf_emulator.state.records("Account")) == 1


def test_collections_all_or_none_rolls_everything_back(sf_emulator, api):
    state = sf_emulator.state
    existing = state.insert("Account", {"Name": "Keep"})
    records = [{"attributes": {"type": "Account"}, "Id": existing, "Name": "Changed"},
               {"attributes": {"type": "Account"}, "Id": existing[:15], "Name": "x" * 300}]
    results = api.patch(f"{V}/composite/sobjects", json={"allOrNone": True, "records": records}).json()
    assert results[0]["success"] is False
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert results[1]["errors"][0]["statusCode"] == "STRING_TOO_LONG"
    assert state.get("Account", existing)["Name"] == "Keep"
    queued = [q for q in state.records("QBSync_Queue__c") if q["Operation__c"] == "Update"]
    assert queued == []  # the trigger's queue rows rolled back with the records


def test_collections_upsert_update_get_delete(sf_emulator, api):
    records = [{"attributes": {"type": "Account"}, "Name": f"A{i}", "QB_Customer_ID__c": f"Q{i}"} for i in range(3)]
    first = api.patch(f"{V}/composite/sobjects/Account/QB_Customer_ID__c",
                      json={"allOrNone": False, "records": records}).json()
    assert [r["created"] for r in first] == [True, True, True]
    records[1]["Name"] = "Renamed"
    second = api.patch(f"{V}/composite/sobjects/Account/QB_Customer_ID__c",
                       json={"allOrNone": False, "records": records}).json()
    assert [r["created"] for r in second] == [False, False, False]
    assert [r["id"] for r in second] == [r["id"] for r in first]
    ids = ",".join(r["id"] for r in first)
    fetched = api.get(f"{V}/composite/sobjects/Account", params={"ids": ids + ",001Q00000000zzzIAA",
                                                                "fields": "Name,QB_Customer_ID__c"}).json()
    assert [f["Name"] if f else None for f in fetched] == ["A0", "Renamed", "A2", None]
    deleted = api.delete(f"{V}/composite/sobjects", params={"ids": ids, "allOrNone": "false"}).json()
    assert all(r["success"] for r in deleted) and [r["id"] for r in deleted] == ids.split(",")
    assert sf_emulator.state.records("Account") == []


def test_collections_cap_is_200(api):
    records = [{"attributes": {"type": "Account"}, "Name": str(i)} for i in range(201)]
    response = api.post(f"{V}/composite/sobjects", json={"records": records})
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_composite_references_and_query_results(sf_emulator, api):
    sf_emulator.state.insert("Account", {"Name": "Existing", "QB_Customer_ID__c": "E1"})
    body = {"allOrNone": False, "compositeRequest": [
        {"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Account+WHERE+QB_Customer_ID__c='E1'",
         "referenceId": "q"},
        {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "contact",
         "body": {"LastName": "Ref", "AccountId": "@{q.records[0].Id}"}},
        {"method": "GET", "url": f"{V}/sobjects/Contact/@{{contact.id}}?fields=AccountId", "referenceId": "read"},
    ]}
    response = api.post(f"{V}/composite", json=body)
    assert response.status_code == 200
    q, contact, read = response.json()["compositeResponse"]
    assert q["httpStatusCode"] == 200 and q["referenceId"] == "q"
    assert contact["httpStatusCode"] == 201 and contact["body"]["success"] is True
    assert contact["httpHeaders"]["Location"].endswith(contact["body"]["id"])
    assert read["body"]["AccountId"] == q["body"]["records"][0]["Id"]
    assert sf_emulator.state.api_calls == 1  # one composite request is one API call


def test_composite_all_or_none_rolls_back_and_halts(sf_emulator, api):
    body = {"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "good", "body": {"Name": "Good"}},
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "bad", "body": {"Bogus__c": 1}},
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "later", "body": {"Name": "Later"}},
    ]}
    results = api.post(f"{V}/composite", json=body).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [400, 400, 400]
    assert results[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert results[1]["body"][0]["errorCode"] == "INVALID_FIELD"
    assert results[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert sf_emulator.state.records("Account") == []


def test_composite_without_all_or_none_keeps_successes_and_fails_dependents(sf_emulator, api):
    body = {"compositeRequest": [
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "bad", "body": {}},
        {"method": "POST", "url": f"{V}/sobjects/Contact", "referenceId": "dependent",
         "body": {"LastName": "x", "AccountId": "@{bad.id}"}},
        {"method": "POST", "url": f"{V}/sobjects/Account", "referenceId": "fine", "body": {"Name": "Fine"}},
    ]}
    results = api.post(f"{V}/composite", json=body).json()["compositeResponse"]
    assert [r["httpStatusCode"] for r in results] == [400, 400, 201]
    assert results[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert [a["Name"] for a in sf_emulator.state.records("Account")] == ["Fine"]


def test_composite_limits(api):
    many = {"compositeRequest": [{"method": "GET", "url": f"{V}/limits", "referenceId": f"r{i}"} for i in range(26)]}
    assert api.post(f"{V}/composite", json=many).json()[0]["errorCode"] == "LIMIT_EXCEEDED"
    # at most 5 of them may be sObject Collections or queries (Salesforce's composite page, cited in rest.py)
    queries = [{"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Account", "referenceId": f"q{i}"}
               for i in range(5)]
    limits = [{"method": "GET", "url": f"{V}/limits", "referenceId": f"l{i}"} for i in range(15)]
    five = api.post(f"{V}/composite", json={"compositeRequest": [*queries, *limits]})
    assert five.status_code == 200 and len(five.json()["compositeResponse"]) == 20
    collection = {"method": "PATCH", "url": f"{V}/composite/sobjects", "referenceId": "c0",
                  "body": {"allOrNone": False, "records": []}}
    refused = api.post(f"{V}/composite", json={"compositeRequest": [*queries, collection]}).json()
    assert refused[0]["errorCode"] == "LIMIT_EXCEEDED" and "5 sObject Collections or query" in refused[0]["message"]


def test_updated_and_deleted_windows(sf_emulator, api):
    from datetime import UTC, datetime, timedelta

    state = sf_emulator.state
    base = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    now = {"t": base}
    state.clock = lambda: now["t"]
    kept = state.insert("Account", {"Name": "Kept"})
    now["t"] = base + timedelta(minutes=5)
    gone = state.insert("Account", {"Name": "Gone"})
    now["t"] = base + timedelta(minutes=10)
    state.delete("Account", gone)
    now["t"] = base + timedelta(hours=1)
    window = {"start": "2026-11-24T11:59:00+00:00", "end": "2026-11-24T12:30:00+00:00"}
    updated = api.get(f"{V}/sobjects/Account/updated/", params=window).json()
    assert updated == {"ids": [kept], "latestDateCovered": "2026-11-24T12:30:00.000+0000"}
    deleted = api.get(f"{V}/sobjects/Account/deleted/", params=window).json()
    assert deleted["deletedRecords"] == [{"id": gone, "deletedDate": "2026-11-24T12:10:00.000+0000"}]
    assert {"earliestDateAvailable", "latestDateCovered"} <= set(deleted)
    too_old = api.get(f"{V}/sobjects/Account/updated/", params={"start": "2026-09-01T00:00:00Z",
                                                                "end": "2026-11-24T12:30:00Z"})
    assert too_old.status_code == 400 and too_old.json()[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_injected_faults_are_reproducible(sf_emulator, api):
    state = sf_emulator.state
    state.inject_faults(0.5, seed=7)
    codes = [api.post(f"{V}/sobjects/Account", json={"Name": str(i)}).status_code for i in range(40)]
    state.inject_faults(0.5, seed=7)
    again = [api.post(f"{V}/sobjects/Account", json={"Name": str(i)}).status_code for i in range(40)]
    assert codes == again
    assert {400, 503, 403} <= set(codes) and 201 in codes
    assert state.faults.injected == codes.count(400) + codes.count(503) + codes.count(403)
    logged = list(state.request_log)[-40:]
    assert [entry["status"] for entry in logged] == again
    assert {entry.get("fault") for entry in logged} >= {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", None}
    state.inject_faults(1.0, kinds=("UNABLE_TO_LOCK_ROW",))
    locked = api.patch(f"{V}/sobjects/Account/001Q00000000001IAA", json={"Name": "x"})
    assert locked.status_code == 400 and locked.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert api.get(f"{V}/limits").status_code == 200  # lock errors only hit writes


def test_latency_knob_delays_each_call(sf_emulator, api):
    import time

    sf_emulator.state.latency = 0.05
    started = time.perf_counter()
    for _ in range(3):
        api.get(f"{V}/limits")
    assert time.perf_counter() - started >= 0.15


def test_collections_upsert_flags_repeated_external_ids(sf_emulator, api):
    records = [{"attributes": {"type": "Account"}, "Name": "One", "QB_Customer_ID__c": "DUP"},
               {"attributes": {"type": "Account"}, "Name": "Two", "QB_Customer_ID__c": "dup"},
               {"attributes": {"type": "Account"}, "Name": "Three", "QB_Customer_ID__c": "OK"}]
    results = api.patch(f"{V}/composite/sobjects/Account/QB_Customer_ID__c",
                        json={"allOrNone": False, "records": records}).json()
    assert [r["success"] for r in results] == [False, False, True]
    assert results[0]["errors"][0] == {"statusCode": "DUPLICATE_VALUE", "message": "Duplicate external id "
                                       "specified: DUP", "fields": ["QB_Customer_ID__c"]}
    assert results[1]["errors"][0]["message"] == "Duplicate external id specified: dup"
    assert [a["Name"] for a in sf_emulator.state.records("Account")] == ["Three"]


def test_lock_faults_on_collections_fail_one_record_not_the_call(sf_emulator, api):
    state = sf_emulator.state
    state.inject_faults(1.0, kinds=("UNABLE_TO_LOCK_ROW",), seed=3)
    records = [{"attributes": {"type": "Account"}, "Name": f"L{i}"} for i in range(5)]
    response = api.post(f"{V}/composite/sobjects", json={"allOrNone": False, "records": records})
    assert response.status_code == 200
    results = response.json()
    failures = [r for r in results if not r["success"]]
    assert len(failures) == 1 and failures[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert len(state.records("Account")) == 4
    single = api.post(f"{V}/sobjects/Account", json={"Name": "single"})
    assert single.status_code == 400 and single.json()[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
