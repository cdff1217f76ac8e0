"""SOQL escaping: values stay data, proven against the emulator's SOQL engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qbsf.errors import QbsfError
from qbsf.salesforce.soql import escape, format_soql, in_list, like, quote

NASTY = ["O'Brien", "' OR Name != '", "back\\slash", "line\nbreak", "tab\there", 'say "hi"', "100%_off",
         "\\' OR Name != '", "end\\", "'", "\r\n\b\f"]


def test_escape_sequences() -> None:
    assert escape("O'Brien") == "O\\'Brien"
    assert escape("a\\b") == "a\\\\b"
    assert escape("x\ny\rz\t\b\f\"") == 'x\\ny\\rz\\t\\b\\f\\"'
    assert quote("' OR Name != '") == "'\\' OR Name != \\''"


def test_quote_types() -> None:
    assert quote(None) == "null"
    assert quote(True) == "true" and quote(False) == "false"
    assert quote(42) == "42" and quote(Decimal("12.50")) == "12.50" and quote(1.5) == "1.5"
    assert quote(dt.date(2026, 2, 3)) == "2026-02-03"
    assert quote(dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=dt.UTC)) == "2026-02-03T04:05:06Z"
    eastern = dt.timezone(dt.timedelta(hours=-5))
    assert quote(dt.datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=eastern)) == "2026-02-03T09:05:06.789Z"
    with pytest.raises(QbsfError, match="naive datetime"):
        quote(dt.datetime(2026, 1, 1))
    with pytest.raises(QbsfError, match="cannot put a dict"):
        quote({"a": 1})
    with pytest.raises(QbsfError, match="not a number"):
        quote(float("nan"))


def test_in_list_and_format() -> None:
    assert in_list(["a", "b", "a"]) == "('a', 'b')"
    assert in_list([1, None]) == "(1, null)"
    with pytest.raises(QbsfError, match="empty IN list"):
        in_list([])
    with pytest.raises(QbsfError, match="nested"):
        in_list([["a"]])
    assert format_soql("SELECT Id FROM {:raw} WHERE Name = {} AND Id IN {ids}", "Account", "O'Brien",
                       ids=("001", "002")) == "SELECT Id FROM Account WHERE Name = 'O\\'Brien' AND Id IN ('001', '002')"
    with pytest.raises(QbsfError, match="API name"):
        format_soql("SELECT Id FROM {:raw}", "Account WHERE Name != null")
    with pytest.raises(QbsfError, match="conversions"):
        format_soql("{!r}", "x")
    assert like("100%_off", prefix=True) == "'100\\%\\_off%'"
    assert like("a", contains=True) == "'%a%'" and like("a", suffix=True) == "'%a'"


def test_injection_attempts_stay_data_against_the_emulator(sf_client) -> None:
    results = sf_client.create_many("Account", [{"Name": name} for name in NASTY] + [{"Name": "Innocent"}])
    assert all(r.success for r in results), [r.error for r in results]
    for name in NASTY:
        rows = sf_client.query(format_soql("SELECT Name FROM Account WHERE Name = {}", name))
        assert [r["Name"] for r in rows] == [name], name
    rows = sf_client.query(format_soql("SELECT Name FROM Account WHERE Name IN {}", NASTY))
    assert sorted(r["Name"] for r in rows) == sorted(NASTY)
    rows = sf_client.query("SELECT Name FROM Account WHERE Name LIKE " + like("100%_off"))
    assert [r["Name"] for r in rows] == ["100%_off"]
    rows = sf_client.query("SELECT Name FROM Account WHERE Name LIKE " + like("%", contains=True))
    assert [r["Name"] for r in rows] == ["100%_off"], "an escaped % matches only a literal %"


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30))
def test_any_text_round_trips_through_the_emulator_soql_parser(text: str) -> None:
    from qbsf.sim.salesforce.soql import _unescape

    assert _unescape(quote(text)) == text
