"""A mapping's field names checked against the systems before it replaces the active one.

Every QuickBooks name must be a field of the sheet's QuickBooks record (``BillAddr1``, ``BillAddress.City``,
``CustomerRef.ListID`` …, as qbsf reads and writes them); with a Salesforce connection every Salesforce name —
parent paths (``Account.QB_Customer_ID__c``) and the fields ``Link`` steps look values up in included — must exist
in the org (its describe). Each problem names the file, the line and the fix, like the loader's own.

    problems = field_problems(mapping, missing=sf_client.missing_fields)   # [] when the mapping fits
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from qbsf.errors import QbsfError
from qbsf.mapping import Direction, MappingProblem

#: What answers "which of these paths does the org lack on this object": ``SalesforceClient.missing_fields``.
MissingFields = Callable[[str, Iterable[str]], list[str]]


def _record_classes(qb_entity: str) -> tuple[type, ...]:
    """The QuickBooks record classes a mapping of ``qb_entity`` (or of its lines' element) writes or reads."""
    from qbsf.sync.entities import REGISTRY

    for item in REGISTRY:
        if item.qb_entity == qb_entity:
            return item.hooks.record_classes(item)
        if item.lines is not None and item.lines.element == qb_entity:
            line = item.hooks.line_class(item)
            return (line,) if line is not None else ()
    return ()


def _quickbooks_name_problem(qb_entity: str, name: str) -> str | None:
    from qbsf.quickbooks.records import canonical_path

    classes = _record_classes(qb_entity)
    if not classes:
        return None
    first: QbsfError | None = None
    for cls in classes:
        try:
            canonical_path(cls, name)
            return None
        except QbsfError as exc:
            first = first or exc
    said = first.message if first is not None else name
    return f"{said}; use the QuickBooks field names of a {qb_entity} (see `qbsf mapping sheets` and examples/mappings)"


def quickbooks_problems(mapping: Any) -> list[MappingProblem]:
    """Rows whose QuickBooks name is not a field of the sheet's QuickBooks record."""
    kind = mapping.kind
    column = 2 if kind.direction is Direction.SF_TO_QB else 1
    problems = []
    for rule in mapping.rules:
        name = rule.target if kind.direction is Direction.SF_TO_QB else rule.source
        why = _quickbooks_name_problem(kind.qb_entity, name)
        if why:
            problems.append(MappingProblem(mapping.source, rule.line, f"column {column} {name!r}: {why}"))
    return problems


def salesforce_problems(mapping: Any, missing: MissingFields) -> list[MappingProblem]:
    """Rows naming a Salesforce field (or a Link's field) the org does not have, from its describe."""
    kind = mapping.kind
    column = 1 if kind.direction is Direction.SF_TO_QB else 2
    problems = []
    for rule in mapping.rules:
        name = rule.source if kind.direction is Direction.SF_TO_QB else rule.target
        checks = [(kind.sf_object, name, f"column {column} {name!r}")]
        checks += [(link.sobject, link.field, f"the Link's {link.sobject}.{link.field}") for link in rule.links]
        for sobject, path, what in checks:
            try:
                lacking = missing(sobject, [path])
            except QbsfError as exc:
                problems.append(MappingProblem(mapping.source, rule.line, f"{what}: {exc}"))
                continue
            if lacking:
                problems.append(MappingProblem(
                    mapping.source, rule.line,
                    f"{what}: Salesforce {sobject} has no field {path!r} in this org; check the API name in Setup → "
                    f"Object Manager → {sobject} → Fields (custom fields end in __c), or deploy the qbsf package"))
    return problems


def field_problems(mapping: Any, missing: MissingFields | None = None) -> list[MappingProblem]:
    """Every field problem of ``mapping``: QuickBooks names always, Salesforce names when ``missing`` is given."""
    problems = quickbooks_problems(mapping)
    if missing is not None:
        problems += salesforce_problems(mapping, missing)
    return sorted(problems, key=lambda p: p.line)
