"""``/services/apexrest/…``: the Apex REST resources the qbsf package deploys, served as its Apex classes behave.

Which resources exist comes from the package itself: every ``@RestResource(urlMapping='…')`` in the package's
``classes/*.cls`` (none when the emulated org has no package, ``SalesforceState(package_installed=False)``; a test
emulating an older package clears ``state.apex_resources``). A call counts as one API call, like any other: "Calls to
Apex REST classes count against the organization's API governor limits"
(https://developer.salesforce.com/docs/atlas.en-us.apexcode.meta/apexcode/apex_rest_intro.htm).

A path no class maps answers 404 — "If no wildcard match is found, an HTTP response status code 404 is returned"
(RestResource Annotation, https://developer.salesforce.com/docs/atlas.en-us.apexcode.meta/apexcode/
apex_classes_annotation_rest_resource.htm) — with the body real orgs send, ``NOT_FOUND`` "Could not find a match
for URL" (as clients report it, e.g. restforce/restforce issue 418: "NOT_FOUND: Could not find a match for URL").
A method the class does not serve answers 405 in the words the data API uses for one (not recorded for Apex REST).

``/qbsf/cycle`` (:func:`cycle`) is ``QBSFCycleResource`` (salesforce/force-app/main/default/classes/
QBSFCycleResource.cls); its contract is written there, once, and this is the same behaviour:

- body ``{"heartbeat": {field: value} | null, "close": [{"referenceId", "id", "status", "message"}],
  "reads": [{"referenceId", "soql", "all"}]}``; a body that is not a JSON object is 400 ``JSON_PARSER_ERROR``;
- answer 200 ``{"results": [{"referenceId", "httpStatusCode", "body"}]}``: the heartbeat (upserted by
  ``Connector_Id__c``: 201 created / 200 updated, body ``{id, success, errors, created}``), each close (204, or 400
  with the save errors), then each read: ``{totalSize, done, records}`` with at most :data:`MAX_ROWS` records (the
  class queries ``LIMIT MAX_ROWS + 1``; beyond a page ``done`` is false and ``totalSize`` counts the rows read,
  MAX_ROWS + 1), ``COUNT()`` reads their total with no records, ``"all": true`` reads deleted rows too (ALL ROWS);
- records leave out null fields (Apex serializes only populated fields);
- a read that is not a ``SELECT`` is 400 ``INVALID_QUERY``, one on an unknown object 400 ``INVALID_TYPE``, one the
  query engine refuses 400 ``MALFORMED_QUERY`` (Apex catches every refusal as a QueryException); reads beyond
  :data:`MAX_READS` are 400 ``LIMIT_EXCEEDED``, left for the caller to run on its own. Each fails alone.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from qbsf.sim.salesforce.rest import Reply, RestApi
from qbsf.sim.salesforce.soql import Engine, parse
from qbsf.sim.salesforce.values import ApiError

log = logging.getLogger(__name__)
# QBSFCycleResource.MAX_READS / MAX_ROWS / MAX_CLOSES
MAX_READS = 50
MAX_ROWS = 200
MAX_CLOSES = 100
HEARTBEAT_OBJECT = "QBSF_Heartbeat__c"
REQUEST_OBJECT = "QBSF_Sync_Request__c"
_MAPPING = re.compile(r"@RestResource\s*\(\s*urlMapping\s*=\s*'([^']+)'\s*\)", re.IGNORECASE)
_FROM = re.compile(r"\sFROM\s+([A-Za-z0-9_]+)", re.IGNORECASE)


@lru_cache(maxsize=8)
def deployed_resources(classes: Path | None) -> frozenset[str]:
    """The url mappings of the package's Apex REST classes (``/qbsf/cycle``), read from ``classes/*.cls``."""
    if classes is None or not classes.is_dir():
        return frozenset()
    found: set[str] = set()
    for source in sorted(classes.glob("*.cls")):
        found.update(match.group(1) for match in _MAPPING.finditer(source.read_text(encoding="utf-8")))
    return frozenset(found)


def not_found() -> Reply:
    """What Salesforce answers for an Apex REST path no class maps."""
    return Reply(404, [{"errorCode": "NOT_FOUND", "message": "Could not find a match for URL"}])


def dispatch(api: RestApi, method: str, path: str, body: Any, user_id: str, base_url: str = "") -> Reply:
    """Route one ``/services/apexrest/{path}`` request to the resource the package deploys at ``/{path}``."""
    mapping = "/" + path.strip("/")
    with api.state.lock:
        if mapping not in api.state.apex_resources:
            return not_found()
        if method.upper() != "POST":
            return Reply(405, [{"errorCode": "METHOD_NOT_ALLOWED",
                                "message": f"HTTP Method '{method.upper()}' not allowed. Allowed are POST"}])
        if mapping == "/qbsf/cycle":
            try:
                with api.state.batch():
                    return cycle(api, body, user_id, base_url)
            except Exception:  # an emulator bug: rolled back (batch did), answered as an uncaught Apex exception
                log.exception("emulator error in the Apex resource %s", mapping)
                return Reply(500, [{"errorCode": "APEX_ERROR", "message": "System.UnexpectedException: emulator"}])
    return not_found()


