"""Build SOQL safely: every value put into a query is escaped, so data can never become query syntax.

>>> format_soql("SELECT Id FROM Account WHERE Name = {} AND Id IN {}", "O'Brien", ["001A", "001B"])
"SELECT Id FROM Account WHERE Name = 'O\\\\'Brien' AND Id IN ('001A', '001B')"

Escapes follow Salesforce's "Quoted String Escape Sequences": ``\\n \\r \\t \\b \\f \\" \\' \\\\``; inside LIKE
patterns ``%`` and ``_`` are escaped too (:func:`like`).
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from qbsf.errors import QbsfError

_ESCAPES = {"\\": "\\\\", "'": "\\'", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def escape(value: str) -> str:
    """Escape a string for use inside single quotes in SOQL (quotes, backslashes and control characters)."""
    return "".join(_ESCAPES.get(char, char) for char in value)


def escape_like(value: str) -> str:
    """Escape a string for a LIKE pattern: as :func:`escape`, plus the wildcards ``%`` and ``_`` become literal."""
    return escape(value).replace("%", "\\%").replace("_", "\\_")


def like(value: str, *, prefix: bool = False, suffix: bool = False, contains: bool = False) -> str:
    """A quoted LIKE pattern matching ``value`` literally: ``startswith`` → prefix=True, etc."""
    body = escape_like(value)
    if contains or suffix:
        body = "%" + body
    if contains or prefix:
        body = body + "%"
    return f"'{body}'"


def _datetime_literal(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise QbsfError(f"naive datetime {value.isoformat()} cannot go into SOQL",
                        hint="give it a timezone (datetime.now(timezone.utc)); Salesforce stores UTC")
    utc = value.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + (f".{utc.microsecond // 1000:03d}Z" if utc.microsecond else "Z")


def quote(value: Any) -> str:
    """A SOQL literal for ``value``: strings quoted and escaped, numbers, booleans, null, dates and datetimes.

    Lists, tuples, sets and frozensets become an ``IN`` list (see :func:`in_list`).
    """
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QbsfError(f"{value!r} is not a number SOQL can compare", hint="filter it out before querying")
        return repr(value)
    if isinstance(value, dt.datetime):
        return _datetime_literal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return f"'{escape(value)}'"
    if isinstance(value, list | tuple | set | frozenset):
        return in_list(value)
    raise QbsfError(f"cannot put a {type(value).__name__} into SOQL", hint="pass str, number, bool, date or None")


def in_list(values: Iterable[Any]) -> str:
    """``('a', 'b')`` for ``IN``/``NOT IN``; duplicates dropped, order kept. An empty list is an error."""
    seen: list[str] = []
    for value in values:
        if isinstance(value, list | tuple | set | frozenset):
            raise QbsfError("nested lists cannot go into a SOQL IN list", hint="flatten the values first")
        literal = quote(value)
        if literal not in seen:
            seen.append(literal)
    if not seen:
        raise QbsfError("an empty IN list is not valid SOQL", hint="skip the query when there is nothing to look up")
    return "(" + ", ".join(seen) + ")"


class _QuotingFormatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec == "raw":
            # identifiers (field/object names) cannot be quoted; allow only what an API name can contain
            text = str(value)
            if not text.replace("_", "").replace(".", "").isalnum():
                raise QbsfError(f"{text!r} is not a Salesforce API name", hint="use letters, digits, '_' and '.'")
            return text
        if format_spec:
            raise QbsfError(f"unknown SOQL format spec {format_spec!r}", hint="use {} for values or {:raw} for names")
        return quote(value)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is not None:
            raise QbsfError("conversions (!r, !s) are not allowed in SOQL templates", hint="use {} or {:raw}")
        return value


_FORMATTER = _QuotingFormatter()


def format_soql(template: str, /, *args: Any, **kwargs: Any) -> str:
    """Fill ``{}``/``{name}`` in ``template`` with quoted literals; ``{:raw}`` inserts a checked API name."""
    return _FORMATTER.format(template, *args, **kwargs)
