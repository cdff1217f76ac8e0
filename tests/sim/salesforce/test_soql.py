"""SOQL: the parser's grammar and errors, and the engine's results over a seeded org."""

from datetime import date

import pytest

from qbsf.sim.salesforce.soql import BoolOp, Condition, Engine, Not, parse
from qbsf.sim.salesforce.values import ApiError


def run(state, text):
    return Engine(state, "62.0").run(parse(text, date(2026, 11, 24)))


@pytest.fixture
def org(sf_state):
    acme = sf_state.insert("Account", {"Name": "Acme", "BillingCity": "Paris", "AnnualRevenue": 500,
                                       "QB_Customer_ID__c": "8000-1"})
    globex = sf_state.insert("Account", {"Name": "Globex", "BillingCity": "Berlin", "AnnualRevenue": 100})
    sf_state.insert("Account", {"Name": "O'Brien & Sons", "AnnualRevenue": None})
    sf_state.insert("Contact", {"LastName": "Smith", "FirstName": "Ann", "AccountId": acme})
    sf_state.insert("Contact", {"LastName": "Jones", "AccountId": acme})
    sf_state.insert("Contact", {"LastName": "Orphan"})
    return {"acme": acme, "globex": globex, "state": sf_state}


def test_parser_builds_boolean_trees_with_precedence():
    query = parse("SELECT Id FROM Account WHERE NOT Name = 'a' OR (BillingCity IN ('x','y') AND Rating != null)")
    assert isinstance(query.where, BoolOp) and query.where.op == "OR"
    assert isinstance(query.where.items[0], Not)
    inner = query.where.items[1]
    assert inner.op == "AND" and isinstance(inner.items[0], Condition) and inner.items[0].op == "IN"


@pytest.mark.parametrize("text, fragment", [
    ("SELECT FROM Account", "unexpected token"),
    ("SELECT Id FROM Account WHERE", "expecting a field name"),
    ("SELECT Id FROM Account WHERE Name = 'unterminated", "unterminated string"),
    ("SELECT Id FROM Account LIMIT -1", "non-negative integer"),
    ("SELECT Id FROM Account HAVING COUNT(Id) > 1", "unexpected token"),
    ("SELECT Id, FROM Account", "unexpected token"),
    ("SELECT Id FROM Account WHERE Name = 'a' AND", "expecting a field name"),
    ("SELECT Id FROM Account WHERE Id IN (SELECT AccountId, Id FROM Contact)", "semi-join"),
    ("SELECT Id FROM Account WHERE Name = 'bad \\q escape'", "Illegal character sequence"),
    ("", "empty"),
])
def test_bad_soql_is_malformed_query_with_a_message(text, fragment):
    with pytest.raises(ApiError) as caught:
        parse(text)
    assert caught.value.error_code == "MALFORMED_QUERY"
    assert fragment in caught.value.message


def test_escaped_quote_stays_data(org):
    result = run(org["state"], "SELECT Name FROM Account WHERE Name = 'O\\'Brien & Sons'")
    assert [r["Name"] for r in result["records"]] == ["O'Brien & Sons"]
    injected = run(org["state"], "SELECT Name FROM Account WHERE Name = '\\' OR Name != \\''")
    assert injected["totalSize"] == 0


def test_where_order_limit_offset_and_like(org):
    result = run(org["state"], "SELECT Name FROM Account WHERE AnnualRevenue > 50 OR Name LIKE 'o\\'%' "
                               "ORDER BY Name DESC LIMIT 2 OFFSET 1")
    assert [r["Name"] for r in result["records"]] == ["Globex", "Acme"]
    nulls = run(org["state"], "SELECT Name FROM Account ORDER BY AnnualRevenue ASC NULLS LAST")
    assert [r["Name"] for r in nulls["records"]] == ["Globex", "Acme", "O'Brien & Sons"]
    case_insensitive = run(org["state"], "SELECT Id FROM Account WHERE name = 'ACME' AND BillingCity NOT IN ('x')")
    assert case_insensitive["totalSize"] == 1


def test_count_and_null_filters(org):
    assert run(org["state"], "SELECT COUNT() FROM Contact WHERE AccountId != null") == {
        "totalSize": 2, "done": True, "records": []}
    assert run(org["state"], "SELECT COUNT() FROM Contact WHERE AccountId = null")["totalSize"] == 1


def test_parent_fields_nest_with_attributes_and_null_parents(org):
    result = run(org["state"], "SELECT LastName, Account.Name, Account.QB_Customer_ID__c FROM Contact "
                               "ORDER BY LastName")
    jones, orphan, smith = result["records"]
    assert jones["Account"]["Name"] == "Acme" and jones["Account"]["QB_Customer_ID__c"] == "8000-1"
    assert jones["Account"]["attributes"] == {"type": "Account",
                                              "url": f"/services/data/v62.0/sobjects/Account/{org['acme']}"}
    assert orphan["Account"] is None
    assert smith["attributes"]["type"] == "Contact"
    filtered = run(org["state"], "SELECT LastName FROM Contact WHERE Account.BillingCity = 'Paris'")
    assert {r["LastName"] for r in filtered["records"]} == {"Smith", "Jones"}


