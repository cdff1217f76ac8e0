"""``POST composite/tree/{object}``: sObject Tree, records with their children created in one transaction.

From the REST API Developer Guide ("sObject Tree", "Create Nested Records", "Create Multiple Records"): the body is
``{"records": [{"attributes": {"type", "referenceId"}, <fields>, <ChildRelationship>: {"records": [...]}}]}``;
success is 201 ``{"hasErrors": false, "results": [{"referenceId", "id"}, ...]}`` listing every record created,
parents before their children; any failure rolls the whole request back and answers 400
``{"hasErrors": true, "results": [{"referenceId", "errors": [{"statusCode", "message", "fields"}]}]}`` naming the
records that failed. Limits: at most 200 records in all, five levels deep, five different object types; every
``referenceId`` unique in the request; top-level records are of the object in the URL; no ``Id`` values.

A reused ``referenceId`` fails the request before any record is written, with one result per instance of it
("SObject Tree Response Body"). Choice where the evidence is thin: a request that breaks a limit fails the same way,
with the error on the first offending record's referenceId (statusCode ``INVALID_INPUT``).
"""

from __future__ import annotations

from typing import Any

from qbsf.sim.salesforce.values import ApiError

TREE_LIMIT = 200
MAX_DEPTH = 5
MAX_TYPES = 5


class _TreeError(Exception):
    def __init__(self, reference: str, error: ApiError) -> None:
        super().__init__(error.message)
        self.reference = reference
        self.error = error


def _flatten(records: Any, type_name: str, depth: int, out: list[tuple[str, dict[str, Any], int]]) -> None:
    if not isinstance(records, list):
        raise _TreeError("", ApiError(400, "INVALID_INPUT", "records must be a JSON array"))
    for record in records:
        if not isinstance(record, dict):
            raise _TreeError("", ApiError(400, "INVALID_INPUT", "each record must be a JSON object"))
        attributes = record.get("attributes") if isinstance(record.get("attributes"), dict) else {}
        reference = str(attributes.get("referenceId") or "")
        if not reference:
            raise _TreeError("", ApiError(400, "INVALID_INPUT", "Include a reference ID for each record in the "
                                                                "request."))
        if depth > MAX_DEPTH:
            raise _TreeError(reference, ApiError(400, "INVALID_INPUT", f"A request can nest records at most "
                                                                       f"{MAX_DEPTH} levels deep."))
        declared = str(attributes.get("type") or type_name)
        out.append((reference, {**record, "attributes": {**attributes, "type": declared}}, depth))
        for value in record.values():
            if isinstance(value, dict) and "records" in value:
                _flatten(value["records"], "", depth + 1, out)


def create_tree(api: Any, sobject: str, body: Any, user_id: str) -> tuple[int, dict[str, Any]]:
    """Create the tree; returns (HTTP status, body). Runs inside the request's batch, under the state lock."""
    state = api.state
    top = state.object(sobject)
    if not isinstance(body, dict) or "records" not in body:
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be {\"records\": [...]}")
    try:
        flat: list[tuple[str, dict[str, Any], int]] = []
        _flatten(body["records"], top.name, 1, flat)
        if len(flat) > TREE_LIMIT:
            raise _TreeError(flat[TREE_LIMIT][0], ApiError(400, "INVALID_INPUT", f"A request can create at most "
                                                                                 f"{TREE_LIMIT} records."))
        references = [reference for reference, _record, _depth in flat]
        repeated = [r for r in references if references.count(r) > 1]
        if repeated:  # "results contains one item for each instance of the duplicate ID" (SObject Tree Response Body)
            return 400, {"hasErrors": True, "results": [
                {"referenceId": r, "errors": [ApiError(400, "INVALID_INPUT", f"Duplicate ReferenceId provided in "
                                                                            f"the request: {r}").collection_entry()]}
                for r in repeated]}
    except _TreeError as exc:
        return 400, {"hasErrors": True, "results": [{"referenceId": exc.reference,
                                                     "errors": [exc.error.collection_entry()]}]}
    mark = state.savepoint()
    results: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    types: set[str] = set()

    def create(records: list[dict[str, Any]], obj: Any, parent: tuple[str, str] | None,
               below: list[tuple[list[dict[str, Any]], Any, tuple[str, str] | None]]) -> None:
        for record in records:
            attributes = record["attributes"]
            reference = attributes["referenceId"]
            declared = attributes.get("type") or obj.name
            try:
                if declared.lower() != obj.name.lower():
                    raise ApiError(400, "INVALID_TYPE", f"The type {declared} doesn't match the type {obj.name} of "
                                                        f"the relationship it is in", [])
                types.add(obj.name)
                if len(types) > MAX_TYPES:
                    raise ApiError(400, "INVALID_INPUT", f"A request can create records of at most {MAX_TYPES} "
                                                         f"object types.", [])
                values: dict[str, Any] = {}
                children: list[tuple[Any, Any, list[dict[str, Any]]]] = []
                for key, value in record.items():
                    if key == "attributes":
                        continue
                    if isinstance(value, dict) and "records" in value:
                        relation = obj.child_relationship(key)
                        if relation is None:
                            raise ApiError(400, "INVALID_FIELD", f"No such column '{key}' on entity '{obj.name}'. "
                                           f"If you are attempting to use a custom field, be sure to append the "
                                           f"'__c' after the custom field name.", [key])
                        children.append((relation, state.object(relation.childSObject), value["records"]))
                        continue
                    if key.lower() == "id":
                        raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: "
                                       "Id. Please check the security settings of this field and verify that it "
                                       "is read/write for your profile or permission set.", ["Id"])
                    values[key] = value
                if parent is not None:
                    values[parent[0]] = parent[1]
                record_id = state._insert(obj, values, user_id=user_id)
            except ApiError as exc:
                failures.append({"referenceId": reference, "errors": [exc.collection_entry()]})
                continue
            results.append({"referenceId": reference, "id": record_id})
            below.extend((child_records, child_obj, (relation.field, record_id))
                         for relation, child_obj, child_records in children)

    # Level by level, as the guide's example results list them: every top-level record, then their children…
    level: list[tuple[list[dict[str, Any]], Any, tuple[str, str] | None]] = [(body["records"], top, None)]
    while level:
        below: list[tuple[list[dict[str, Any]], Any, tuple[str, str] | None]] = []
        for records, obj, parent in level:
            create(records, obj, parent, below)
        level = below
    if failures:
        state.rollback(mark)
        return 400, {"hasErrors": True, "results": failures}
    return 201, {"hasErrors": False, "results": results}
