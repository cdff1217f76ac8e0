"""Errors in Salesforce's own words, compared with its documentation and responses recorded from real orgs."""

import httpx
import pytest

V = "/services/data/v62.0"


@pytest.fixture
def api(sf_emulator):
    with sf_emulator.client() as client:
        yield client


def _post_raw(api, path: str, text: str) -> httpx.Response:
    return api.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("text, message", [
    ('{"Name": "a", "NumberOfEmployees": "many"}',
     "Cannot deserialize instance of int from VALUE_STRING value many or request may be missing a required field "
     "at [line:1, column:42]"),
    ('{"Name": "a",\n "AnnualRevenue": true}',
     "Cannot deserialize instance of currency from VALUE_TRUE value true or request may be missing a required field "
     "at [line:2, column:23]"),
    ('{"Name": "a", "NumberOfEmployees": 2.5}',
     "Cannot deserialize instance of int from VALUE_NUMBER_FLOAT value 2.5 or request may be missing a required "
     "field at [line:1, column:39]"),
    ('{"Name": ["a"]}',
     "Cannot deserialize instance of string from START_ARRAY value [ or request may be missing a required field "
     "at [line:1, column:11]"),
])
def test_type_errors_use_the_json_parsers_words_and_place(api, text, message):
    answer = _post_raw(api, f"{V}/sobjects/Account", text)
    assert answer.status_code == 400
    assert answer.json() == [{"message": message, "errorCode": "JSON_PARSER_ERROR"}]
    assert "str value" not in answer.text and "'many'" not in answer.text  # no Python wording


@pytest.mark.parametrize("value", ["2026-01-05 10:00:00", "2026-01-05 10:00:00Z", "05/01/2026 10:00", "2026-01-05"])
def test_a_datetime_needs_the_T(api, value):
    contact = api.post(f"{V}/sobjects/Contact", json={"LastName": "Doe"}).json()["id"]
    answer = api.patch(f"{V}/sobjects/Contact/{contact}", json={"EmailBouncedDate": value})
    assert answer.status_code == 400 and answer.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    assert answer.json()[0]["message"].startswith(f"Cannot deserialize instance of datetime from VALUE_STRING "
                                                  f"value {value} or request may be missing a required field at ")


@pytest.mark.parametrize("value, stored", [("2026-01-05T10:00:00Z", "2026-01-05T10:00:00.000+0000"),
                                           ("2026-01-05T10:00:00.250+0100", "2026-01-05T09:00:00.250+0000"),
                                           ("2026-01-05T10:00:00-05:00", "2026-01-05T15:00:00.000+0000")])
def test_datetimes_in_xsd_form_are_accepted(api, sf_emulator, value, stored):
    contact = api.post(f"{V}/sobjects/Contact", json={"LastName": "Doe", "EmailBouncedDate": value}).json()["id"]
    assert sf_emulator.state.get("Contact", contact)["EmailBouncedDate"] == stored


def test_malformed_json_is_reported_as_salesforces_parser_does(api):
    answer = _post_raw(api, f"{V}/sobjects/Account", '{"Name": "a",}')
    assert answer.status_code == 400
    assert answer.json() == [{"message": "Unexpected character ('}' (code 125)): was expecting double-quote to start "
                                         "field name at [line:1, column:14]", "errorCode": "JSON_PARSER_ERROR"}]


def test_updating_or_deleting_a_deleted_record_is_404_entity_is_deleted(api):
    record = api.post(f"{V}/sobjects/Account", json={"Name": "Gone"}).json()["id"]
    assert api.delete(f"{V}/sobjects/Account/{record}").status_code == 204
    for answer in (api.patch(f"{V}/sobjects/Account/{record}", json={"Name": "Back"}),
                   api.delete(f"{V}/sobjects/Account/{record}")):
        assert answer.status_code == 404
        assert answer.json() == [{"message": "entity is deleted", "errorCode": "ENTITY_IS_DELETED", "fields": []}]


@pytest.mark.parametrize("soql, code, expected", [
    ("SELECT Nme FROM Account", "INVALID_FIELD",
     "\nSELECT Nme FROM Account\n       ^\nERROR at Row:1:Column:8\nNo such column 'Nme' on entity 'Account'. If you "
     "are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference "
     "your WSDL or the describe call for the appropriate names."),
    ("SELECT Id FROM Nope__c", "INVALID_TYPE",
     "\nSELECT Id FROM Nope__c\n               ^\nERROR at Row:1:Column:16\nsObject type 'Nope__c' is not supported. "
     "If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please "
     "reference your WSDL or the describe call for the appropriate names."),
    ("SELECT Id FROM Account WHERE Name = 'x' ORDER", "MALFORMED_QUERY",
     "\nAccount WHERE Name = 'x' ORDER\n                              ^\nERROR at Row:1:Column:46\n"
     "expecting 'BY', found '<EOF>'"),
    ("SELECT Id,\n  Name, Account.Nope\nFROM Contact", "INVALID_FIELD",
     "\n  Name, Account.Nope\n        ^\nERROR at Row:2:Column:9\nNo such column 'Nope' on entity 'Account'. If you "
     "are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference "
     "your WSDL or the describe call for the appropriate names."),
    ("SELECT Id FROM Account WHERE AnnualRevenue = 'big'", "INVALID_QUERY_FILTER_OPERATOR",
     "\nSELECT Id FROM Account WHERE AnnualRevenue = 'big'\n                             ^\nERROR at Row:1:Column:30\n"
     "value of filter criterion for field 'AnnualRevenue' must be of type currency and should not be enclosed in "
     "quotes"),
])
def test_soql_errors_echo_the_query_with_row_and_column(api, soql, code, expected):
    answer = api.get(f"{V}/query", params={"q": soql})
    assert answer.status_code == 400
    assert answer.json() == [{"message": expected, "errorCode": code}]
