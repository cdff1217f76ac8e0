"""Field values as Salesforce stores them, and SOQL string literals that round-trip any text."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qbsf.sim.salesforce import ApiError
from qbsf.sim.salesforce.soql import Engine, parse

DESCRIBE = Path(__file__).resolve().parents[3].parent / "shared" / "salesforce" / "describe"


def soql_quote(text: str) -> str:
    """Escape as Salesforce documents for SOQL string literals."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n").replace("\r", "\\r") \
        .replace("\t", "\\t").replace('"', '\\"')
    return f"'{escaped}'"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t'\\\"%_"),
               min_size=1, max_size=40).filter(lambda s: s.strip()))
def test_any_escaped_string_matches_exactly_its_record(sf_state, name):
    record_id = sf_state.insert("Account", {"Name": name})
    try:
        result = Engine(sf_state, "62.0").run(parse(f"SELECT Id FROM Account WHERE Name = {soql_quote(name)}"))
        assert [r["Id"] for r in result["records"]] == [record_id]
    finally:
        sf_state.delete("Account", record_id)


def test_values_are_normalised_on_write(sf_state):
    opportunity = sf_state.insert("Opportunity", {"Name": "Deal", "StageName": "Closed Won",
                                                  "CloseDate": "2026-12-01T10:00:00Z", "Amount": "12.5",
                                                  "IsPrivate": "true"})
    stored = sf_state.get("Opportunity", opportunity)
    assert stored["CloseDate"] == "2026-12-01" and stored["Amount"] == 12.5 and stored["IsPrivate"] is True
    assert stored["IsWon"] is True and stored["IsClosed"] is True
    contact = sf_state.insert("Contact", {"LastName": "Smith", "FirstName": "Ann", "Email": "",
                                          "EmailBouncedDate": "2026-11-24T20:00:00+02:00"})
    stored = sf_state.get("Contact", contact)
    assert stored["Name"] == "Ann Smith" and stored["Email"] is None
    assert stored["EmailBouncedDate"] == "2026-11-24T18:00:00.000+0000"


@pytest.mark.parametrize("values, field", [
    ({"Name": "x", "StageName": "s", "CloseDate": "tomorrow"}, "CloseDate"),
    ({"Name": "x", "StageName": "s", "CloseDate": "2026-01-01", "Amount": True}, "Amount"),
    ({"Name": "x", "StageName": "s", "CloseDate": "2026-01-01", "IsPrivate": "maybe"}, "IsPrivate"),
])
def test_wrong_types_are_json_parser_errors_naming_the_field(sf_state, values, field):
    with pytest.raises(ApiError) as caught:
        sf_state.insert("Opportunity", values)
    assert caught.value.error_code == "JSON_PARSER_ERROR" and caught.value.fields == [field]


def test_describe_shapes_use_salesforce_keys(sf_emulator):
    with sf_emulator.client() as api:
        ours_global = api.get("/services/data/v62.0/sobjects").json()
        ours_account = api.get("/services/data/v62.0/sobjects/Account/describe").json()
    assert ours_global["maxBatchSize"] == 200 and ours_account["name"] == "Account"
    if not DESCRIBE.is_dir():
        return  # the recorded describe results live beside the checkout (CI)
    real_global = json.loads((DESCRIBE / "Global.json").read_text())
    real_account = json.loads((DESCRIBE / "Account.json").read_text())
    assert set(ours_global) == set(real_global)
    assert set(ours_global["sobjects"][0]) <= set(real_global["sobjects"][0])
    assert set(ours_account) - {"fields", "childRelationships", "recordTypeInfos"} <= set(real_account)
    assert set(ours_account["fields"][0]) <= set(real_account["fields"][0])
    assert set(ours_account["childRelationships"][0]) <= set(real_account["childRelationships"][0])
