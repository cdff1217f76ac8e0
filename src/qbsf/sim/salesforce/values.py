"""Salesforce's wire formats for field values, and the API error every layer of the emulator raises."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from qbsf.sim.salesforce.ids import to18
from qbsf.sim.salesforce.schema import NUMBER_TYPES, FieldDef


class ApiError(Exception):
    """A Salesforce REST error: HTTP status plus the ``[{"message","errorCode","fields"}]`` body."""

    def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields
        # A value the JSON body could not be read as (field name, value): the REST layer appends where it sits.
        self.bad_value: tuple[str, Any] | None = None
        # Where a SOQL error sits: a character offset in the query, or a token to find there (soql.py).
        self.position: int | None = None
        self.token: str | None = None

    def entry(self) -> dict[str, Any]:
        """One element of the REST error array (a JSON_PARSER_ERROR names no fields, as Salesforce's doesn't)."""
        entry: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None and self.error_code != "JSON_PARSER_ERROR":
            entry["fields"] = self.fields
        return entry

    def collection_entry(self) -> dict[str, Any]:
        """The same error as sObject Collections reports it (``statusCode`` instead of ``errorCode``)."""
        return {"statusCode": self.error_code, "message": self.message, "fields": self.fields or []}


def format_datetime(moment: datetime) -> str:
    """Salesforce's datetime format: ``2026-11-24T18:00:00.000+0000`` (always UTC, milliseconds)."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    """Parse any ISO-8601 datetime; naive values are UTC (for query parameters and SOQL literals)."""
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# The dateTime forms a record accepts: ``yyyy-MM-ddTHH:mm[:ss[.SSS]]`` with ``Z``, ``±hh:mm``, ``±hhmm`` or no
# offset (UTC): xsd:dateTime (SOAP API Developer Guide, "Primitive Data Types"). A space instead of the ``T`` is a
# JSON_PARSER_ERROR, as a real org answered: "Cannot deserialize instance of datetime from VALUE_STRING value
# 2017-10-17 00:00:00 or request may be missing a required field at [line:1, column:129]" (regican/Salesforce
# issue 2). A bare date for a dateTime field is refused too (evidence thin: xsd:dateTime requires the time).
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?")


def parse_record_datetime(text: str) -> datetime:
    """A record's dateTime value, as strictly as Salesforce reads it (ValueError otherwise)."""
    if not _DATETIME.fullmatch(text):
        raise ValueError(f"not an xsd:dateTime: {text}")
    if re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# How the JSON parser names a value it could not read (Jackson's token names).
def _token(value: Any) -> tuple[str, str]:
    if isinstance(value, bool):
        return ("VALUE_TRUE" if value else "VALUE_FALSE"), str(value).lower()
    if isinstance(value, int):
        return "VALUE_NUMBER_INT", str(value)
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT", repr(value)
    if isinstance(value, list):
        return "START_ARRAY", "["
    if isinstance(value, dict):
        return "START_OBJECT", "{"
    return "VALUE_STRING", str(value)


def _type_error(definition: FieldDef, value: Any) -> ApiError:
    """Salesforce's answer to a value of the wrong type (recorded responses): ``Cannot deserialize instance of date
    from VALUE_STRING value 2017-05-30T-06:00:00X or request may be missing a required field at [line:11,
    column:55]`` — the REST layer appends the `` at [line:…, column:…]`` part, which needs the request text."""
    token, shown = _token(value)
    error = ApiError(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of {definition.type} from {token} "
                     f"value {shown} or request may be missing a required field", [definition.name])
    error.bad_value = (definition.name, value)
    return error


def coerce(definition: FieldDef, value: Any) -> Any:
    """``value`` converted to how the emulator stores ``definition``'s type, or an ApiError naming the field."""
    if value is None:
        return None
    kind = definition.type
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _type_error(definition, value)
    if kind in NUMBER_TYPES:
        if isinstance(value, bool):
            raise _type_error(definition, value)
        try:
            number = float(value) if not isinstance(value, (int, float)) else value
        except ValueError:
            raise _type_error(definition, value) from None
        if kind in ("int", "long"):
            if float(number) != int(number):
                raise _type_error(definition, value)
            return int(number)
        return float(number)
    if kind == "date":
        text = str(value) if isinstance(value, str) else ""
        try:
            if len(text) > 10:
                parse_record_datetime(text)  # a dateTime's date part is accepted; "2026-01-01 10:00" is not
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            raise _type_error(definition, value) from None
    if kind == "datetime":
        if not isinstance(value, str):
            raise _type_error(definition, value)
        try:
            return format_datetime(parse_record_datetime(value))
        except ValueError:
            raise _type_error(definition, value) from None
    if kind in ("id", "reference"):
        if value == "":
            return None
        full = to18(value) if isinstance(value, str) else None
        if full is None:
            raise ApiError(400, "MALFORMED_ID", f"{definition.label}: id value of incorrect type: {value}",
                           [definition.name])
        return full
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _type_error(definition, value)
    text = str(value)
    if text == "":
        return None  # Salesforce stores an empty string as null
    if kind == "multipicklist":
        text = ";".join(part for part in text.split(";") if part)
    return text
