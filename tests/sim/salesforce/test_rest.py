"""The data API over real HTTP: shapes of successes and errors as Salesforce documents them."""

import httpx
import pytest

V = "/services/data/v62.0"


@pytest.fixture
def api(sf_emulator):
    with sf_emulator.client() as client:
        yield client


def test_versions_and_resources(sf_emulator, api):
    versions = httpx.get(f"{sf_emulator.url}/services/data/").json()
    assert versions[0] == {"label": "Summer '14", "url": "/services/data/v31.0", "version": "31.0"}
    assert {"label": "Winter '25", "url": "/services/data/v62.0", "version": "62.0"} in versions
    resources = api.get(f"{V}/").json()
    assert resources["query"] == f"{V}/query" and resources["sobjects"] == f"{V}/sobjects"
    assert api.get("/services/data/v12.0/").status_code == 404


def test_create_read_update_delete(sf_emulator, api):
    created = api.post(f"{V}/sobjects/Account", json={"Name": "Acme", "BillingCity": "Paris"})
    assert created.status_code == 201
    body = created.json()
    assert body["success"] is True and body["errors"] == [] and body["id"].startswith("001")
    account_id = body["id"]
    record = api.get(f"{V}/sobjects/Account/{account_id[:15]}").json()
    assert record["attributes"] == {"type": "Account", "url": f"{V}/sobjects/Account/{account_id}"}
    assert record["Name"] == "Acme" and record["IsDeleted"] is False
    assert record["CreatedDate"].endswith("+0000") and len(record["CreatedDate"]) == 28
    assert record["OwnerId"] == sf_emulator.state.user_id
    picked = api.get(f"{V}/sobjects/Account/{account_id}", params={"fields": "Name,BillingCity"}).json()
    assert set(picked) == {"attributes", "Name", "BillingCity"}
    assert api.patch(f"{V}/sobjects/Account/{account_id}", json={"BillingCity": "Lyon"}).status_code == 204
    assert sf_emulator.state.get("Account", account_id)["BillingCity"] == "Lyon"
    assert api.delete(f"{V}/sobjects/Account/{account_id}").status_code == 204
    gone = api.get(f"{V}/sobjects/Account/{account_id}")
    assert gone.status_code == 404 and gone.json() == [{"message": "The requested resource does not exist",
                                                        "errorCode": "NOT_FOUND"}]
    again = api.patch(f"{V}/sobjects/Account/{account_id}", json={"Name": "x"})
    assert again.status_code == 404 and again.json() == [{"message": "entity is deleted", "errorCode":
                                                          "ENTITY_IS_DELETED", "fields": []}]
    twice = api.delete(f"{V}/sobjects/Account/{account_id}")
    assert twice.status_code == 404 and twice.json()[0]["errorCode"] == "ENTITY_IS_DELETED"


@pytest.mark.parametrize("body, code, fields", [
    ({"BillingCity": "Paris"}, "REQUIRED_FIELD_MISSING", ["Name"]),
    ({"Name": "x" * 256}, "STRING_TOO_LONG", ["Name"]),
    ({"Name": "a", "Bogus__c": 1}, "INVALID_FIELD", None),
    ({"Name": "a", "ParentId": "garbage"}, "MALFORMED_ID", ["ParentId"]),
    ({"Name": "a", "ParentId": "001Q00000000zzzIAA"}, "INVALID_CROSS_REFERENCE_KEY", ["ParentId"]),
    ({"Name": "a", "ParentId": "003Q00000000001IAA"}, "FIELD_INTEGRITY_EXCEPTION", ["ParentId"]),
    ({"Name": "a", "CreatedDate": "2020-01-01T00:00:00Z"}, "INVALID_FIELD_FOR_INSERT_UPDATE", ["CreatedDate"]),
    ({"Name": "a", "NumberOfEmployees": "many"}, "JSON_PARSER_ERROR", None),  # names no field, as Salesforce's
])
def test_create_errors_have_salesforce_codes(api, body, code, fields):
    response = api.post(f"{V}/sobjects/Account", json=body)
    assert response.status_code == 400
    [error] = response.json()
    assert error["errorCode"] == code and error["message"]
    if fields is not None:
        assert error["fields"] == fields


