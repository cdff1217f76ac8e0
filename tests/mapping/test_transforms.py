"""Every transformation through a compiled mapping, with its edge cases."""

from decimal import Decimal

import pytest

from qbsf.mapping import LinkKey, RecordError


@pytest.mark.parametrize("chain", ["", "Simple", "simple", " SIMPLE "])
def test_simple_copies_as_is_and_keeps_types(one, chain: str) -> None:
    assert one(chain, "  Acme  ") == "  Acme  "
    assert one(chain, 42) == 42
    assert one(chain, True) is True


def test_empty_and_absent_become_none(one) -> None:
    assert one("", None) is None
    assert one("", "") is None
    assert one("Trim", "   ") is None


def test_trim(one) -> None:
    assert one("Trim", " \t Acme Corp \r\n") == "Acme Corp"


def test_concatenate_template_with_colons(one) -> None:
    assert one("Concatenate:Invoice {value}", 8) == "Invoice 8"
    assert one("Concatenate:Ref: {value} (x:{value})", "A") == "Ref: A (x:A)"
    assert one("Concatenate:Invoice {value}", "") is None  # nothing to wrap: stays empty


def test_left_right(one) -> None:
    assert one("Left:3", "Salesforce") == "Sal"
    assert one("Right:5", "Salesforce") == "force"
    assert one("Left:50", "short") == "short"
    assert one("Right:50", "short") == "short"
    assert one("Right:0", "abc") is None
    assert one("Left:0", "abc") is None


def test_mid_counts_from_zero_like_dotnet_substring(one) -> None:
    assert one("Mid:2:8", "0123456789ABCDEF") == "23456789"
    assert one("Mid:0:3", "abcdef") == "abc"
    assert one("Mid:4", "abcdefgh") == "efgh"


def test_mid_clamps_out_of_range(one) -> None:
    assert one("Mid:3:100", "abcdef") == "def"
    assert one("Mid:10:2", "abc") is None


def test_upper_lower(one) -> None:
    assert one("Upper", "Acme Straße") == "ACME STRASSE"
    assert one("Lower", "ÀCME") == "àcme"


def test_replace_all_occurrences_and_escapes(one) -> None:
    assert one("Replace:USD:$", "10 USD + 5 USD") == "10 $ + 5 $"
    assert one(r"Replace:\::-", "a:b:c") == "a-b-c"
    assert one(r"Replace:http\://:https\://", "http://x") == "https://x"
    assert one("Replace:-:", "555-0100") == "5550100"
    assert one(r"Replace:\|:/", "a|b") == "a/b"


@pytest.mark.parametrize(
    ("given", "expected"),
    [("2.345", "2.35"), ("1234.5", "1234.50"), ("-2.345", "-2.35"), ("2.344", "2.34"), ("1,234,567.891", "1234567.89"),
     (" 7 ", "7.00"), ("0.005", "0.01"), ("-0.004", "0.00"), (".5", "0.50"), (1234.565, "1234.57"), (3, "3.00"),
     (Decimal("19.995"), "20.00"), ("+4", "4.00"), ("007", "7.00"), ("-0", "0.00"), ("12.", "12.00"), (-0.0, "0.00"),
     (19.99, "19.99"), (1e16, "10000000000000000.00"), ("-12.5", "-12.50"), (-7, "-7.00")],
)
def test_number_format_is_decimal_half_away_from_zero(one, given: object, expected: str) -> None:
    assert one("NumberFormat", given) == expected


@pytest.mark.parametrize("bad", ["abc", "1.2.3", "12,34", "$5", "1e5", "NaN", "1 000", Decimal("NaN"),
                                 Decimal("Infinity"), float("inf"), [1]])
def test_number_format_rejects_non_numbers_as_record_errors(one, bad: object) -> None:
    result = one("NumberFormat", bad)
    assert isinstance(result, RecordError)
    assert "NumberFormat" in result.message and (repr(bad) in result.message or isinstance(bad, list))
    assert result.record == "Account Id=001A" and result.source == "Src" and result.target == "Dst"


