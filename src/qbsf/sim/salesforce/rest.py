"""``/services/data/…``: one dispatcher shared by HTTP requests and ``/composite`` subrequests.

:meth:`RestApi.dispatch` takes a method, a path below ``/services/data/``, query parameters, headers and a decoded
JSON body, and returns a :class:`Reply`. Faults, latency, API counting and authentication happen in the HTTP layer
(``app.py``), so a composite request costs one API call, as in Salesforce.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

from qbsf.sim.salesforce.bulk import BulkIngest
from qbsf.sim.salesforce.columns import query_columns
from qbsf.sim.salesforce.ids import ORG_ID, make_id, to18
from qbsf.sim.salesforce.schema import ObjectDef
from qbsf.sim.salesforce.settings import SUPPORTED_VERSIONS, release_label
from qbsf.sim.salesforce.soql import Engine, format_query_error, parse
from qbsf.sim.salesforce.state import SalesforceState
from qbsf.sim.salesforce.tree import create_tree
from qbsf.sim.salesforce.values import ApiError, format_datetime, parse_datetime

log = logging.getLogger(__name__)
COLLECTION_LIMIT = 200
COMPOSITE_LIMIT = 25
COMPOSITE_HEAVY_LIMIT = 5  # collections and queries among them (see composite())
DEFAULT_BATCH = 2000
CURSOR_IDLE_SECONDS = 15 * 60
_VERSION = re.compile(r"^v(\d{2,3}\.\d)$")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)\.([^}]+)\}")
_ROLLED_BACK = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                "message": "Record rolled back because not all records were valid and the request was using "
                           "AllOrNone header", "fields": []}
_LIMIT_NAMES = ("DailyBulkApiBatches", "DailyAsyncApexExecutions", "DataStorageMB", "FileStorageMB",
                "HourlyTimeBasedWorkflow", "SingleEmail")


def _heavy(url: str) -> bool:
    """A composite subrequest counted among the 5 collections or queries: query, queryAll, composite/sobjects."""
    resource = re.sub(r"^/?services/data/v[\d.]+/", "", url).lstrip("/")
    return resource.split("?", 1)[0].split("/", 1)[0] in ("query", "queryAll") or resource.startswith(
        "composite/sobjects")


@dataclass
class Reply:
    """A REST response before it becomes HTTP: status, JSON body (None → no body) and extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # a non-JSON body (Bulk API 2.0 CSV results), sent as ``media_type``
    media_type: str = "text/csv"


def error_reply(exc: ApiError) -> Reply:
    """The REST error array (a 300 for several external-id matches lists their URLs instead)."""
    if exc.status == 300:
        return Reply(300, exc.fields or [])
    return Reply(exc.status, [exc.entry()])


