"""The org's indexes (children by reference field, ids, external ids, price book entries) stay right through
re-parenting updates, deletes, rollbacks and a reload, and indexed queries answer exactly what a scan would."""

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qbsf.sim.salesforce import ApiError, SalesforceState
from qbsf.sim.salesforce.soql import Engine, parse


def run(state, text, *, include_deleted=False):
    return Engine(state, "62.0").run(parse(text, date(2026, 11, 24)), include_deleted=include_deleted)


def ids(result):
    return [r["Id"] for r in result["records"]]


def contacts_of(state, account):
    rows = run(state, f"SELECT Id, (SELECT Id FROM Contacts) FROM Account WHERE Id = '{account}'")["records"]
    return ids(rows[0]["Contacts"]) if rows and rows[0]["Contacts"] else []


def test_reparented_child_moves_between_parents(sf_state):
    first = sf_state.insert("Account", {"Name": "First"})
    second = sf_state.insert("Account", {"Name": "Second"})
    contact = sf_state.insert("Contact", {"LastName": "Moves", "AccountId": first})
    stays = sf_state.insert("Contact", {"LastName": "Stays", "AccountId": first})
    sf_state.update("Contact", contact, {"AccountId": second})
    assert contacts_of(sf_state, first) == [stays]
    assert contacts_of(sf_state, second) == [contact]
    assert ids(run(sf_state, f"SELECT Id FROM Contact WHERE AccountId = '{first}'")) == [stays]
    assert ids(run(sf_state, f"SELECT Id FROM Contact WHERE AccountId IN ('{second}')")) == [contact]
    sf_state.update("Contact", contact, {"AccountId": None})  # orphaned: under no parent
    assert contacts_of(sf_state, second) == []
    assert ids(run(sf_state, "SELECT Id FROM Contact WHERE AccountId = null")) == [contact]
    # Deleting the old parent cascades to the child still under it, not to the one that moved away.
    sf_state.delete("Account", first)
    assert sf_state.get("Contact", stays) is None and sf_state.get("Contact", contact) is not None
    assert sf_state.check_indexes() == []