def test_duplicate_external_id_is_duplicate_value(api):
    assert api.post(f"{V}/sobjects/Account", json={"Name": "a", "QB_Customer_ID__c": "X1"}).status_code == 201
    clash = api.post(f"{V}/sobjects/Account", json={"Name": "b", "QB_Customer_ID__c": "x1"})
    assert clash.status_code == 400 and clash.json()[0]["errorCode"] == "DUPLICATE_VALUE"


def test_unknown_object_and_bad_ids(api):
    assert api.get(f"{V}/sobjects/Nope__c/describe").json()[0]["errorCode"] == "NOT_FOUND"
    assert api.get(f"{V}/sobjects/Account/003Q00000000001IAA").json()[0]["errorCode"] == "MALFORMED_ID"


def test_unauthenticated_and_expired_sessions_get_401(sf_emulator, api):
    anonymous = httpx.get(f"{sf_emulator.data_url}/limits")
    assert anonymous.status_code == 401
    assert anonymous.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert api.get(f"{V}/limits").status_code == 200
    sf_emulator.state.expire_tokens()
    assert api.get(f"{V}/limits").status_code == 401


def test_token_lifetime_expires_sessions(sf_emulator, api):
    sf_emulator.state.token_lifetime = 0
    sf_emulator.state.clock = lambda real=sf_emulator.state.clock: real().replace(year=2099)
    assert api.get(f"{V}/limits").json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_query_pages_with_next_records_url(sf_emulator, api):
    state = sf_emulator.state
    for i in range(450):
        state.insert("Account", {"Name": f"Acct {i:04d}"})
    headers = {"Sforce-Query-Options": "batchSize=200"}
    first = api.get(f"{V}/query", params={"q": "SELECT Id, Name FROM Account ORDER BY Name"}, headers=headers).json()
    assert first["totalSize"] == 450 and first["done"] is False and len(first["records"]) == 200
    names = [r["Name"] for r in first["records"]]
    page = first
    while not page["done"]:
        page = api.get(page["nextRecordsUrl"], headers=headers).json()
        names += [r["Name"] for r in page["records"]]
    assert names == [f"Acct {i:04d}" for i in range(450)]
    assert "nextRecordsUrl" not in page
    assert api.get(f"{V}/query/01gQ0000000000zIAA-200").json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_default_page_is_2000(sf_emulator, api):
    state = sf_emulator.state
    with state.batch():
        for i in range(2001):
            state.insert("Contact", {"LastName": f"C{i}"})
    first = api.get(f"{V}/query", params={"q": "SELECT Id FROM Contact"}).json()
    assert len(first["records"]) == 2000 and first["nextRecordsUrl"].startswith(f"{V}/query/01g")


def test_query_all_sees_deleted_rows(sf_emulator, api):
    record_id = sf_emulator.state.insert("Account", {"Name": "Gone"})
    sf_emulator.state.delete("Account", record_id)
    q = {"q": "SELECT Id, IsDeleted FROM Account"}
    assert api.get(f"{V}/query", params=q).json()["totalSize"] == 0
    rows = api.get(f"{V}/queryAll", params=q).json()["records"]
    assert rows == [{"attributes": {"type": "Account", "url": f"{V}/sobjects/Account/{record_id}"},
                     "Id": record_id, "IsDeleted": True}]