class RestApi:
    """The data API over one :class:`SalesforceState`."""

    def __init__(self, state: SalesforceState) -> None:
        self.state = state
        self.bulk = BulkIngest(self)

    # ---- entry -------------------------------------------------------------------------------------------------
    def dispatch(self, method: str, path: str, params: dict[str, str], headers: dict[str, str], body: Any,
                 user_id: str, *, base_url: str = "", raw: str | None = None) -> Reply:
        """Route one request (``path`` is below ``/services/data/``, no query string) under the state lock.

        ``base_url`` is the instance URL the request came in on (absolute links such as ``identity`` use it);
        ``raw`` is the request body's text, where a JSON_PARSER_ERROR says the bad value sits.
        """
        with self.state.lock:
            try:
                with self.state.batch():
                    try:
                        return self._route(method.upper(), path, params,
                                           {k.lower(): v for k, v in headers.items()}, body, user_id, base_url)
                    except ApiError as exc:
                        if exc.bad_value is not None and raw:
                            exc.message += _locate(raw, *exc.bad_value)
                        return error_reply(exc)
            except Exception:  # an emulator bug: roll back (batch did) and answer as Salesforce does, not a traceback
                log.exception("emulator error on %s %s", method, path)
                return Reply(500, [{"message": "An unexpected error occurred. Please include this ErrorId if you "
                                               "contact support: qbsf-emulator", "errorCode": "UNKNOWN_EXCEPTION"}])

    def _route(self, method: str, path: str, params: dict[str, str], headers: dict[str, str], body: Any,
               user_id: str, base_url: str = "") -> Reply:
        parts = [unquote(p) for p in path.strip("/").split("/")] if path.strip("/") else []
        if not parts:
            return Reply(200, self.versions())
        match = _VERSION.match(parts[0])
        if match is None or match.group(1) not in SUPPORTED_VERSIONS:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        version = match.group(1)
        rest = parts[1:]
        ctx = _Context(version, headers, user_id, base_url)
        if not rest:
            return self._only(method, "GET", lambda: Reply(200, self.resources(version, base_url, user_id)))
        head = rest[0]
        if head == "limits" and len(rest) == 1:
            return self._only(method, "GET", lambda: Reply(200, self.limits()))
        if head == "sobjects":
            return self._sobjects(method, rest[1:], params, body, ctx)
        if head in ("query", "queryAll"):
            return self._only(method, "GET", lambda: self.query(head == "queryAll", rest[1:], params, ctx))
        if head == "jobs" and len(rest) >= 2 and rest[1] == "ingest":
            return self.bulk.route(method, rest[2:], body, version, user_id)
        if head == "composite":
            if len(rest) == 1:
                return self._only(method, "POST", lambda: self.composite(body, ctx))
            if rest[1] == "sobjects":
                return self.collections(method, rest[2:], params, body, ctx)
            if rest[1] == "tree" and len(rest) == 3:
                return self._only(method, "POST", lambda: Reply(*create_tree(self, rest[2], body, user_id)))
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    @staticmethod
    def _only(method: str, allowed: str, handler: Any) -> Reply:
        if method != allowed:
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}")
        return handler()

    # ---- discovery ---------------------------------------------------------------------------------------------
    @staticmethod
    def versions() -> list[dict[str, str]]:
        """GET /services/data/."""
        return [{"label": release_label(v), "url": f"/services/data/v{v}", "version": v} for v in SUPPORTED_VERSIONS]

    @staticmethod
    def resources(version: str, base_url: str = "", user_id: str = "") -> dict[str, str]:
        """GET /services/data/vXX.X/: the resources this version serves, and the caller's ``identity`` URL.

        Salesforce lists ``identity`` as an absolute URL of the identity service for the logged-in user
        (REST API Developer Guide, "Resources by Version"); jsforce's ``identity()`` reads it from here.
        """
        base = f"/services/data/v{version}"
        resources = {name: f"{base}/{name}" for name in ("sobjects", "query", "queryAll", "composite", "limits",
                                                                   "jobs")}
        if user_id:
            resources["identity"] = f"{base_url}/id/{ORG_ID}/{user_id}"
        return resources

    def limits(self) -> dict[str, Any]:
        """GET limits: DailyApiRequests reflects the emulator's counter."""
        used = self.state.api_calls
        result: dict[str, Any] = {"DailyApiRequests": {"Max": self.state.daily_api_limit,
                                                       "Remaining": max(0, self.state.daily_api_limit - used)}}
        for name in _LIMIT_NAMES:
            result[name] = {"Max": 5000, "Remaining": 5000}
        # Bulk API 2.0 Limits and Allocations: 15,000 batches a rolling day, shared by Bulk API and 2.0 ingest jobs.
        result["DailyBulkApiBatches"] = {"Max": 15_000, "Remaining": max(0, 15_000 - self.bulk.batches_used)}
        return result

    # ---- sobjects ----------------------------------------------------------------------------------------------
    def _sobjects(self, method: str, rest: list[str], params: dict[str, str], body: Any, ctx: _Context) -> Reply:
        state = self.state
        if not rest:
            return self._only(method, "GET", lambda: Reply(200, {
                "encoding": "UTF-8", "maxBatchSize": 200,
                "sobjects": [o.describe_global(ctx.version) for o in state.schema.objects.values()]}))
        obj = state.object(rest[0])
        if len(rest) == 1:
            if method == "POST":
                return self.create(obj, body, ctx)
            return self._only(method, "GET", lambda: Reply(200, {
                "objectDescribe": obj.describe_global(ctx.version), "recentItems": []}))
        second = rest[1]
        if len(rest) == 2 and second == "describe":
            return self._only(method, "GET", lambda: Reply(200, obj.describe(ctx.version)))
        if len(rest) == 2 and second in ("updated", "deleted"):
            return self._only(method, "GET", lambda: self.changes(obj, second, params))
        if len(rest) == 2:
            return self.row(method, obj, second, params, body, ctx)
        if len(rest) == 3:
            return self.by_external_id(method, obj, second, rest[2], params, body, ctx)
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    def record_out(self, obj: ObjectDef, record: dict[str, Any], version: str,
                   fields: list[str] | None = None) -> dict[str, Any]:
        """A stored record as the REST API returns it: ``attributes`` first, then every (or the chosen) field."""
        out: dict[str, Any] = {"attributes": {"type": obj.name,
                                              "url": f"/services/data/v{version}/sobjects/{obj.name}/{record['Id']}"}}
        names = [obj.field(f).name if obj.field(f) else f for f in fields] if fields else list(obj.fields)
        for name in names:
            if obj.field(name) is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{obj.name}'. If you are "
                               f"attempting to use a custom field, be sure to append the '__c' after the custom "
                               f"field name.")
            out[name] = record.get(name)
        return out

    def create(self, obj: ObjectDef, body: Any, ctx: _Context) -> Reply:
        """POST sobjects/{O}: 201 ``{"id","success","errors"}``."""
        values = _record_body(body)
        if any(k.lower() == "id" for k in values):
            raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                           "Unable to create/update fields: Id. Please check the security settings of this field "
                           "and verify that it is read/write for your profile or permission set.", ["Id"])
        record_id = self._write(lambda: self.state._insert(obj, values, user_id=ctx.user_id))
        return Reply(201, {"id": record_id, "success": True, "errors": []},
                     {"Location": f"/services/data/v{ctx.version}/sobjects/{obj.name}/{record_id}"})

    def _write(self, action: Any) -> Any:
        """Run one DML operation atomically inside the request's batch."""
        mark = self.state.savepoint()
        try:
            return action()
        except ApiError:
            self.state.rollback(mark)
            raise

    def row(self, method: str, obj: ObjectDef, record_id: str, params: dict[str, str], body: Any,
            ctx: _Context) -> Reply:
        """GET / PATCH / DELETE sobjects/{O}/{id}."""
        full = to18(record_id)
        if full is None:  # not an id at all: Salesforce treats the segment as an unknown resource
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if full[:3] != obj.keyPrefix:
            raise ApiError(400, "MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}")
        if method == "GET":
            record = self.state.raw(obj.name, full)
            if record is None or record.get("IsDeleted"):
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            fields = [f for f in params.get("fields", "").split(",") if f.strip()] or None
            return Reply(200, self.record_out(obj, record, ctx.version, [f.strip() for f in fields or []] or None))
        if method == "PATCH":
            values = _record_body(body)
            self._write(lambda: self.state._update(obj, full, values, user_id=ctx.user_id))
            return Reply(204)
        if method == "DELETE":
            self._write(lambda: self.state._delete(obj, full))
            return Reply(204)
        raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE")

    def by_external_id(self, method: str, obj: ObjectDef, field_name: str, value: str, params: dict[str, str],
                       body: Any, ctx: _Context) -> Reply:
        """sobjects/{O}/{extField}/{value}: GET, DELETE, and PATCH upsert (201 created / 200 updated / 300)."""
        definition = obj.field(field_name)
        if definition is None or not (definition.externalId or definition.idLookup):
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if method in ("GET", "DELETE"):
            matches = self.state.find(obj.name, definition.name, value) if definition.name != "Id" else (
                [to18(value)] if to18(value) and self.state.get(obj.name, value) else [])
            if not matches:
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            if len(matches) > 1:
                raise ApiError(300, "MULTIPLE_CHOICES", "several matches",
                               [f"/services/data/v{ctx.version}/sobjects/{obj.name}/{m}" for m in matches])
            if method == "DELETE":
                self._write(lambda: self.state._delete(obj, matches[0]))
                return Reply(204)
            return Reply(200, self.record_out(obj, self.state.raw(obj.name, matches[0]), ctx.version))
        if method not in ("PATCH", "POST"):
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,"
                           f"DELETE")
        values = _record_body(body)
        update_only = params.get("updateOnly", "false").lower() == "true"
        try:
            record_id, created = self._write(lambda: self.state._upsert(
                obj, definition.name, value, values, update_only=update_only, user_id=ctx.user_id))
        except ApiError as exc:
            if exc.status == 300:  # the state names the matching ids; the REST answer lists their URLs
                raise ApiError(300, "MULTIPLE_CHOICES", exc.message, [
                    f"/services/data/v{ctx.version}/sobjects/{obj.name}/{m}" for m in exc.fields or []]) from None
            raise
        modern = float(ctx.version) >= 46.0
        result: dict[str, Any] = {"id": record_id, "success": True, "errors": []}
        if modern:
            result["created"] = created
        if created:
            return Reply(201, result, {"Location": f"/services/data/v{ctx.version}/sobjects/{obj.name}/{record_id}"})
        return Reply(200, result) if modern else Reply(204)

    def changes(self, obj: ObjectDef, kind: str, params: dict[str, str]) -> Reply:
        """GET sobjects/{O}/updated|deleted?start=&end=: ids changed (or deleted) in the window, seconds ignored."""
        try:
            start = parse_datetime(params["start"]).replace(second=0, microsecond=0)
            end = parse_datetime(params["end"]).replace(second=0, microsecond=0)
        except KeyError as exc:
            raise ApiError(400, "MISSING_ARGUMENT", f"{exc.args[0]} parameter not specified") from None
        except ValueError:
            raise ApiError(400, "INVALID_REPLICATION_DATE", "start and end must be ISO-8601 dateTime values") \
                from None
        now = self.state.clock()
        if start > end:
            raise ApiError(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate")
        if start < now - timedelta(days=30):
            raise ApiError(400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 30 days ago")
        end = min(end, now.replace(second=0, microsecond=0))
        low, high = format_datetime(start), format_datetime(end)
        covered = format_datetime(end)
        table = self.state.table(obj.name)
        if kind == "updated":
            ids = [rid for rid, rec in table.items()
                   if not rec.get("IsDeleted") and low <= rec["SystemModstamp"] < high]
            return Reply(200, {"ids": ids, "latestDateCovered": covered})
        deleted = [{"id": rid, "deletedDate": self.state.deleted_at(rid)} for rid, rec in table.items()
                   if rec.get("IsDeleted") and low <= (self.state.deleted_at(rid) or "") < high]
        earliest = format_datetime(now - timedelta(days=15))
        return Reply(200, {"deletedRecords": deleted, "earliestDateAvailable": earliest,
                           "latestDateCovered": covered})

    # ---- query -------------------------------------------------------------------------------------------------
    def query(self, include_deleted: bool, rest: list[str], params: dict[str, str], ctx: _Context) -> Reply:
        """GET query?q= (or queryAll), and query/{locator}-{offset} for the following pages."""
        batch = DEFAULT_BATCH
        options = ctx.headers.get("sforce-query-options", "")
        match = re.search(r"batchSize\s*=\s*(\d+)", options)
        if match:
            batch = min(2000, max(200, int(match.group(1))))
        resource = "queryAll" if include_deleted else "query"
        now = self.state.clock().timestamp()
        for stale in [k for k, c in self.state.cursors.items() if now - c.last_used > CURSOR_IDLE_SECONDS]:
            del self.state.cursors[stale]  # Salesforce drops cursors idle for 15 minutes
        if rest:
            locator, _, offset_text = rest[0].rpartition("-")
            cursor = self.state.cursors.get(locator)
            if cursor is None or not offset_text.isdigit():
                raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            cursor.last_used = now
            return Reply(200, self._page(cursor, int(offset_text), locator, resource, ctx))
        text = params.get("q")
        if not text:
            raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            query = parse(text, self.state.clock().date())
            if params.get("columns", "").lower() == "true":  # the column metadata, not the rows (see columns.py)
                return Reply(200, query_columns(Engine(self.state, ctx.version), query))
            result = Engine(self.state, ctx.version).run(query, include_deleted=include_deleted)
        except ApiError as exc:
            raise format_query_error(exc, text) from None
        records = result["records"]
        if len(records) <= batch:
            return Reply(200, result)
        self.state._sequence += 1
        locator = make_id("01g", self.state._sequence)
        cursor = QueryCursor(records, batch, now)
        self.state.cursors[locator] = cursor
        return Reply(200, self._page(cursor, 0, locator, resource, ctx))

    def _page(self, cursor: QueryCursor, offset: int, locator: str, resource: str, ctx: _Context) -> dict[str, Any]:
        records, batch = cursor.records, cursor.batch_size  # later pages keep the first call's batch size
        page = records[offset:offset + batch]
        done = offset + batch >= len(records)
        result: dict[str, Any] = {"totalSize": len(records), "done": done}
        if not done:
            result["nextRecordsUrl"] = f"/services/data/v{ctx.version}/{resource}/{locator}-{offset + batch}"
        else:
            self.state.cursors.pop(locator, None)
        result["records"] = page
        return result

    # ---- sObject Collections -----------------------------------------------------------------------------------
    def collections(self, method: str, rest: list[str], params: dict[str, str], body: Any, ctx: _Context,
                    force_all_or_none: bool = False) -> Reply:
        """composite/sobjects: POST create, PATCH update, PATCH …/{O}/{extField} upsert, GET and DELETE by ids."""
        if method in ("GET", "DELETE") or (method == "POST" and len(rest) == 1):
            return self._collection_by_ids(method, rest, params, body, ctx, force_all_or_none)
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise ApiError(400, "JSON_PARSER_ERROR", "the request body must be {\"allOrNone\": …, \"records\": […]}")
        records = body["records"]
        if len(records) > COLLECTION_LIMIT:
            raise ApiError(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than "
                           f"{COLLECTION_LIMIT} records into this call")
        all_or_none = bool(body.get("allOrNone", False)) or force_all_or_none
        upsert_on: tuple[ObjectDef, str] | None = None
        if method == "PATCH" and len(rest) == 2:
            upsert_obj = self.state.object(rest[0])
            ext = upsert_obj.field(rest[1])
            if ext is None or not (ext.externalId or ext.idLookup):
                raise ApiError(400, "INVALID_FIELD", f"Field name provided, {rest[1]} is not an External ID or "
                               f"indexed field for {upsert_obj.name}")
            upsert_on = (upsert_obj, ext.name)
        elif not ((method == "POST" and not rest) or (method == "PATCH" and not rest)):
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        duplicates = _repeated_external_ids(records, upsert_on[1]) if upsert_on else set()
        locked = self.state.take_locked_index(len(records))
        mark = self.state.savepoint()
        results: list[dict[str, Any]] = []
        failed = False
        for index, record in enumerate(records):
            try:
                if index == locked:
                    raise _lock_error()
                if index in duplicates:
                    # The same external id twice in one request: every such record fails with DUPLICATE_VALUE
                    # "Duplicate external id specified: X", as real orgs answer (integrations written against
                    # them tell this apart from DUPLICATE_EXTERNAL_ID, which means several stored records match).
                    raise ApiError(400, "DUPLICATE_VALUE",
                                   f"Duplicate external id specified: {_field_value(record, upsert_on[1])}",
                                   [upsert_on[1]])
                results.append(self._collection_one(method, record, upsert_on, ctx))
            except ApiError as exc:
                failed = True
                if exc.status == 300:  # several stored records hold the external id (SOAP API StatusCode table)
                    exc = ApiError(400, "DUPLICATE_EXTERNAL_ID", f"{exc.message} for this external id: "
                                   f"{', '.join(exc.fields or [])}", [upsert_on[1]] if upsert_on else [])
                results.append({"success": False, "errors": [exc.collection_entry()]})
        if all_or_none and failed:
            self.state.rollback(mark)
            results = [r if not r["success"] else {"id": None, "success": False, "errors": [dict(_ROLLED_BACK)]}
                       for r in results]
        return Reply(200, results)

    def _collection_one(self, method: str, record: Any, upsert_on: tuple[ObjectDef, str] | None,
                        ctx: _Context) -> dict[str, Any]:
        if not isinstance(record, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "each record must be a JSON object")
        attributes = record.get("attributes") or {}
        type_name = attributes.get("type") if isinstance(attributes, dict) else None
        values = {k: v for k, v in record.items() if k != "attributes"}
        if upsert_on is not None:
            obj, ext = upsert_on
            if type_name and type_name.lower() != obj.name.lower():
                raise ApiError(400, "INVALID_TYPE", f"record type {type_name} does not match {obj.name}")
            key = next((k for k in values if k.lower() == ext.lower()), None)
            if key is None:
                raise ApiError(400, "MISSING_ARGUMENT", f"{ext} not specified", [ext])
            ext_value = values.pop(key)
            record_id, created = self._write(lambda: self.state._upsert(obj, ext, ext_value, values,
                                                                        user_id=ctx.user_id))
            return {"id": record_id, "success": True, "errors": [], "created": created}
        if not type_name:
            raise ApiError(400, "INVALID_TYPE", "Must send a concrete entity type.")
        obj = self.state.schema.get(type_name)
        if obj is None:
            raise ApiError(400, "INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
        if method == "POST":
            if any(k.lower() == "id" for k in values):
                raise ApiError(400, "INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
            record_id = self._write(lambda: self.state._insert(obj, values, user_id=ctx.user_id))
            return {"id": record_id, "success": True, "errors": []}
        key = next((k for k in values if k.lower() == "id"), None)
        if key is None or not values[key]:
            raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        record_id = values.pop(key)
        full = self._write(lambda: self.state._update(obj, record_id, values, user_id=ctx.user_id))
        return {"id": full, "success": True, "errors": []}

    def _collection_by_ids(self, method: str, rest: list[str], params: dict[str, str], body: Any, ctx: _Context,
                           force_all_or_none: bool) -> Reply:
        if method == "POST":  # retrieve with a body: {"ids": [...], "fields": [...]}
            if not isinstance(body, dict):
                raise ApiError(400, "JSON_PARSER_ERROR", "the request body must be {\"ids\": […], \"fields\": […]}")
            ids, fields = list(body.get("ids") or []), list(body.get("fields") or [])
        else:
            ids = [i for i in params.get("ids", "").split(",") if i]
            fields = [f for f in params.get("fields", "").split(",") if f]
        if not ids:
            raise ApiError(400, "MISSING_ARGUMENT", "ids parameter not specified")
        if len(ids) > COLLECTION_LIMIT:
            raise ApiError(400, "EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than "
                           f"{COLLECTION_LIMIT} records into this call")
        if method in ("GET", "POST"):
            if not rest:
                raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
            if not fields:
                raise ApiError(400, "MISSING_ARGUMENT", "fields parameter not specified")
            obj = self.state.object(rest[0])
            out = []
            for record_id in ids:
                full = to18(record_id)
                record = self.state.raw(obj.name, full) if full else None
                out.append(None if record is None or record.get("IsDeleted") else
                           self.record_out(obj, record, ctx.version, fields))
            return Reply(200, out)
        all_or_none = params.get("allOrNone", "false").lower() == "true" or force_all_or_none
        locked = self.state.take_locked_index(len(ids))
        mark = self.state.savepoint()
        results: list[dict[str, Any]] = []
        failed = False
        for index, record_id in enumerate(ids):
            try:
                if index == locked:
                    raise _lock_error()
                obj = self.state.which_object(record_id)
                if obj is None or to18(record_id) is None:
                    raise ApiError(400, "MALFORMED_ID", f"malformed id {record_id}", [])
                full = to18(record_id)
                self._write(lambda o=obj, f=full: self.state._delete(o, f))
                results.append({"id": full, "success": True, "errors": []})
            except ApiError as exc:
                failed = True
                results.append({"id": to18(record_id), "success": False, "errors": [exc.collection_entry()]})
        if all_or_none and failed:
            self.state.rollback(mark)
            results = [r if not r["success"] else {**r, "success": False, "errors": [dict(_ROLLED_BACK)]}
                       for r in results]
        return Reply(200, results)

    # ---- composite ---------------------------------------------------------------------------------------------
    def composite(self, body: Any, ctx: _Context) -> Reply:
        """POST composite: up to 25 subrequests, ``@{ref.path}`` references, always 200 at the top level."""
        if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
            raise ApiError(400, "JSON_PARSER_ERROR", "the request body must hold a compositeRequest array")
        subrequests = body["compositeRequest"]
        if len(subrequests) > COMPOSITE_LIMIT:
            raise ApiError(400, "LIMIT_EXCEEDED", f"Composite request limited to {COMPOSITE_LIMIT} subrequests")
        # "You can have up to 25 subrequests in a single call. Up to 5 of these subrequests can be sObject
        # Collections or query operations, including Query and QueryAll requests."
        # https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-composite-post.html
        heavy = sum(1 for sub in subrequests if isinstance(sub, dict) and _heavy(str(sub.get("url", ""))))
        if heavy > COMPOSITE_HEAVY_LIMIT:
            raise ApiError(400, "LIMIT_EXCEEDED", f"Composite request limited to {COMPOSITE_HEAVY_LIMIT} sObject "
                                                  f"Collections or query operations, found {heavy}")
        self.state.composite_heavy += heavy
        all_or_none = bool(body.get("allOrNone", False))
        seen: set[str] = set()
        for sub in subrequests:
            ref = sub.get("referenceId") if isinstance(sub, dict) else None
            if not ref or not isinstance(ref, str) or not re.fullmatch(r"[A-Za-z0-9_]+", ref):
                raise ApiError(400, "INVALID_INPUT", "Each subrequest needs a referenceId of letters, digits, _")
            if ref in seen:
                raise ApiError(400, "DUPLICATE_VALUE", f"Duplicate referenceId: {ref}")
            seen.add(ref)
        mark = self.state.savepoint()
        bodies: dict[str, Any] = {}
        failed_refs: set[str] = set()
        results: list[dict[str, Any]] = []
        halted = False
        for sub in subrequests:
            ref = sub["referenceId"]
            if halted:
                results.append(_halted(ref, "The transaction was rolled back since another operation in the same "
                                            "transaction failed."))
                continue
            try:
                url = _resolve_refs(str(sub.get("url", "")), bodies, failed_refs)
                payload = _resolve_refs(sub.get("body"), bodies, failed_refs)
            except _Unresolved as exc:
                reply = Reply(400, [{"errorCode": "PROCESSING_HALTED",
                                     "message": f"Invalid reference specified. No value for {exc.args[0]} found."}])
            else:
                reply = self._subrequest(str(sub.get("method", "GET")).upper(), url, sub.get("httpHeaders") or {},
                                         payload, ctx, all_or_none)
            ok = reply.status < 400
            if ok:
                bodies[ref] = reply.body
            else:
                failed_refs.add(ref)
            results.append({"body": reply.body, "httpHeaders": reply.headers, "httpStatusCode": reply.status,
                            "referenceId": ref})
            if not ok and all_or_none:
                halted = True
        if halted:
            self.state.rollback(mark)
            for result in results:
                if result["httpStatusCode"] < 400:
                    result.update(_halted(result["referenceId"], "The transaction was rolled back since another "
                                                                 "operation in the same transaction failed."))
        return Reply(200, {"compositeResponse": results})

    def _subrequest(self, method: str, url: str, headers: dict[str, str], body: Any, ctx: _Context,
                    all_or_none: bool) -> Reply:
        path, _, query = url.partition("?")
        prefix = "/services/data/"
        if not path.startswith(prefix):
            return Reply(400, [{"errorCode": "INVALID_INPUT", "message": f"url must start with {prefix}"}])
        params = dict(p.split("=", 1) if "=" in p else (p, "") for p in query.split("&") if p)
        params = {unquote(k): unquote(v.replace("+", " ")) for k, v in params.items()}
        parts = path[len(prefix):].strip("/").split("/")
        if len(parts) >= 2 and parts[1] == "composite" and len(parts) == 2:
            return Reply(400, [{"errorCode": "INVALID_INPUT", "message": "composite cannot be nested"}])
        merged = {**ctx.headers, **{k.lower(): v for k, v in headers.items()}}
        mark = self.state.savepoint()
        try:
            if len(parts) >= 3 and parts[1] == "composite" and parts[2] == "sobjects":
                version_ok = _VERSION.match(parts[0])
                if version_ok is None:
                    raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
                sub_ctx = _Context(version_ok.group(1), merged, ctx.user_id, ctx.base_url)
                return self.collections(method, parts[3:], params, body, sub_ctx, force_all_or_none=all_or_none)
            return self._route(method, path[len(prefix):], params, merged, body, ctx.user_id, ctx.base_url)
        except ApiError as exc:
            self.state.rollback(mark)
            return error_reply(exc)


@dataclass
class QueryCursor:
    """An open query's remaining rows (``query/{locator}-{offset}``)."""

    records: list[dict[str, Any]]
    batch_size: int
    last_used: float


@dataclass
class _Context:
    version: str
    headers: dict[str, str]
    user_id: str
    base_url: str = ""


class _Unresolved(Exception):
    pass


def _halted(ref: str, message: str) -> dict[str, Any]:
    return {"body": [{"errorCode": "PROCESSING_HALTED", "message": message}], "httpHeaders": {},
            "httpStatusCode": 400, "referenceId": ref}


def _walk(value: Any, path: str) -> Any:
    """Follow ``records[0].Id`` / ``id`` / ``Account.Name`` into a subrequest's response body."""
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            index = int(part[1:-1])
            if not isinstance(value, list) or index >= len(value):
                raise KeyError(path)
            value = value[index]
        else:
            if not isinstance(value, dict) or part not in value:
                raise KeyError(path)
            value = value[part]
    return value


def _resolve_refs(value: Any, bodies: dict[str, Any], failed: set[str]) -> Any:
    """Replace every ``@{ref.path}`` in strings (recursively through dicts and lists) by the referenced value."""
    if isinstance(value, dict):
        return {k: _resolve_refs(v, bodies, failed) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_refs(v, bodies, failed) for v in value]
    if not isinstance(value, str) or "@{" not in value:
        return value

    def lookup(ref: str, path: str) -> Any:
        if ref not in bodies:
            raise _Unresolved(f"{ref}.{path}")
        try:
            return _walk(bodies[ref], path)
        except KeyError:
            raise _Unresolved(f"{ref}.{path}") from None

    whole = _REFERENCE.fullmatch(value)
    if whole:
        return lookup(whole.group(1), whole.group(2))  # a lone reference keeps the referenced value's JSON type
    return _REFERENCE.sub(lambda m: str(lookup(m.group(1), m.group(2))), value)


def _locate(raw: str, field_name: str, value: Any) -> str:
    """`` at [line:L, column:C]``: where the JSON parser stood after reading ``field_name``'s bad value (1-based,
    just past the value, as Jackson reports its current location); empty when the value cannot be found."""
    token = "[" if isinstance(value, list) else "{" if isinstance(value, dict) else json.dumps(value)
    match = re.search(rf'"{re.escape(field_name)}"\s*:\s*', raw, re.IGNORECASE)
    if match is None:
        return ""
    end = match.end() + (len(token) if raw.startswith(token, match.end()) else 1)
    line = raw.count("\n", 0, end) + 1
    column = end - (raw.rfind("\n", 0, end) + 1) + 1
    return f" at [line:{line}, column:{column}]"


def _lock_error() -> ApiError:
    return ApiError(400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records", [])


def _field_value(record: Any, field_name: str) -> Any:
    if not isinstance(record, dict):
        return None
    return next((v for k, v in record.items() if k.lower() == field_name.lower()), None)


def _repeated_external_ids(records: list[Any], field_name: str) -> set[int]:
    """Indexes of records whose external id value (case-insensitive) appears more than once in the request."""
    seen: dict[Any, list[int]] = {}
    for index, record in enumerate(records):
        value = _field_value(record, field_name)
        if value not in (None, ""):
            seen.setdefault(value.lower() if isinstance(value, str) else value, []).append(index)
    return {i for indexes in seen.values() if len(indexes) > 1 for i in indexes}


def _record_body(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object of field values")
    return {k: v for k, v in body.items() if k != "attributes"}