def test_static_ignores_the_source(one) -> None:
    assert one("Static", "whatever", default="Net 30") == "Net 30"
    assert one("Static", None, default="Net 30") == "Net 30"
    assert one("Static|Upper", None, default="net 30") == "NET 30"


def test_date_format(one) -> None:
    assert one("DateFormat:yyyy-MM-dd", "2024-03-05T14:30:00.000+0000") == "2024-03-05"
    assert one("DateFormat:MM/dd/yyyy", "2024-03-05") == "03/05/2024"
    assert one("DateFormat:dddd, MMMM d, yyyy h:mm tt", "2024-03-05T14:30:00-08:00") == "Tuesday, March 5, 2024 2:30 PM"
    bad = one("DateFormat:yyyy-MM-dd", "05/03/2024")
    assert isinstance(bad, RecordError) and "not a Salesforce or qbXML date" in bad.message


def test_address_split_lines(one) -> None:
    street = "1 Market Street, Spear Tower, Suite 3600, Attn: Accounts Payable"
    assert one("AddressSplit:1", street) == "1 Market Street, Spear Tower, Suite 3600,"
    assert one("AddressSplit:2", street) == "Attn: Accounts Payable"
    assert one("AddressSplit:3", street) is None
    assert one("AddressSplit:2", "Line one\r\nLine two") == "Line two"


def test_link_uses_resolved_lookups(one) -> None:
    lookups = {LinkKey("Account", "QB_Customer_ID__c"): {"8000-1": "001000000000001AAA"}}
    assert one("Link:Account:QB_Customer_ID__c", "8000-1", lookups=lookups) == "001000000000001AAA"
    assert one("Trim|Link:Account:QB_Customer_ID__c", " 8000-1 ", lookups=lookups) == "001000000000001AAA"
    assert one("Link:Account:QB_Customer_ID__c", "", lookups=lookups) is None


def test_link_not_found_waits_for_the_parent(one) -> None:
    lookups = {LinkKey("Account", "QB_Customer_ID__c"): {}}
    error = one("Link:Account:QB_Customer_ID__c", "8000-9", lookups=lookups)
    assert isinstance(error, RecordError)
    assert error.waiting_on == LinkKey("Account", "QB_Customer_ID__c")
    assert "no Account found with QB_Customer_ID__c = '8000-9'" in error.message
    exc = error.to_exception()
    assert type(exc).__name__ == "AfterDependency" and "sync the Account first" in str(exc)


def test_link_without_lookups_is_a_record_error_not_a_crash(one) -> None:
    error = one("Link:Account:QB_Customer_ID__c", "8000-1")
    assert isinstance(error, RecordError) and "needs lookups" in error.message


def test_chains_apply_left_to_right(one) -> None:
    assert one("Trim|Upper|Left:5", "  acme corporation ") == "ACME "
    assert one("Left:5|Trim|Upper", "  acme corporation ") == "ACM"
    assert one("Replace:a:b|Concatenate:[{value}]|Right:3", "aaa") == "bb]"
    assert one("Simple|Trim|Simple", " x ") == "x"


def test_default_fills_a_value_empty_after_transformation(one) -> None:
    assert one("Trim", "   ", default="N/A") == "N/A"
    assert one("Mid:10:2", "abc", default="-") == "-"
    assert one("", None, default="USA") == "USA"
    assert one("Trim", "x", default="N/A") == "x"


def test_non_text_values_become_text_for_transformations(one) -> None:
    assert one("Trim", 5.0) == "5.0"
    assert one("Trim", 1e-7) == "0.0000001"
    assert one("Upper", True) == "TRUE"
    nested = one("Trim", {"Name": "x"})
    assert isinstance(nested, RecordError) and "dotted path" in nested.message
