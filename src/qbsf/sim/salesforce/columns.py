"""``GET query?q=…&columns=true``: a query's column metadata instead of its rows.

Salesforce answers this (undocumented, but used by the Developer Console and by ``sf data query`` to lay out its
table) with ``{"columnMetadata": [...], "entityName", "groupBy", "idSelected", "keyPrefix"}``. Each column carries
``aggregate, apexType, booleanType, columnName, custom, displayName, foreignKeyName, insertable, joinColumns,
numberType, textType, updatable``; the shapes below follow the responses the Salesforce CLI's own tests record
(plugin-data's query field exemplars):

- a field: ``joinColumns: []``, ``apexType`` its Apex type;
- a parent path ``Owner.Name``: a column named for the relationship (``foreignKeyName`` the lookup field, ``apexType``
  null) whose ``joinColumns`` hold the parent's column;
- a child subquery ``(SELECT LastName FROM Contacts)``: ``aggregate: true``, named for the relationship, its fields
  in ``joinColumns``;
- an aggregate function: ``aggregate: true``, ``columnName`` its alias (``expr0`` …), ``displayName`` the call as
  ``avg(Amount)``.

Choice where the evidence is thin: two paths through the same relationship (``Account.Name, Account.Phone``) come
back as two relationship columns, one per path; a ``SELECT COUNT()`` query has no column.
"""

from __future__ import annotations

from typing import Any

from qbsf.sim.salesforce.schema import NUMBER_TYPES, TEXT_TYPES, FieldDef, ObjectDef
from qbsf.sim.salesforce.soql import Aggregate, Engine, Query

_APEX_TYPES = {"id": "Id", "reference": "Id", "boolean": "Boolean", "double": "Double", "currency": "Double",
               "percent": "Double", "int": "Integer", "long": "Long", "date": "Date", "datetime": "Datetime"}


def _column(name: str, *, display: str | None = None, apex_type: str | None = None, aggregate: bool = False,
            definition: FieldDef | None = None, foreign_key: str | None = None,
            join: list[dict[str, Any]] | None = None, number: bool = False) -> dict[str, Any]:
    kind = definition.type if definition is not None else ""
    return {"aggregate": aggregate, "apexType": apex_type, "booleanType": kind == "boolean", "columnName": name,
            "custom": bool(definition and definition.custom), "displayName": display or name,
            "foreignKeyName": foreign_key, "insertable": bool(definition and definition.createable),
            "joinColumns": join or [], "numberType": number or kind in NUMBER_TYPES,
            "textType": kind in TEXT_TYPES, "updatable": bool(definition and definition.updateable)}


def _field_column(definition: FieldDef) -> dict[str, Any]:
    return _column(definition.name, apex_type=_APEX_TYPES.get(definition.type, "String"), definition=definition)


def _path_column(engine: Engine, obj: ObjectDef, path: str) -> dict[str, Any]:
    hops, final = engine.resolve(obj, path)
    column = _field_column(final)
    for _owner, reference in reversed(hops):
        name = reference.relationshipName or reference.name
        column = _column(name, foreign_key=reference.name, join=[column])
    return column


def query_columns(engine: Engine, query: Query) -> dict[str, Any]:
    """The column metadata of ``query`` (fields checked as running it would: INVALID_FIELD etc.)."""
    obj = engine.object(query.sobject)
    columns: list[dict[str, Any]] = []
    for item in engine.expand_fields(obj, query):
        if isinstance(item, Aggregate):
            _, final = engine.resolve(obj, item.path)
            columns.append(_column(item.alias, display=f"{item.function.lower()}({item.path})", aggregate=True,
                                   number=item.function in ("COUNT", "COUNT_DISTINCT") or final.type in NUMBER_TYPES))
        elif isinstance(item, Query):
            relation = obj.child_relationship(item.sobject)
            if relation is None:
                engine.shaper(obj, query)  # raises the INVALID_TYPE a run would
                continue
            child = engine.object(relation.childSObject)
            children = [_path_column(engine, child, path) for path in engine.expand_fields(child, item)
                        if isinstance(path, str)]
            columns.append(_column(relation.relationshipName, aggregate=True, join=children))
        else:
            columns.append(_path_column(engine, obj, item))
    return {"columnMetadata": columns, "entityName": obj.name, "groupBy": bool(query.group_by),
            "idSelected": any(isinstance(i, str) and i.lower() in ("id", f"{obj.name.lower()}.id")
                              for i in engine.expand_fields(obj, query)),
            "keyPrefix": obj.keyPrefix}
