"""Entity specs: dependency order, SOQL field lists from mappings, eligibility, datetime literals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.errors import ConfigError
from qbsf.sync.entities import (
    ACCOUNT,
    CONTACT,
    ENTITIES,
    OPPORTUNITY,
    PRODUCT,
    build_query,
    dependency_order,
    eligibility_for,
    entity,
    parse_sf_datetime,
    quote,
    select_fields,
    soql_datetime,
)


def test_every_entity_comes_after_its_parents() -> None:
    position = {spec.name: index for index, spec in enumerate(ENTITIES)}
    for spec in ENTITIES:
        for parent in spec.depends_on:
            assert position[parent] < position[spec.name], f"{spec.name} needs {parent} first"
    assert [spec.name for spec in ENTITIES] == ["Account", "Contact", "Product2", "Opportunity", "Order",
                                                "Quote"]
    assert OPPORTUNITY.depends_on == ("Account", "Product2")
    assert CONTACT.depends_on == ("Account",)


def test_dependency_order_of_a_subset_and_aliases() -> None:
    assert [s.name for s in dependency_order(["Opportunity", "account"])] == ["Account", "Opportunity"]
    assert entity("Product") is PRODUCT and entity("oppty") is OPPORTUNITY and entity(" ACCT ") is ACCOUNT
    with pytest.raises(ConfigError, match="no synced entity is called 'Lead'") as info:
        entity("Lead")
    assert "Account, Contact, Product2, Opportunity" in str(info.value)


def test_select_fields_adds_mapped_fields_once_whatever_the_case() -> None:
    fields = select_fields(ACCOUNT, ["Name", "billingstreet", "BillingStreet", " Description ", ""])
    assert fields.count("Name") == 1
    assert [f for f in fields if f.casefold() == "billingstreet"] == ["billingstreet"]
    assert "Description" in fields and "QB_Customer_ID__c" in fields and "SystemModstamp" in fields


def test_select_fields_includes_parent_qb_ids_through_relationships() -> None:
    assert "Account.QB_Customer_ID__c" in select_fields(CONTACT)
    assert "Account.QB_Customer_ID__c" in select_fields(OPPORTUNITY)


def test_select_fields_refuses_a_field_that_is_not_a_name() -> None:
    with pytest.raises(ConfigError, match=r"'Name, \(SELECT' is not a Salesforce field name \(Account\)") as info:
        select_fields(ACCOUNT, ["Name, (SELECT"])
    assert "mapping CSV" in str(info.value)


def test_opportunity_query_reads_lines_in_a_subquery_and_only_closed_won() -> None:
    since = datetime(2026, 1, 5, 9, 0, 0, 123000, tzinfo=UTC)
    soql = build_query(OPPORTUNITY, mapped=["Description"], mapped_child=["Quantity", "Discount"],
                       since=since).soql()
    assert soql.startswith("SELECT Id, Name, SystemModstamp")
    assert "(SELECT Id, Product2Id, Quantity, UnitPrice, TotalPrice, Description, SortOrder, " \
           "Product2.QB_Item_ID__c, Discount FROM OpportunityLineItems ORDER BY SortOrder, CreatedDate, Id)" in soql
    assert "WHERE (SystemModstamp >= 2026-01-05T09:00:00.123Z) AND (StageName = 'Closed Won')" in soql
    assert soql.endswith("ORDER BY SystemModstamp, Id")


def test_eligibility_is_configurable_per_object() -> None:
    overrides = {"opportunity": "StageName IN ('Closed Won', 'Invoiced')", "Account": "Type = 'Customer'"}
    assert eligibility_for(OPPORTUNITY, overrides) == "StageName IN ('Closed Won', 'Invoiced')"
    assert eligibility_for(ACCOUNT, overrides) == "Type = 'Customer'"
    assert eligibility_for(PRODUCT, overrides) is None
    assert eligibility_for(OPPORTUNITY, {"Opportunity": "  "}) is None, "a blank condition means every record"
    soql = build_query(ACCOUNT, ids=["001A", "001'B"], eligibility=overrides, exclude_user="005X").soql()
    assert "WHERE (Id IN ('001A', '001\\'B')) AND (Type = 'Customer') AND (LastModifiedById != '005X')" in soql


def test_quote_escapes_soql_string_literals() -> None:
    assert quote("O'Brien \\ Sons\n") == "'O\\'Brien \\\\ Sons\\n'"


def test_soql_datetime_is_utc_with_milliseconds() -> None:
    moment = datetime(2026, 3, 1, 1, 2, 3, 4567, tzinfo=UTC) + timedelta(0)
    assert soql_datetime(moment) == "2026-03-01T01:02:03.004Z"
    assert parse_sf_datetime("2026-03-01T01:02:03.004+0000") == datetime(2026, 3, 1, 1, 2, 3, 4000, tzinfo=UTC)
    assert parse_sf_datetime("2026-03-01T03:02:03.004+0200") == datetime(2026, 3, 1, 1, 2, 3, 4000, tzinfo=UTC)


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)))
def test_soql_datetime_round_trips_and_sorts_as_text(moment: datetime) -> None:
    text = soql_datetime(moment)
    assert parse_sf_datetime(text) == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    later = moment + timedelta(milliseconds=1)
    assert soql_datetime(later) > text