def test_deleted_children_leave_subqueries_rollups_and_filters(sf_state):
    product = sf_state.insert("Product2", {"Name": "Widget", "IsActive": True})
    sf_state.insert("PricebookEntry", {"Pricebook2Id": sf_state.standard_pricebook_id, "Product2Id": product,
                                       "UnitPrice": 10, "IsActive": True})
    deal = sf_state.insert("Opportunity", {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-01"})
    lines = [sf_state.insert("OpportunityLineItem", {"OpportunityId": deal, "Product2Id": product,
                                                     "Quantity": n, "UnitPrice": 10}) for n in (1, 2, 3)]
    assert sf_state.get("Opportunity", deal)["Amount"] == 60
    sf_state.delete("OpportunityLineItem", lines[1])
    assert sf_state.get("Opportunity", deal)["Amount"] == 40  # the roll-up sums the remaining children only
    shaped = run(sf_state, "SELECT Id, (SELECT Id FROM OpportunityLineItems) FROM Opportunity")["records"][0]
    assert ids(shaped["OpportunityLineItems"]) == [lines[0], lines[2]]
    assert ids(run(sf_state, f"SELECT Id FROM OpportunityLineItem WHERE OpportunityId = '{deal}'")) == \
        [lines[0], lines[2]]
    # queryAll still sees the deleted line (the scan serves it: the child index holds live records only).
    assert ids(run(sf_state, f"SELECT Id FROM OpportunityLineItem WHERE OpportunityId = '{deal}'",
                   include_deleted=True)) == lines
    sf_state.delete("Opportunity", deal)  # cascades to the remaining lines
    assert run(sf_state, "SELECT Id FROM OpportunityLineItem")["records"] == []
    assert ids(run(sf_state, f"SELECT Id FROM Opportunity WHERE Id = '{deal}'", include_deleted=True)) == [deal]
    assert sf_state.check_indexes() == []


def test_rollback_restores_the_indexes(sf_state):
    first = sf_state.insert("Account", {"Name": "First", "QB_Customer_ID__c": "QB-1"})
    second = sf_state.insert("Account", {"Name": "Second"})
    contact = sf_state.insert("Contact", {"LastName": "Smith", "AccountId": first})
    with pytest.raises(ApiError), sf_state.batch():
        sf_state.update("Contact", contact, {"AccountId": second})
        sf_state.update("Account", first, {"QB_Customer_ID__c": "QB-2"})
        sf_state.insert("Contact", {"LastName": "Gone", "AccountId": second})
        sf_state.delete("Account", second)
        sf_state.insert("Contact", {"AccountId": first})  # LastName missing: the whole batch rolls back
    assert contacts_of(sf_state, first) == [contact] and contacts_of(sf_state, second) == []
    assert ids(run(sf_state, "SELECT Id FROM Account WHERE QB_Customer_ID__c = 'qb-1'")) == [first]
    assert run(sf_state, "SELECT Id FROM Account WHERE QB_Customer_ID__c = 'QB-2'")["records"] == []
    assert ids(run(sf_state, f"SELECT Id FROM Account WHERE Id IN ('{second}', '{first}')")) == [first, second]
    assert sf_state.check_indexes() == []


def test_external_id_filters_follow_updates_case_insensitively(sf_state):
    account = sf_state.insert("Account", {"Name": "Acme", "QB_Customer_ID__c": "80000001-ABC"})
    assert ids(run(sf_state, "SELECT Id FROM Account WHERE QB_Customer_ID__c IN ('80000001-abc', 'x')")) == [account]
    sf_state.update("Account", account, {"QB_Customer_ID__c": "80000002-DEF"})
    assert run(sf_state, "SELECT Id FROM Account WHERE QB_Customer_ID__c = '80000001-ABC'")["records"] == []
    assert ids(run(sf_state, "SELECT Id FROM Account WHERE QB_Customer_ID__c = '80000002-def' AND Name = 'Acme'")) \
        == [account]
    assert run(sf_state, "SELECT Id FROM Account WHERE QB_Customer_ID__c = '80000002-def' AND Name = 'x'")[
        "records"] == []


def test_id_filters_accept_15_char_and_case_folded_ids(sf_state):
    account = sf_state.insert("Account", {"Name": "Acme"})
    contact = sf_state.insert("Contact", {"LastName": "Smith", "AccountId": account})
    assert ids(run(sf_state, f"SELECT Id FROM Account WHERE Id = '{account[:15]}'")) == [account]
    assert ids(run(sf_state, f"SELECT Id FROM Account WHERE Id IN ('{account.lower()}')")) == [account]
    assert ids(run(sf_state, f"SELECT Id FROM Contact WHERE AccountId = '{account[:15]}'")) == [contact]
    assert run(sf_state, f"SELECT Id FROM Contact WHERE Id = '{account}'")["records"] == []  # wrong object
    assert ids(run(sf_state, f"SELECT Id FROM Account WHERE Id IN (SELECT AccountId FROM Contact "
                             f"WHERE Id = '{contact}')")) == [account]


def test_price_book_entries_are_found_by_book_and_product(sf_state):
    product = sf_state.insert("Product2", {"Name": "Widget", "IsActive": True})
    standard = sf_state.insert("PricebookEntry", {"Pricebook2Id": sf_state.standard_pricebook_id,
                                                  "Product2Id": product, "UnitPrice": 10, "IsActive": True})
    book = sf_state.insert("Pricebook2", {"Name": "Wholesale", "IsActive": True})
    wholesale = sf_state.insert("PricebookEntry", {"Pricebook2Id": book, "Product2Id": product, "UnitPrice": 7,
                                                   "IsActive": True})
    with pytest.raises(ApiError) as caught:
        sf_state.insert("PricebookEntry", {"Pricebook2Id": book, "Product2Id": product, "UnitPrice": 6})
    assert caught.value.error_code == "DUPLICATE_VALUE"
    deal = sf_state.insert("Opportunity", {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-12-01",
                                           "Pricebook2Id": book})
    line = sf_state.insert("OpportunityLineItem", {"OpportunityId": deal, "Product2Id": product, "Quantity": 1,
                                                   "UnitPrice": 7})
    assert sf_state.get("OpportunityLineItem", line)["PricebookEntryId"] == wholesale
    sf_state.update("Product2", product, {"Name": "Gadget"})  # renames reach every entry of the product
    assert {sf_state.get("PricebookEntry", e)["Name"] for e in (standard, wholesale)} == {"Gadget"}
    with pytest.raises(ApiError) as caught:
        sf_state.delete("PricebookEntry", wholesale)  # a line still uses it
    assert caught.value.error_code == "DELETE_FAILED"
    sf_state.delete("OpportunityLineItem", line)
    sf_state.delete("PricebookEntry", wholesale)
    with pytest.raises(ApiError) as caught:
        sf_state.insert("OpportunityLineItem", {"OpportunityId": deal, "Product2Id": product, "Quantity": 1,
                                                "UnitPrice": 7})
    assert caught.value.error_code == "FIELD_INTEGRITY_EXCEPTION"
    assert sf_state.check_indexes() == []


def test_indexes_are_rebuilt_from_the_sqlite_file(sf_schema, tmp_path):
    state = SalesforceState(sf_schema, path=tmp_path / "org.db")
    account = state.insert("Account", {"Name": "Acme", "QB_Customer_ID__c": "QB-9"})
    contact = state.insert("Contact", {"LastName": "Smith", "AccountId": account})
    state.close()
    reopened = SalesforceState(sf_schema, path=tmp_path / "org.db")
    assert contacts_of(reopened, account) == [contact]
    assert ids(run(reopened, "SELECT Id FROM Account WHERE QB_Customer_ID__c = 'qb-9'")) == [account]
    later = reopened.insert("Contact", {"LastName": "Jones", "AccountId": account})
    assert contacts_of(reopened, account) == [contact, later]  # loaded rows keep their place before new ones
    assert reopened.check_indexes() == []
    reopened.close()


# One step of a random history: (operation, contact number, account number).
_STEP = st.tuples(st.sampled_from(["insert", "move", "delete", "rollback"]), st.integers(0, 5), st.integers(0, 2))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_STEP, max_size=20))
def test_indexed_answers_equal_a_scan_after_any_history(sf_schema, steps):
    state = SalesforceState(sf_schema, package_installed=False)
    accounts = [state.insert("Account", {"Name": f"A{n}", "QB_Customer_ID__c": f"QB-{n}"}) for n in range(3)]
    contacts: list[str] = []
    for operation, which, parent in steps:
        live = [c for c in contacts if state.get("Contact", c) is not None]
        if operation == "insert" or not live:
            contacts.append(state.insert("Contact", {"LastName": f"C{len(contacts)}", "AccountId": accounts[parent]}))
        elif operation == "move":
            state.update("Contact", live[which % len(live)], {"AccountId": accounts[parent]})
        elif operation == "delete":
            state.delete("Contact", live[which % len(live)])
        else:
            with pytest.raises(ApiError), state.batch():
                state.update("Contact", live[which % len(live)], {"AccountId": accounts[parent]})
                state.insert("Contact", {"AccountId": accounts[parent]})  # no LastName: rolls the batch back
    assert state.check_indexes() == []
    every = state.records("Contact", include_deleted=True)
    for account in accounts:
        expected = [c["Id"] for c in every if c["AccountId"] == account and not c["IsDeleted"]]
        assert contacts_of(state, account) == expected
        assert ids(run(state, f"SELECT Id FROM Contact WHERE AccountId = '{account[:15]}'")) == expected
        assert ids(run(state, f"SELECT Id FROM Contact WHERE AccountId = '{account}'", include_deleted=True)) == \
            [c["Id"] for c in every if c["AccountId"] == account]
        external = state.get("Account", account)["QB_Customer_ID__c"].lower()
        assert ids(run(state, f"SELECT Id FROM Contact WHERE Account.QB_Customer_ID__c = '{external}'")) == expected
    wanted = contacts[::2]
    listed = ", ".join(f"'{c}'" for c in wanted)
    if wanted:
        assert ids(run(state, f"SELECT Id FROM Contact WHERE Id IN ({listed})")) == \
            [c["Id"] for c in every if c["Id"] in wanted and not c["IsDeleted"]]