def cycle(api: RestApi, body: Any, user_id: str, base_url: str = "") -> Reply:
    """QBSFCycleResource.cycle(): heartbeat, closes, reads — one result each, every item failing alone."""
    if not isinstance(body, dict):
        return Reply(400, [{"errorCode": "JSON_PARSER_ERROR", "message": "the body must be a JSON object"}])
    results: list[dict[str, Any]] = []
    if isinstance(body.get("heartbeat"), dict):
        results.append(_beat(api, dict(body["heartbeat"]), user_id, base_url))
    closes = body.get("close") if isinstance(body.get("close"), list) else []
    results.extend(_close(api, closes, user_id, base_url))
    reads = body.get("reads") if isinstance(body.get("reads"), list) else []
    for index, item in enumerate(reads):
        read = item if isinstance(item, dict) else {}
        reference = str(read.get("referenceId"))
        if index >= MAX_READS:
            results.append(_failure(reference, 400, "LIMIT_EXCEEDED",
                                    "not run: this call reached its read budget; read it on its own"))
            continue
        api.state.apex_reads += 1
        results.append(_read(api, reference, str(read.get("soql") or ""), read.get("all") is True))
    return Reply(200, {"results": results})


def _version() -> str:
    from qbsf.sim.salesforce.settings import SUPPORTED_VERSIONS

    return max(SUPPORTED_VERSIONS, key=float)


def _result(reference: str, status: int, body: Any) -> dict[str, Any]:
    return {"referenceId": reference, "httpStatusCode": status, "body": body}


def _failure(reference: str, status: int, code: str, message: str) -> dict[str, Any]:
    return _result(reference, status, [{"errorCode": code, "message": message}])


def _save_errors(reply: Reply) -> list[dict[str, Any]]:
    # Database.Error as the class lists it: statusCode name, message, fields
    entries = reply.body if isinstance(reply.body, list) else []
    return [{"errorCode": e.get("errorCode"), "message": e.get("message"), "fields": e.get("fields") or []}
            for e in entries if isinstance(e, dict)]


def _beat(api: RestApi, fields: dict[str, Any], user_id: str, base_url: str) -> dict[str, Any]:
    connector = fields.pop("Connector_Id__c", None)
    if not connector or api.state.schema.get(HEARTBEAT_OBJECT) is None:
        return _failure("heartbeat", 400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Connector_Id__c]")
    reply = api._route("PATCH", f"v{_version()}/sobjects/{HEARTBEAT_OBJECT}/Connector_Id__c/{connector}", {}, {},
                       fields, user_id, base_url)
    if reply.status >= 400:
        return _result("heartbeat", 400, _save_errors(reply))
    return _result("heartbeat", reply.status, {**reply.body, "created": reply.status == 201})


def _close(api: RestApi, items: list[Any], user_id: str, base_url: str) -> list[dict[str, Any]]:
    results = []
    for count, item in enumerate(items):
        closing = item if isinstance(item, dict) else {}
        reference = str(closing.get("referenceId"))
        if count >= MAX_CLOSES:
            results.append(_failure(reference, 400, "LIMIT_EXCEEDED", "closed next call"))
            continue
        record_id = str(closing.get("id") or "")
        if not re.fullmatch(r"[A-Za-z0-9]{15}|[A-Za-z0-9]{18}", record_id):
            results.append(_failure(reference, 400, "MALFORMED_ID", f"Invalid id: {record_id}"))
            continue
        message = closing.get("message")
        values = {"Status__c": closing.get("status"), "Message__c": None if message is None else str(message)[:255]}
        mark = api.state.savepoint()
        try:
            reply = api._route("PATCH", f"v{_version()}/sobjects/{REQUEST_OBJECT}/{record_id}", {}, {}, values,
                               user_id, base_url)
        except ApiError as exc:
            reply = Reply(exc.status, [exc.entry()])
        if reply.status >= 400:
            api.state.rollback(mark)
            results.append(_result(reference, 400, _save_errors(reply)))
        else:
            results.append(_result(reference, 204, None))
    return results


def _read(api: RestApi, reference: str, soql: str, include_deleted: bool) -> dict[str, Any]:
    text = soql.strip()
    if not text.upper().startswith("SELECT "):
        return _failure(reference, 400, "INVALID_QUERY", f"only SELECT reads are run here, not: {text[:80]}")
    found = _FROM.search(_outer(text))
    name = found.group(1) if found else ""
    if not name or api.state.schema.get(name) is None:
        return _failure(reference, 400, "INVALID_TYPE",
                        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be "
                        f"sure to append the '__c' after the entity name.")
    try:
        query = parse(text, api.state.clock().date())
        result = Engine(api.state, _version()).run(query, include_deleted=include_deleted)
    except ApiError as exc:
        return _failure(reference, 400, "MALFORMED_QUERY", exc.message)
    records = result.get("records") or []
    if re.match(r"(?i)SELECT\s+COUNT\(\s*\)\s", text):
        return _result(reference, 200, {"totalSize": int(result.get("totalSize", 0)), "done": True, "records": []})
    read = records[:MAX_ROWS + 1]  # the class's LIMIT MAX_ROWS + 1
    done = len(read) <= MAX_ROWS
    page = [_populated(record) for record in read[:MAX_ROWS]]
    return _result(reference, 200, {"totalSize": len(read), "done": done, "records": page})


def _outer(soql: str) -> str:
    """The query with parenthesised subqueries blanked out (their FROM is not the read's object)."""
    out, depth = [], 0
    for character in soql:
        if character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        out.append(character if depth == 0 and character != ")" else " ")
    return "".join(out)


def _populated(value: Any) -> Any:
    """A record as Apex's JSON.serialize writes it: fields without a value are left out."""
    if isinstance(value, dict):
        return {key: _populated(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_populated(item) for item in value]
    return value


def classes_dir(objects: Path | None) -> Path | None:
    """The package's ``classes`` folder beside its ``objects`` folder."""
    return objects.parent / "classes" if objects is not None else None
