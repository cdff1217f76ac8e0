"""jsforce, the most used JavaScript Salesforce client (pinned in tests/node), drives the emulator unchanged."""

from __future__ import annotations

from qbsf.sim.salesforce.ids import ORG_ID


def test_access_token_session_identity_records_upsert_query_describe_limits(jsforce, sf_emulator_tls):
    seen = jsforce("crud")
    identity = seen["identity"]  # read through the `identity` entry of GET /services/data/vXX.X/
    assert identity["organization_id"] == ORG_ID and identity["username"] == sf_emulator_tls.username
    record_id = seen["created"]["id"]
    assert seen["created"]["success"] is True and seen["retrieved"]["Name"] == "Acme Corp"
    assert seen["updated"]["success"] is True
    assert seen["upsertCreated"]["created"] is True and seen["upsertUpdated"]["created"] is False
    assert seen["upsertCreated"]["id"] == seen["upsertUpdated"]["id"]
    names = {r["Name"]: r for r in seen["query"]["records"]}
    assert names["Acme Corp"]["BillingCity"] == "Lyon" and "Globex Corp" in names
    assert seen["describe"]["name"] == "Account" and seen["limits"]["DailyApiRequests"]["Max"] == 15_000
    assert seen["destroyed"] == {"id": record_id, "success": True, "errors": []}
    assert seen["retrieveDeleted"]["errorCode"] == "NOT_FOUND"
    assert seen["updateDeleted"]["errorCode"] == "ENTITY_IS_DELETED"
    assert seen["destroyDeleted"]["errorCode"] == "ENTITY_IS_DELETED"


def test_query_more_pages_through_every_record(jsforce):
    seen = jsforce("paging")
    assert seen["created"] == 2100
    assert seen["firstPage"] == 2000 and seen["done"] is False and seen["hasNext"] is True
    assert seen["fetched"] == seen["totalSize"] == seen["distinct"] and seen["sorted"] is True


def test_soap_partner_login_gives_a_session_the_rest_api_accepts(jsforce, sf_emulator_tls):
    seen = jsforce("soap_login")
    assert seen["userInfo"]["organizationId"] == ORG_ID and seen["userInfo"]["id"] == sf_emulator_tls.state.user_id
    assert seen["instanceUrl"] == sf_emulator_tls.url
    assert seen["organization"]["records"][0]["Id"] == ORG_ID
    assert seen["badPassword"]["message"].startswith("INVALID_LOGIN: Invalid username, password")
    assert "UNSUPPORTED_API_VERSION" in seen["retiredVersion"]["message"]  # login() ends with API 64.0


def test_errors_reach_jsforce_in_salesforces_words(jsforce, sf_emulator_tls):
    seen = jsforce("errors")
    assert seen["badField"]["errorCode"] == "INVALID_FIELD"
    assert "ERROR at Row:1:Column:8" in seen["badField"]["message"]
    assert seen["badType"]["errorCode"] == "JSON_PARSER_ERROR"
    assert seen["badType"]["message"].startswith("Cannot deserialize instance of int from VALUE_STRING value many")
    assert seen["spaceDatetime"]["errorCode"] == "JSON_PARSER_ERROR"
    first, second, third = seen["upserted"]
    for twice in (first, second):
        assert twice["success"] is False
        assert twice["errors"][0]["statusCode"] == "DUPLICATE_VALUE"
        assert twice["errors"][0]["message"] == "Duplicate external id specified: J-1"
    assert third["success"] is True and third["created"] is True
    assert [a["Name"] for a in sf_emulator_tls.state.records("Account")] == ["Three"]


def test_bulk2_load_and_wait_for_results(jsforce, sf_emulator_tls):
    seen = jsforce("bulk2")
    assert sorted(r["Name"] for r in seen["successfulResults"]) == ["Bulk A", "Bulk B"]
    assert all(r["sf__Created"] == "true" for r in seen["successfulResults"])
    [failed] = seen["failedResults"]
    assert failed["sf__Error"] == "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
    assert seen["unprocessedRecords"] == []
    assert len(sf_emulator_tls.state.find("Account", "QB_Customer_ID__c", "K-2")) == 1
