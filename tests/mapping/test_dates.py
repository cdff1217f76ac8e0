""".NET custom and standard date format strings, invariant culture."""

import pytest

from qbsf.mapping.dates import DateFormatSyntaxError, DateInputError, compile_format, date_formatter, parse_moment

SF_DATETIME = "2024-03-05T14:07:09.123+0000"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("yyyy-MM-dd", "2024-03-05"),
        ("y yy yyy yyyy yyyyy", "24 24 2024 2024 02024"),
        ("M MM MMM MMMM", "3 03 Mar March"),
        ("d dd ddd dddd", "5 05 Tue Tuesday"),
        ("h hh H HH", "2 02 14 14"),
        ("m mm s ss", "7 07 9 09"),
        ("f ff fff ffff fffffff", "1 12 123 1230 1230000"),
        ("F FF FFF FFFF FFFFFFF", "1 12 123 123 123"),
        ("t tt", "P PM"),
        ("hh:mm:ss tt", "02:07:09 PM"),
        ("'Year' yyyy", "Year 2024"),
        ('"at" HH\\h', "at 14h"),
        ("\\y\\y yy", "yy 24"),
        ("dd.MM.yyyy", "05.03.2024"),
        ("%d", "5"),
        ("%M", "3"),
        ("z zz zzz", "+0 +00 +00:00"),
        ("gg yyyy", "A.D. 2024"),
    ],
)
def test_custom_specifiers(fmt: str, expected: str) -> None:
    assert compile_format(fmt)(parse_moment(SF_DATETIME)) == expected


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("d", "03/05/2024"),
        ("D", "Tuesday, 05 March 2024"),
        ("s", "2024-03-05T14:07:09"),
        ("t", "14:07"),
        ("T", "14:07:09"),
        ("M", "March 05"),
        ("Y", "2024 March"),
        ("o", "2024-03-05T14:07:09.1230000+00:00"),
        ("G", "03/05/2024 14:07:09"),
    ],
)
def test_single_letters_are_standard_formats(fmt: str, expected: str) -> None:
    assert compile_format(fmt)(parse_moment(SF_DATETIME)) == expected


def test_midnight_and_noon_in_twelve_hour_clock() -> None:
    fmt = compile_format("h tt")
    assert fmt(parse_moment("2024-01-01T00:30:00")) == "12 AM"
    assert fmt(parse_moment("2024-01-01T12:30:00")) == "12 PM"


def test_trailing_f_run_drops_its_dot_on_whole_seconds() -> None:
    fmt = compile_format("HH:mm:ss.FFF")
    assert fmt(parse_moment("2024-01-01T10:00:05")) == "10:00:05"
    assert fmt(parse_moment("2024-01-01T10:00:05.5")) == "10:00:05.5"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-05", "2024-03-05 00:00 "),
        ("2024-03-05T14:30:00-08:00", "2024-03-05 14:30 -08:00"),
        ("2024-03-05T14:30:00+0530", "2024-03-05 14:30 +05:30"),
        ("2024-03-05T14:30:00Z", "2024-03-05 14:30 Z"),
        ("2024-03-05T14:30:00.000+0000", "2024-03-05 14:30 +00:00"),
        ("2024-03-05T14:30", "2024-03-05 14:30 "),
        (" 2024-03-05 ", "2024-03-05 00:00 "),
    ],
)
def test_salesforce_and_qbxml_inputs_keep_their_wall_clock(value: str, expected: str) -> None:
    assert compile_format("yyyy-MM-dd HH:mm K")(parse_moment(value)) == expected


@pytest.mark.parametrize("value", ["03/05/2024", "2024-02-30", "2024-13-01", "2024-03-05T25:00:00", "yesterday", ""])
def test_bad_input_dates(value: str) -> None:
    with pytest.raises(DateInputError):
        date_formatter("yyyy")(value)


@pytest.mark.parametrize(
    ("fmt", "message"),
    [("'yyyy", "never closed"), ("yyyy\\", "lone backslash"), ("x", "not a .NET standard format"), ("", "empty"),
     ("ffffffff", "more than 7"), ("yyyy%", "followed by one format letter")],
)
def test_format_strings_dotnet_rejects(fmt: str, message: str) -> None:
    with pytest.raises(DateFormatSyntaxError, match=message):
        compile_format(fmt)


def test_quoted_literal_keeps_escaped_quote() -> None:
    assert compile_format("'it\\'s' yyyy")(parse_moment("2024-01-01")) == "it's 2024"


def test_rfc1123_and_universal_sortable_are_rendered_in_utc() -> None:
    moment = parse_moment("2024-03-05T23:30:00-08:00")
    assert compile_format("R")(moment) == "Wed, 06 Mar 2024 07:30:00 GMT"
    assert compile_format("u")(moment) == "2024-03-06 07:30:00Z"
    assert compile_format("r")(parse_moment("2024-03-05")) == "Tue, 05 Mar 2024 00:00:00 GMT"
