"""Salesforce's wire formats for field values, and the API error every layer of the emulator raises."""

from __future__ import annotations

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

    def entry(self) -> dict[str, Any]:
        """One element of the REST error array."""
        entry: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
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
    """Parse any ISO-8601 datetime Salesforce accepts; naive values are UTC."""
    moment = datetime.fromisoformat(text.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _type_error(definition: FieldDef, value: Any) -> ApiError:
    return ApiError(400, "JSON_PARSER_ERROR",
                    f"Cannot deserialize instance of {definition.type} from {type(value).__name__} value {value!r} "
                    f"or request may be missing a required field", [definition.name])


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
        try:
            return date.fromisoformat(str(value)[:10]).isoformat()
        except ValueError:
            raise _type_error(definition, value) from None
    if kind == "datetime":
        try:
            return format_datetime(parse_datetime(str(value)))
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