def test_check_indexes_reports_an_index_out_of_step(sf_state):
    account = sf_state.insert("Account", {"Name": "Acme"})
    sf_state.insert("Contact", {"LastName": "Smith", "AccountId": account})
    sf_state._children[("Contact", "AccountId")].clear()  # what a missed update would leave behind
    assert sf_state.check_indexes() == ["child index ('Contact', 'AccountId') is out of step"]


def test_filters_through_a_parent_use_the_parents_index(sf_state):
    first = sf_state.insert("Account", {"Name": "First", "QB_Customer_ID__c": "QB-1"})
    second = sf_state.insert("Account", {"Name": "Second", "QB_Customer_ID__c": "QB-2"})
    contact = sf_state.insert("Contact", {"LastName": "Smith", "AccountId": first})
    other = sf_state.insert("Contact", {"LastName": "Jones", "AccountId": second})
    assert ids(run(sf_state, "SELECT Id FROM Contact WHERE Account.QB_Customer_ID__c IN ('qb-1', 'QB-3')")) == [contact]
    assert ids(run(sf_state, f"SELECT Id FROM Contact WHERE Account.Id = '{second[:15]}'")) == [other]
    sf_state.update("Contact", contact, {"AccountId": second})
    assert ids(run(sf_state, "SELECT Id FROM Contact WHERE Account.QB_Customer_ID__c = 'QB-2' ORDER BY LastName")) \
        == [other, contact]
    assert run(sf_state, "SELECT Id FROM Contact WHERE Account.QB_Customer_ID__c = 'QB-1'")["records"] == []
    # Lookups the state does not index (owner, audit fields) are scanned, with the same answers.
    assert ids(run(sf_state, "SELECT Id FROM Contact WHERE Owner.Username = 'demo@qbsf.example'")) == [contact, other]
    assert ids(run(sf_state, f"SELECT Id FROM Contact WHERE CreatedById = '{sf_state.user_id}'")) == [contact, other]