def test_child_subquery_records_or_null(org):
    result = run(org["state"], "SELECT Name, (SELECT LastName FROM Contacts ORDER BY LastName) FROM Account "
                               f"WHERE Id IN ('{org['acme']}', '{org['globex'][:15]}') ORDER BY Name")
    acme, globex = result["records"]
    assert acme["Contacts"]["totalSize"] == 2 and acme["Contacts"]["done"] is True
    assert [c["LastName"] for c in acme["Contacts"]["records"]] == ["Jones", "Smith"]
    assert globex["Contacts"] is None


def test_datetime_and_date_literals(org):
    state = org["state"]
    state.insert("Opportunity", {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-11-20"})
    assert run(state, "SELECT Id FROM Opportunity WHERE CloseDate = LAST_N_DAYS:7")["totalSize"] == 1
    assert run(state, "SELECT Id FROM Opportunity WHERE CloseDate > 2026-11-21")["totalSize"] == 0
    assert run(state, "SELECT Id FROM Account WHERE SystemModstamp >= 2020-01-01T00:00:00Z")["totalSize"] == 3
    with pytest.raises(ApiError) as caught:
        run(state, "SELECT Id FROM Account WHERE SystemModstamp > '2020-01-01'")
    assert caught.value.error_code == "INVALID_QUERY_FILTER_OPERATOR"


@pytest.mark.parametrize("text, code", [
    ("SELECT Nope FROM Account", "INVALID_FIELD"),
    ("SELECT Id FROM Nope__c", "INVALID_TYPE"),
    ("SELECT Id, Parent.Nope FROM Account", "INVALID_FIELD"),
    ("SELECT Id, Bogus.Name FROM Contact", "INVALID_FIELD"),
    ("SELECT Id, (SELECT Id FROM Nothings) FROM Account", "INVALID_TYPE"),
    ("SELECT Id FROM Account WHERE Name = 5", "INVALID_QUERY_FILTER_OPERATOR"),
])
def test_unknown_names_are_reported_with_salesforce_codes(org, text, code):
    with pytest.raises(ApiError) as caught:
        run(org["state"], text)
    assert caught.value.error_code == code


def test_fields_function(org):
    state = org["state"]
    custom = run(state, "SELECT FIELDS(CUSTOM) FROM Account WHERE Name = 'Acme' LIMIT 1")["records"][0]
    assert set(custom) == {"attributes", "QB_Customer_ID__c"} and custom["QB_Customer_ID__c"] == "8000-1"
    standard = run(state, "SELECT Id, FIELDS(STANDARD) FROM Account WHERE Name = 'Acme'")["records"][0]
    assert standard["BillingCity"] == "Paris" and "QB_Customer_ID__c" not in standard
    with pytest.raises(ApiError) as caught:
        run(state, "SELECT FIELDS(ALL) FROM Account")
    assert caught.value.error_code == "MALFORMED_QUERY" and "LIMIT" in caught.value.message


def test_semi_and_anti_joins(org):
    state = org["state"]
    with_contacts = run(state, "SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact "
                               "WHERE LastName != 'Nobody') ORDER BY Name")
    assert [r["Name"] for r in with_contacts["records"]] == ["Acme"]
    without = run(state, "SELECT Name FROM Account WHERE Id NOT IN (SELECT AccountId FROM Contact) ORDER BY Name")
    assert [r["Name"] for r in without["records"]] == ["Globex", "O'Brien & Sons"]
    with pytest.raises(ApiError) as caught:
        run(state, "SELECT Id FROM Account WHERE Name IN (SELECT LastName FROM Contact)")
    assert caught.value.error_code == "INVALID_FIELD"


def test_aggregates_and_group_by(org):
    state = org["state"]
    totals = run(state, "SELECT COUNT(Id) n, SUM(AnnualRevenue) revenue, MAX(Name) FROM Account")
    assert totals == {"totalSize": 1, "done": True, "records": [
        {"attributes": {"type": "AggregateResult"}, "n": 3, "revenue": 600.0, "expr0": "O'Brien & Sons"}]}
    by_account = run(state, "SELECT AccountId, COUNT(Id) contacts FROM Contact WHERE AccountId != null "
                            "GROUP BY AccountId ORDER BY contacts DESC")
    assert by_account["records"] == [{"attributes": {"type": "AggregateResult"}, "AccountId": org["acme"],
                                      "contacts": 2}]
    with pytest.raises(ApiError) as caught:
        run(state, "SELECT Name, COUNT(Id) FROM Account")
    assert caught.value.error_code == "MALFORMED_QUERY"
    with pytest.raises(ApiError) as caught:
        run(state, "SELECT SUM(Name) FROM Account")
    assert caught.value.error_code == "INVALID_FIELD"