def test_malformed_query_over_http(api):
    response = api.get(f"{V}/query", params={"q": "SELEKT Id FROM Account"})
    assert response.status_code == 400 and response.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_every_response_carries_limit_info_and_limits_agrees(sf_emulator, api):
    api.get(f"{V}/limits")
    response = api.get(f"{V}/limits")
    assert response.headers["Sforce-Limit-Info"] == "api-usage=2/15000"
    assert response.json()["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - 2}
    assert sf_emulator.state.api_calls == 2


def test_daily_allocation_exhausted_is_403(sf_emulator, api):
    sf_emulator.state.daily_api_limit = 3
    codes = [api.get(f"{V}/limits").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 403]
    assert api.get(f"{V}/limits").json() == [{"message": "TotalRequests Limit exceeded.",
                                              "errorCode": "REQUEST_LIMIT_EXCEEDED"}]


def test_describe_global_and_object(api):
    described = api.get(f"{V}/sobjects").json()
    names = {o["name"] for o in described["sobjects"]}
    assert {"Account", "Product2", "OpportunityLineItem", "QBSync_Queue__c", "QB_Invoice__c"} <= names
    account = api.get(f"{V}/sobjects/Account/describe").json()
    fields = {f["name"]: f for f in account["fields"]}
    assert fields["QB_Customer_ID__c"]["externalId"] is True and fields["QB_Customer_ID__c"]["custom"] is True
    assert fields["Name"]["nillable"] is False
    assert {"childSObject": "Contact", "field": "AccountId", "relationshipName": "Contacts"}.items() <= next(
        c for c in account["childRelationships"] if c["relationshipName"] == "Contacts").items()


def test_later_pages_keep_the_batch_size_and_idle_cursors_expire(sf_emulator, api):
    from datetime import UTC, datetime, timedelta

    state = sf_emulator.state
    for i in range(500):
        state.insert("Account", {"Name": f"A{i}"})
    first = api.get(f"{V}/query", params={"q": "SELECT Id FROM Account"},
                    headers={"Sforce-Query-Options": "batchSize=200"}).json()
    second = api.get(first["nextRecordsUrl"]).json()  # no header this time
    assert len(second["records"]) == 200 and second["nextRecordsUrl"].endswith("-400")
    later = datetime.now(UTC) + timedelta(minutes=16)
    state.clock = lambda: later
    expired = api.get(second["nextRecordsUrl"])
    assert expired.status_code == 400 and expired.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_the_daily_allocation_renews_after_24_hours(sf_emulator, api):
    from datetime import UTC, datetime, timedelta

    state = sf_emulator.state
    state.daily_api_limit = 2
    assert [api.get(f"{V}/limits").status_code for _ in range(3)] == [200, 200, 403]
    tomorrow = datetime.now(UTC) + timedelta(hours=24, minutes=1)
    state.clock = lambda: tomorrow
    renewed = api.get(f"{V}/limits")
    assert renewed.status_code == 200 and renewed.headers["Sforce-Limit-Info"] == "api-usage=1/2"


def test_sobject_basic_info_retrieve_by_body_and_wrong_methods(sf_emulator, api):
    info = api.get(f"{V}/sobjects/Product2").json()
    assert info["objectDescribe"]["keyPrefix"] == "01t" and info["recentItems"] == []
    record_id = sf_emulator.state.insert("Account", {"Name": "Body"})
    fetched = api.post(f"{V}/composite/sobjects/Account", json={"ids": [record_id], "fields": ["Name"]}).json()
    assert fetched == [{"attributes": {"type": "Account", "url": f"{V}/sobjects/Account/{record_id}"},
                        "Name": "Body"}]
    wrong = api.put(f"{V}/sobjects/Account/{record_id}", json={"Name": "x"})
    assert wrong.status_code == 405 and wrong.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    assert api.post(f"{V}/limits").status_code == 405
    missing = api.get(f"{V}/composite/sobjects/Account", params={"ids": record_id})
    assert missing.status_code == 400 and missing.json()[0]["errorCode"] == "MISSING_ARGUMENT"
    bad_json = api.post(f"{V}/sobjects/Account", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
