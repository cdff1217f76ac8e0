"""SOQL reads of a synced entity: field lists, eligibility, datetime literals and escaped values.

The SOQL field list of a cycle is derived from the mapping's source fields plus what the engine itself needs
(the entity's base fields and its parents' QuickBooks ids read through their relationships).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from qbsf.errors import ConfigError
from qbsf.salesforce.soql import quote  # the one SOQL escaping (Salesforce's quoted-string escape sequences)
from qbsf.sync.entities.base import ChildSpec, EntitySpec

_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")


def select_fields(spec: EntitySpec, mapped: Iterable[str] = ()) -> list[str]:
    """The fields one query of ``spec`` selects: what the engine needs, plus the mapping's source fields."""
    fields = list(spec.base_fields)
    fields.extend(parent.qb_id_path for parent in spec.parents)
    fields.extend(mapped)
    return _clean_fields(fields, spec.sf_object)


def child_fields(child: ChildSpec, mapped: Iterable[str] = ()) -> list[str]:
    """The fields the child subquery selects."""
    fields = list(child.base_fields)
    fields.extend(parent.qb_id_path for parent in child.parents)
    fields.extend(mapped)
    return _clean_fields(fields, child.sf_object)


def _clean_fields(fields: Iterable[str], sf_object: str) -> list[str]:
    seen: dict[str, str] = {}
    for name in fields:
        name = name.strip()
        if not name:
            continue
        if not _FIELD_NAME.match(name):
            raise ConfigError(f"{name!r} is not a Salesforce field name ({sf_object})",
                              hint="fix the SF_Field_API_Name column of the mapping CSV")
        seen.setdefault(name.casefold(), name)  # SOQL rejects a field selected twice, whatever its case
    return list(seen.values())


def soql_datetime(moment: datetime) -> str:
    """A SOQL datetime literal (UTC, millisecond precision, unquoted): ``2026-01-05T09:00:00.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_sf_datetime(text: str) -> datetime:
    """Parse a Salesforce datetime (``2026-01-05T09:00:00.000+0000`` or ``…Z``) to an aware UTC datetime."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    elif re.search(r"[+-]\d{4}$", value):
        value = value[:-2] + ":" + value[-2:]
    return datetime.fromisoformat(value).astimezone(UTC)


@dataclass(frozen=True)
class Query:
    """One SOQL read of an entity, with its pieces kept so callers can add conditions."""

    spec: EntitySpec
    fields: Sequence[str]
    conditions: Sequence[str] = field(default_factory=tuple)
    child_fields: Sequence[str] = field(default_factory=tuple)
    order_by: str = "SystemModstamp, Id"
    # Salesforce returns child rows in no set order: without this, invoice lines would shuffle between cycles.
    # None: the lines' declared order (ChildSpec.order_by).
    child_order_by: str | None = None

    def soql(self) -> str:
        """The SOQL text."""
        select = list(self.fields)
        if self.spec.child is not None and self.child_fields:
            by = self.spec.child.order_by if self.child_order_by is None else self.child_order_by
            order = f" ORDER BY {by}" if by else ""
            select.append(f"(SELECT {', '.join(self.child_fields)} FROM {self.spec.child.relationship}{order})")
        text = f"SELECT {', '.join(select)} FROM {self.spec.sf_object}"
        conditions = [f"({condition})" for condition in self.conditions if condition]
        if conditions:
            text += " WHERE " + " AND ".join(conditions)
        if self.order_by:
            text += f" ORDER BY {self.order_by}"
        return text


def eligibility_for(spec: EntitySpec, overrides: Mapping[str, str] | None = None) -> str | None:
    """The eligibility condition of ``spec``: the configured one for its object, else the default."""
    if overrides:
        for name, condition in overrides.items():
            if name.casefold() in (spec.sf_object.casefold(), spec.name.casefold()):
                return condition.strip() or None
    return spec.eligibility


def build_query(spec: EntitySpec, *, mapped: Iterable[str] = (), mapped_child: Iterable[str] = (),
                since: datetime | None = None, eligibility: Mapping[str, str] | None = None,
                ids: Sequence[str] | None = None, exclude_user: str | None = None) -> Query:
    """The query reading ``spec``'s changed (``since``) or listed (``ids``) eligible records with their lines."""
    conditions: list[str] = []
    if since is not None:
        conditions.append(f"SystemModstamp >= {soql_datetime(since)}")
    if ids is not None:
        conditions.append("Id IN (" + ", ".join(quote(record_id) for record_id in ids) + ")")
    condition = eligibility_for(spec, eligibility)
    if condition:
        conditions.append(condition)
    if exclude_user:
        conditions.append(f"LastModifiedById != {quote(exclude_user)}")
    child = child_fields(spec.child, mapped_child) if spec.child is not None else ()
    return Query(spec=spec, fields=select_fields(spec, mapped), conditions=tuple(conditions), child_fields=child)


