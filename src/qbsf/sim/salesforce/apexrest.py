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
  :data:`MAX_READS`, or beyond the transaction's query rows (:data:`QUERY_ROWS`, each read needing room for
  MAX_ROWS + 1), are 400 ``LIMIT_EXCEEDED``, left for the caller to run on its own. Each fails alone;
- a digest read (``"digest": true``, the class's ``runDigest``) answers ``{totalSize, digest}``: the lowercase hex
  SHA-256 of the lines ``<18-character Id upper-cased>:<SystemModstamp in epoch milliseconds>`` of the rows its
  SOQL selects, sorted and joined by "\\n". It takes at most the rows left in the transaction after MAX_ROWS + 1
  for each read after it (and at most ``state.apex_digest_row_cap``, the class's test-visible ``digestRowCap``);
  a window that fills that room answers 400 ``LIMIT_EXCEEDED``. A digest SOQL with a LIMIT is 400 ``INVALID_QUERY``,
  and so is one that does not select SystemModstamp. The class also refuses a window past a quarter of the heap or
  half the CPU time; the emulator has neither, so only the row budget is emulated.

Rows each read takes from the transaction's 50,000 (as the class's ``Limits.getQueryRows()`` sees them): a read its
rows (at most MAX_ROWS + 1, the class's LIMIT), a ``COUNT()`` one ("For COUNT() or COUNT(fieldname) queries, limits
are counted as one query row", Working with SOQL Aggregate Functions, https://developer.salesforce.com/docs/
atlas.en-us.apexcode.meta/apexcode/langCon_apex_SOQL_agg_fns.htm), a digest its rows.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from qbsf.sim.salesforce.rest import Reply, RestApi
from qbsf.sim.salesforce.soql import Engine, parse
from qbsf.sim.salesforce.values import ApiError, parse_record_datetime

log = logging.getLogger(__name__)
# QBSFCycleResource.MAX_READS / MAX_ROWS / MAX_CLOSES
MAX_READS = 50
MAX_ROWS = 200
MAX_CLOSES = 100
QUERY_ROWS = 50_000  # "Total number of records retrieved by SOQL queries" per synchronous transaction
HEARTBEAT_OBJECT = "QBSF_Heartbeat__c"
REQUEST_OBJECT = "QBSF_Sync_Request__c"
_MAPPING = re.compile(r"@RestResource\s*\(\s*urlMapping\s*=\s*'([^']+)'\s*\)", re.IGNORECASE)
_FROM = re.compile(r"\sFROM\s+([A-Za-z0-9_]+)", re.IGNORECASE)
_TRAILING_LIMIT = re.compile(r"(?i)\sLIMIT\s+(\d+)(\s+OFFSET\s+\d+)?\s*$")  # QBSFCycleResource.TRAILING_LIMIT
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


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
    run = rows = 0  # reads run, query rows taken (the class's Limits.getQueryRows())
    for position, item in enumerate(reads):
        read = item if isinstance(item, dict) else {}
        reference = str(read.get("referenceId"))
        if run >= MAX_READS or rows + MAX_ROWS + 1 > QUERY_ROWS:
            results.append(_failure(reference, 400, "LIMIT_EXCEEDED",
                                    "not run: this call reached its read budget; read it on its own"))
            continue
        run += 1
        api.state.apex_reads += 1
        soql = str(read.get("soql") or "")
        if read.get("digest") is True:
            reads_after = min(len(reads) - position - 1, MAX_READS - run)
            result, taken = _digest(api, reference, soql, reads_after, rows)
        else:
            result, taken = _read(api, reference, soql, read.get("all") is True)
        results.append(result)
        rows += taken
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


def _refusal(api: RestApi, reference: str, text: str) -> dict[str, Any] | None:
    """The class's ``refusal``: why a read is not run (only SELECTs, on an object the org has), or None."""
    if not text.upper().startswith("SELECT "):
        return _failure(reference, 400, "INVALID_QUERY", f"only SELECT reads are run here, not: {text[:80]}")
    found = _FROM.search(_outer(text))
    name = found.group(1) if found else ""
    if not name or api.state.schema.get(name) is None:
        return _failure(reference, 400, "INVALID_TYPE",
                        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be "
                        f"sure to append the '__c' after the entity name.")
    return None


def _read(api: RestApi, reference: str, soql: str, include_deleted: bool) -> tuple[dict[str, Any], int]:
    """One read's result and the query rows it took."""
    text = soql.strip()
    refused = _refusal(api, reference, text)
    if refused is not None:
        return refused, 0
    try:
        query = parse(text, api.state.clock().date())
        result = Engine(api.state, _version()).run(query, include_deleted=include_deleted)
    except ApiError as exc:
        return _failure(reference, 400, "MALFORMED_QUERY", exc.message), 0
    records = result.get("records") or []
    if re.match(r"(?i)SELECT\s+COUNT\(\s*\)\s", text):
        return _result(reference, 200, {"totalSize": int(result.get("totalSize", 0)), "done": True,
                                        "records": []}), 1
    read = records[:MAX_ROWS + 1]  # the class's LIMIT MAX_ROWS + 1
    done = len(read) <= MAX_ROWS
    page = [_populated(record) for record in read[:MAX_ROWS]]
    return _result(reference, 200, {"totalSize": len(read), "done": done, "records": page}), len(read)


def _digest(api: RestApi, reference: str, soql: str, reads_after: int, rows: int) -> tuple[dict[str, Any], int]:
    """The class's ``runDigest``: ``{totalSize, digest}`` of the window the SOQL selects (see the module docstring),
    and the query rows it took."""
    text = soql.strip()
    refused = _refusal(api, reference, text)
    if refused is not None:
        return refused, 0
    if _TRAILING_LIMIT.search(text):
        return _failure(reference, 400, "INVALID_QUERY", "a digest read covers its whole window: no LIMIT"), 0
    room = min(api.state.apex_digest_row_cap, QUERY_ROWS - rows - reads_after * (MAX_ROWS + 1))
    if room < 1:
        return _too_big(reference), 0
    try:
        query = parse(f"{text} LIMIT {room}", api.state.clock().date())
        records = Engine(api.state, _version()).run(query).get("records") or []
    except ApiError as exc:
        return _failure(reference, 400, "MALFORMED_QUERY", exc.message), 0
    if len(records) >= room:
        return _too_big(reference), len(records)
    try:
        # Datetime.getTime(): milliseconds since the epoch
        lines = sorted(f"{str(record['Id']).upper()}:"
                       f"{(parse_record_datetime(record['SystemModstamp']) - _EPOCH) // _MILLISECOND}"
                       for record in records)
    except KeyError:  # a field not queried: Apex's SObjectException
        return _failure(reference, 400, "INVALID_QUERY", "a digest read selects Id and SystemModstamp"), len(records)
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return _result(reference, 200, {"totalSize": len(lines), "digest": digest}), len(records)


def _too_big(reference: str) -> dict[str, Any]:
    return _failure(reference, 400, "LIMIT_EXCEEDED",
                    "the window does not fit this call's row, heap or CPU budget; read it whole")


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
