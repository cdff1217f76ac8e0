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
