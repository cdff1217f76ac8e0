""".NET date and time format strings (invariant culture), compiled once into plain formatters.

Mapping files written for the Windows product use .NET's ``DateTime.ToString(format)``; this module gives
those strings the same meaning. Input values are Salesforce or qbXML dates and datetimes
(``2024-03-05``, ``2024-03-05T14:30:00.000+0000``, ``2024-03-05T14:30:00-08:00``, ``…Z``); the wall-clock
time is kept as written (no time-zone conversion), as .NET does for a ``DateTimeOffset``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# Single-letter format strings are .NET *standard* formats; these are their invariant-culture patterns.
STANDARD_FORMATS = {
    "d": "MM/dd/yyyy",
    "D": "dddd, dd MMMM yyyy",
    "f": "dddd, dd MMMM yyyy HH:mm",
    "F": "dddd, dd MMMM yyyy HH:mm:ss",
    "g": "MM/dd/yyyy HH:mm",
    "G": "MM/dd/yyyy HH:mm:ss",
    "m": "MMMM dd",
    "M": "MMMM dd",
    "o": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "O": "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK",
    "r": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "R": "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'",
    "s": "yyyy'-'MM'-'dd'T'HH':'mm':'ss",
    "t": "HH:mm",
    "T": "HH:mm:ss",
    "u": "yyyy'-'MM'-'dd HH':'mm':'ss'Z'",
    "y": "yyyy MMMM",
    "Y": "yyyy MMMM",
}

_UTC_FORMATS = frozenset("rRu")
_INPUT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?"
)


class DateInputError(ValueError):
    """A value is not a Salesforce or qbXML date/datetime."""


class DateFormatSyntaxError(ValueError):
    """A format string .NET itself would reject (unclosed quote, trailing backslash, unknown standard format)."""


@dataclass(frozen=True, slots=True)
class Moment:
    """A parsed date/datetime: wall-clock fields, 100-ns ticks and the offset as written (None = not given)."""

    date: dt.date
    hour: int
    minute: int
    second: int
    ticks: int  # fraction of a second in 100-ns units, 0..9_999_999, as .NET keeps it
    offset_minutes: int | None
    utc_designator: bool


def _to_utc(m: Moment) -> Moment:
    """The same instant in UTC (a value without an offset is taken as UTC already)."""
    if not m.offset_minutes:
        return m
    local = dt.datetime(m.date.year, m.date.month, m.date.day, m.hour, m.minute, m.second)
    utc = local - dt.timedelta(minutes=m.offset_minutes)
    return Moment(utc.date(), utc.hour, utc.minute, utc.second, m.ticks, 0, True)


def parse_moment(text: str) -> Moment:
    """Parse a Salesforce or qbXML date or datetime; raise :class:`DateInputError` with the expected shapes."""
    match = _INPUT.fullmatch(text.strip())
    if match is None:
        raise DateInputError(
            f"{text!r} is not a Salesforce or qbXML date; expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with an "
            f"optional fraction and offset (Z, +hh:mm, +hhmm)"
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        raise DateInputError(f"{text!r} is not a real calendar date") from None
    hour_i, minute_i, second_i = int(hour or 0), int(minute or 0), int(second or 0)
    if hour_i > 23 or minute_i > 59 or second_i > 59:
        raise DateInputError(f"{text!r} has a time of day out of range")
    ticks = int((fraction or "0")[:7].ljust(7, "0"))
    offset: int | None = None
    designator = False
    if zone in ("Z", "z"):
        offset, designator = 0, True
    elif zone:
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 14 or minutes > 59:
            raise DateInputError(f"{text!r} has an offset out of range")
        offset = (hours * 60 + minutes) * (-1 if zone[0] == "-" else 1)
    return Moment(date, hour_i, minute_i, second_i, ticks, offset, designator)


Piece = Callable[[Moment], str]


def _literal(text: str) -> Piece:
    return lambda _m: text


def _year(count: int) -> Piece:
    if count <= 2:
        return (lambda m: str(m.date.year % 100)) if count == 1 else (lambda m: f"{m.date.year % 100:02d}")
    return lambda m: str(m.date.year).zfill(count)


def _month(count: int) -> Piece:
    if count == 1:
        return lambda m: str(m.date.month)
    if count == 2:
        return lambda m: f"{m.date.month:02d}"
    if count == 3:
        return lambda m: MONTHS[m.date.month - 1][:3]
    return lambda m: MONTHS[m.date.month - 1]


def _day(count: int) -> Piece:
    if count == 1:
        return lambda m: str(m.date.day)
    if count == 2:
        return lambda m: f"{m.date.day:02d}"
    if count == 3:
        return lambda m: DAYS[m.date.weekday()][:3]
    return lambda m: DAYS[m.date.weekday()]


def _hour12(m: Moment) -> int:
    return m.hour % 12 or 12


def _two(count: int, get: Callable[[Moment], int]) -> Piece:
    return (lambda m: str(get(m))) if count == 1 else (lambda m: f"{get(m):02d}")


def _fraction(count: int, trim: bool) -> Piece:
    if not trim:
        return lambda m: f"{m.ticks:07d}"[:count]
    return lambda m: f"{m.ticks:07d}"[:count].rstrip("0")


def _ampm(count: int) -> Piece:
    return (lambda m: "AM"[:count] if m.hour < 12 else "PM"[:count])


def _offset(count: int) -> Piece:
    def piece(m: Moment) -> str:
        minutes = m.offset_minutes or 0
        sign = "-" if minutes < 0 else "+"
        hours, rest = divmod(abs(minutes), 60)
        if count == 1:
            return f"{sign}{hours}"
        if count == 2:
            return f"{sign}{hours:02d}"
        return f"{sign}{hours:02d}:{rest:02d}"

    return piece


def _kind(m: Moment) -> str:
    if m.offset_minutes is None:
        return ""
    if m.utc_designator:
        return "Z"
    return _offset(3)(m)


_SPECIFIERS = "yMdhHmsfFtzgK"
_MAX_FRACTION = 7


def _tokenise(fmt: str) -> list[tuple[str, int] | str]:
    """Split a custom format into (specifier letter, repeat count) runs and literal strings, as .NET reads it."""
    out: list[tuple[str, int] | str] = []
    i, n = 0, len(fmt)
    while i < n:
        ch = fmt[i]
        if ch in "'\"":
            literal, i = _quoted(fmt, i)
            out.append(literal)
        elif ch == "\\":
            if i + 1 >= n:
                raise DateFormatSyntaxError("the format ends with a lone backslash; escape a character or remove it")
            out.append(fmt[i + 1])
            i += 2
        elif ch == "%":
            if i + 1 >= n or fmt[i + 1] == "%":
                raise DateFormatSyntaxError("'%' must be followed by one format letter, e.g. %d")
            i += 1
        elif ch in _SPECIFIERS:
            j = i
            while j < n and fmt[j] == ch:
                j += 1
            count = j - i
            if ch in "fF" and count > _MAX_FRACTION:
                raise DateFormatSyntaxError(f"'{ch * count}' asks for more than {_MAX_FRACTION} fraction digits")
            out.append((ch, count))
            i = j
        else:
            out.append(ch)
            i += 1
    return out


def _quoted(fmt: str, start: int) -> tuple[str, int]:
    """Read a quoted literal starting at ``start`` (inside it a backslash escapes the next character)."""
    quote, chars, i = fmt[start], [], start + 1
    while i < len(fmt):
        ch = fmt[i]
        if ch == quote:
            return "".join(chars), i + 1
        if ch == "\\" and i + 1 < len(fmt):
            i += 1
            ch = fmt[i]
        chars.append(ch)
        i += 1
    raise DateFormatSyntaxError(f"the quote {quote} at position {start + 1} is never closed; close it with {quote}")


def _piece(letter: str, count: int) -> Piece:
    match letter:
        case "y":
            return _year(count)
        case "M":
            return _month(count)
        case "d":
            return _day(count)
        case "h":
            return _two(min(count, 2), _hour12)
        case "H":
            return _two(min(count, 2), lambda m: m.hour)
        case "m":
            return _two(min(count, 2), lambda m: m.minute)
        case "s":
            return _two(min(count, 2), lambda m: m.second)
        case "f":
            return _fraction(count, trim=False)
        case "F":
            return _fraction(count, trim=True)
        case "t":
            return _ampm(min(count, 2))
        case "z":
            return _offset(min(count, 3))
        case "g":
            return _literal("A.D.")
        case _:  # "K"
            return _kind


def compile_format(fmt: str) -> Callable[[Moment], str]:
    """Compile a .NET date format string (custom or single-letter standard) into a formatter of :class:`Moment`.

    Raises :class:`DateFormatSyntaxError` for strings .NET would reject.
    """
    if not fmt:
        raise DateFormatSyntaxError("the format is empty; write one such as yyyy-MM-dd")
    if len(fmt) == 1:
        if fmt not in STANDARD_FORMATS:
            raise DateFormatSyntaxError(
                f"'{fmt}' alone is not a .NET standard format; use one of {''.join(STANDARD_FORMATS)} "
                f"or write %{fmt} for the custom specifier"
            )
        if fmt in _UTC_FORMATS:  # .NET renders r, R and u in UTC
            inner = compile_format(STANDARD_FORMATS[fmt])
            return lambda m: inner(_to_utc(m))
        fmt = STANDARD_FORMATS[fmt]
    pieces: list[Piece] = []
    trims_fraction: list[int] = []
    for token in _tokenise(fmt):
        if isinstance(token, str):
            pieces.append(_literal(token))
        else:
            letter, count = token
            if letter == "F":
                trims_fraction.append(len(pieces))
            pieces.append(_piece(letter, count))

    if not trims_fraction:
        def format_moment(m: Moment) -> str:
            return "".join([p(m) for p in pieces])
        return format_moment

    def format_with_trim(m: Moment) -> str:
        out: list[str] = []
        for index, piece in enumerate(pieces):
            text = piece(m)
            # .NET drops the '.' before an F-run that prints nothing ("ss.FFF" on whole seconds is "05").
            if index in trims_fraction and not text and out and out[-1].endswith("."):
                out[-1] = out[-1][:-1]
            out.append(text)
        return "".join(out)

    return format_with_trim


def date_formatter(fmt: str) -> Callable[[str], str]:
    """A ``text -> text`` function reformatting a Salesforce/qbXML date with a .NET format string.

    The format is checked now (:class:`DateFormatSyntaxError`); each value is checked when formatted
    (:class:`DateInputError`).
    """
    formatter = compile_format(fmt)

    def reformat(text: str) -> str:
        return formatter(parse_moment(text))

    return reformat
