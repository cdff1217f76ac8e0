"""The one errorCode table: every code lands in the right class with what to do."""

from __future__ import annotations

import pytest

from qbsf.errors import AfterDependency, NeedsUser, Retriable, Skippable
from qbsf.salesforce.errors import (
    ERROR_TABLE,
    EXTERNAL_ID_IN_BODY_HINT,
    ApiLimitExceeded,
    AuthError,
    classify,
    from_error_item,
    from_response_body,
)


@pytest.mark.parametrize(("code", "kind"), [
    ("UNABLE_TO_LOCK_ROW", Retriable), ("SERVER_UNAVAILABLE", Retriable), ("REQUEST_LIMIT_EXCEEDED", NeedsUser),
    ("ENTITY_IS_DELETED", Skippable), ("NOT_FOUND", Skippable), ("INVALID_CROSS_REFERENCE_KEY", AfterDependency),
    ("DUPLICATE_VALUE", NeedsUser), ("STRING_TOO_LONG", NeedsUser), ("REQUIRED_FIELD_MISSING", NeedsUser),
    ("INVALID_FIELD", NeedsUser), ("MALFORMED_ID", NeedsUser),
])
def test_codes_classified(code: str, kind: type) -> None:
    error = classify(code, "msg", ["Name"], status=400, sobject="Account")
    assert isinstance(error, kind)
    assert error.error_code == code and error.fields == ["Name"] and error.hint
    assert str(error).startswith(f"Salesforce {code} on Account: msg (fields: Name) → ")


def test_every_rule_has_a_todo() -> None:
    assert all(rule.todo and not rule.todo.endswith(".") for rule in ERROR_TABLE.values())


def test_limit_and_unknown_codes() -> None:
    assert isinstance(classify("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), ApiLimitExceeded)
    assert isinstance(classify("SOMETHING_NEW", "x", status=503), Retriable)
    unknown = classify("SOMETHING_NEW", "x", status=400)
    assert isinstance(unknown, NeedsUser) and "SOMETHING_NEW" in unknown.hint


def test_manual_external_id_in_body_case() -> None:
    error = classify("INVALID_FIELD", "Foreign key external ID: QB_Customer_ID__c not allowed in body")
    assert error.hint == EXTERNAL_ID_IN_BODY_HINT


def test_response_shapes() -> None:
    rest = from_response_body([{"message": "gone", "errorCode": "ENTITY_IS_DELETED", "fields": []}], 404)
    assert isinstance(rest, Skippable) and rest.status == 404
    item = from_error_item({"statusCode": "DUPLICATE_VALUE", "message": "dup", "fields": ["QB_Customer_ID__c"]})
    assert item.error_code == "DUPLICATE_VALUE" and item.fields == ["QB_Customer_ID__c"]
    oauth = from_response_body({"error": "invalid_grant", "error_description": "authentication failure"}, 400)
    assert isinstance(oauth, AuthError) and "qbsf salesforce connect" in oauth.hint
    html = from_response_body("<html>Bad gateway</html>", 502)
    assert isinstance(html, Retriable) and html.error_code == "HTTP_502"


def test_one_external_id_twice_in_a_request_is_retried_and_a_taken_unique_value_needs_a_person() -> None:
    # What real orgs answer for the same external id twice in one upsert request: DUPLICATE_VALUE, one per record.
    twice = from_error_item({"statusCode": "DUPLICATE_VALUE", "message": "Duplicate external id specified: 8000-1",
                             "fields": ["QB_Customer_ID__c"]}, sobject="Account")
    assert isinstance(twice, Retriable) and not isinstance(twice, NeedsUser)
    assert "request of its own" in twice.hint and twice.fields == ["QB_Customer_ID__c"]
    taken = classify("DUPLICATE_VALUE", "duplicate value found: QB_Customer_ID__c duplicates value on record with "
                                        "id: 001Q00000000001IAA")
    assert isinstance(taken, NeedsUser) and "merge" in taken.hint
    several = classify("DUPLICATE_EXTERNAL_ID", "2 records match for this external id: 001…, 001…")
    assert isinstance(several, NeedsUser) and "merge them in Salesforce" in several.hint