def test_order_by_with_nulls_and_limit(sf_state):
    rows = [("b", "2"), ("a", None), ("c", "2"), ("d", "1"), ("e", None)]
    made = {name: sf_state.insert("Account", {"Name": name, "Phone": phone}) for name, phone in rows}
    order = ids(run(sf_state, "SELECT Id FROM Account ORDER BY Phone DESC NULLS LAST, Name DESC LIMIT 4"))
    assert order == [made[n] for n in ("c", "b", "d", "e")]
    order = ids(run(sf_state, "SELECT Id FROM Account ORDER BY Phone, Name LIMIT 3"))
    assert order == [made[n] for n in ("a", "e", "d")]  # ascending puts nulls first by default
    order = ids(run(sf_state, "SELECT Id FROM Account WHERE Phone != null ORDER BY Phone NULLS FIRST"))
    assert order == [made[n] for n in ("d", "b", "c")]  # ties keep creation order


_ORDER = st.lists(st.tuples(st.sampled_from(["Phone", "Name", "Parent.Name", "NumberOfEmployees"]),
                            st.sampled_from(["", " ASC", " DESC"]),
                            st.sampled_from(["", " NULLS FIRST", " NULLS LAST"])), min_size=1, max_size=3)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=_ORDER, limit=st.integers(1, 6), offset=st.integers(0, 3))
def test_order_by_limit_keeps_what_a_full_sort_keeps(sf_schema, order, limit, offset):
    state = SalesforceState(sf_schema, package_installed=False)
    parent = state.insert("Account", {"Name": "Parent"})
    for n in range(40):  # duplicates and nulls in every sort column, so ties and null placement matter
        state.insert("Account", {"Name": f"N{n % 7}", "Phone": None if n % 5 == 0 else f"P{n % 4}",
                                 "NumberOfEmployees": None if n % 3 == 0 else n % 6,
                                 "ParentId": parent if n % 2 else None})
    clause = ", ".join(f"{path}{direction}{nulls}" for path, direction, nulls in order)
    everything = ids(run(state, f"SELECT Id FROM Account ORDER BY {clause}"))
    paged = ids(run(state, f"SELECT Id FROM Account ORDER BY {clause} LIMIT {limit} OFFSET {offset}"))
    assert paged == everything[offset:offset + limit]
