"""Bulk API 2.0 ingest jobs: ``/services/data/vXX.X/jobs/ingest`` (what ``sf data upsert bulk`` and jsforce's
``bulk2`` drive).

From the Bulk API 2.0 and Bulk API Developer Guide ("Create a Job", "Upload Job Data", "Close or Abort a Job",
"Get Job Info", "Get Job Successful Record Results", "Get Job Failed Record Results", "Get Job Unprocessed Record
Results", "Delete a Job", "Get All Jobs", "Bulk API 2.0 Limits and Allocations"):

- ``POST jobs/ingest`` with ``{object, operation, externalIdFieldName?, contentType: CSV, lineEnding, columnDelimiter}``
  answers 200 with the job info (``state: Open``, ``id`` with key prefix 750, ``contentUrl``);
  ``operation`` is insert, update, upsert, delete or hardDelete (upsert needs ``externalIdFieldName``).
- ``PUT jobs/ingest/{id}/batches`` with ``Content-Type: text/csv`` stores the data (201, no body); only while Open.
- ``PATCH jobs/ingest/{id}`` ``{"state": "UploadComplete"}`` closes it (or ``Aborted`` aborts it) and answers the
  job info in its new state. Salesforce then processes the job in the background; the emulator processes it at
  once, so the next ``GET jobs/ingest/{id}`` already says ``JobComplete`` (or ``Failed`` when no data was
  uploaded, with ``errorMessage``). Polling clients see the same sequence, only faster.
- ``GET …/successfulResults`` is CSV ``"sf__Id","sf__Created",<the uploaded columns>``; ``…/failedResults`` is
  ``"sf__Id","sf__Error",<columns>`` with ``sf__Error`` as ``CODE:message:fields --``; ``…/unprocessedrecords``
  repeats the rows not processed (all of them for an aborted job).
- CSV rules: the header names fields (any case) or relationship columns ``Parent.ExternalIdField`` that set the
  lookup by the parent's external id; an empty value leaves a field unset (unchanged on update), ``#N/A`` sets it
  to null. Each row succeeds or fails alone.
- ``DELETE jobs/ingest/{id}`` (202 in the guide's examples for query jobs; 204 for ingest jobs) removes a job that
  is no longer open or in progress.

- A value the field's type cannot take fails its row with ``INVALID_FIELD:Failed to deserialize field at col N.
  Due to, 'X' is not a valid value for the type xsd:date:Field --`` (as recorded from real Bulk API results).

Choices where the evidence is thin: ``hardDelete`` deletes as ``delete`` does (the emulator keeps no recycle bin
apart from ``IsDeleted``); job records live in memory only, as they do not survive an org's seven-day retention
either; ``Failed`` for an empty upload uses the message "No data was uploaded" (the guide shows the state, not the
text).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from qbsf.sim.salesforce.ids import make_id, to18
from qbsf.sim.salesforce.values import ApiError

OPERATIONS = ("insert", "update", "upsert", "delete", "hardDelete")
DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
NULL_VALUE = "#N/A"
JOB_PREFIX = "750"
BATCH_SIZE = 10_000  # Bulk API 2.0 processes a job in internal batches of 10,000 records


@dataclass
class IngestJob:
    """One Bulk API 2.0 ingest job and what it did."""

    id: str
    object: str
    operation: str
    external_id: str | None
    line_ending: str
    delimiter: str
    version: str
    user_id: str
    created: str
    state: str = "Open"
    modstamp: str = ""
    data: list[str] = field(default_factory=list)  # each uploaded CSV text
    header: list[str] = field(default_factory=list)
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)
    unprocessed: list[list[str]] = field(default_factory=list)
    error_message: str | None = None

    def info(self) -> dict[str, Any]:
        """The job info Salesforce answers (counts once processed)."""
        out: dict[str, Any] = {
            "id": self.id, "operation": self.operation, "object": self.object, "createdById": self.user_id,
            "createdDate": self.created, "systemModstamp": self.modstamp or self.created, "state": self.state,
            "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": float(self.version),
            "jobType": "V2Ingest", "lineEnding": self.line_ending,
            "columnDelimiter": next(k for k, v in DELIMITERS.items() if v == self.delimiter),
        }
        if self.external_id:
            out["externalIdFieldName"] = self.external_id
        if self.state == "Open":
            out["contentUrl"] = f"services/data/v{self.version}/jobs/ingest/{self.id}/batches"
        if self.state in ("JobComplete", "Failed", "Aborted"):
            out.update({"numberRecordsProcessed": len(self.successes) + len(self.failures),
                        "numberRecordsFailed": len(self.failures), "retries": 0, "totalProcessingTime": 0,
                        "apiActiveProcessingTime": 0, "apexProcessingTime": 0})
        if self.error_message:
            out["errorMessage"] = self.error_message
        return out


def _csv_text(header: list[str], rows: list[list[str]], line_ending: str, delimiter: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL,
                        lineterminator="\r\n" if line_ending == "CRLF" else "\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


class BulkIngest:
    """``jobs/ingest`` over the REST dispatcher's state (called with the state lock held)."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.state = api.state
        self.jobs: dict[str, IngestJob] = {}
        self.batches_used = 0  # DailyBulkApiBatches: one per started 10,000 rows of a processed job

    def route(self, method: str, rest: list[str], body: Any, version: str, user_id: str) -> Any:
        """``rest`` is the path after ``jobs/ingest``; returns a :class:`~qbsf.sim.salesforce.rest.Reply`."""
        from qbsf.sim.salesforce.rest import Reply

        if not rest:
            if method == "POST":
                return Reply(200, self.create(body, version, user_id).info())
            if method == "GET":
                return Reply(200, {"done": True, "records": [j.info() for j in self.jobs.values()],
                                   "nextRecordsUrl": None})
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,POST")
        job = self.jobs.get(rest[0]) or self.jobs.get(to18(rest[0]) or "")
        if job is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if len(rest) == 1:
            if method == "GET":
                return Reply(200, job.info())
            if method == "PATCH":
                return Reply(200, self.change_state(job, body))
            if method == "DELETE":
                if job.state in ("Open", "UploadComplete", "InProgress"):
                    raise ApiError(400, "INVALIDJOBSTATE", f"Job {job.id} is not in a state to be deleted: "
                                   f"close or abort it first")
                del self.jobs[job.id]
                return Reply(204)
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,"
                                                      f"DELETE")
        part = rest[1]
        if part == "batches" and len(rest) == 2 and method == "PUT":
            self.upload(job, body)
            return Reply(201)
        results = {"successfulResults": ("sf__Id", "sf__Created", job.successes),
                   "failedResults": ("sf__Id", "sf__Error", job.failures),
                   "unprocessedrecords": (None, None, job.unprocessed)}
        if part in results and len(rest) == 2 and method == "GET":
            if job.state in ("Open", "UploadComplete", "InProgress"):
                raise ApiError(400, "INVALIDJOBSTATE", "Results are available once the job has completed")
            first, second, rows = results[part]
            header = ([first, second] if first else []) + job.header
            return Reply(200, text=_csv_text(header, rows, job.line_ending, job.delimiter))
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")

    # ---- the job's life ----------------------------------------------------------------------------------------
    def create(self, body: Any, version: str, user_id: str) -> IngestJob:
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be a JSON object describing the job")
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise ApiError(400, "INVALIDJOB", f"InvalidJob : Invalid operation: {operation}; use one of "
                           f"{', '.join(OPERATIONS)}")
        obj = self.state.schema.get(str(body.get("object") or ""))
        if obj is None:
            raise ApiError(400, "INVALIDJOB", f"InvalidJob : Invalid object: {body.get('object')}")
        external = body.get("externalIdFieldName")
        if operation == "upsert":
            definition = obj.field(str(external or ""))
            if definition is None or not (definition.externalId or definition.idLookup):
                raise ApiError(400, "INVALIDJOB", f"InvalidJob : External ID was blank or not an external id field "
                               f"of {obj.name}: {external}")
            external = definition.name
        if str(body.get("contentType", "CSV")).upper() != "CSV":
            raise ApiError(400, "INVALIDJOB", "InvalidJob : contentType must be CSV")
        delimiter = DELIMITERS.get(str(body.get("columnDelimiter", "COMMA")).upper())
        line_ending = str(body.get("lineEnding", "LF")).upper()
        if delimiter is None or line_ending not in ("LF", "CRLF"):
            raise ApiError(400, "INVALIDJOB", "InvalidJob : columnDelimiter or lineEnding is not supported")
        self.state._sequence += 1
        job = IngestJob(make_id(JOB_PREFIX, self.state._sequence), obj.name, operation,
                        external if operation == "upsert" else None, line_ending, delimiter, version, user_id,
                        self.state.now())
        self.jobs[job.id] = job
        return job

    def upload(self, job: IngestJob, body: Any) -> None:
        if job.state != "Open":
            raise ApiError(409, "INVALIDJOBSTATE", f"Job {job.id} is {job.state}: data can be uploaded only while "
                           f"it is Open")
        if not isinstance(body, str) or not body.strip():
            raise ApiError(400, "INVALIDBATCH", "InvalidBatch : the upload must be CSV with Content-Type text/csv")
        job.data.append(body)

    def change_state(self, job: IngestJob, body: Any) -> dict[str, Any]:
        """Close (UploadComplete: processed at once) or abort a job; answers the job info as the call saw it."""
        wanted = body.get("state") if isinstance(body, dict) else None
        if wanted not in ("UploadComplete", "Aborted"):
            raise ApiError(400, "INVALIDJOBSTATE", f"state must be UploadComplete or Aborted, not {wanted}")
        if job.state != "Open" and not (wanted == "Aborted" and job.state in ("UploadComplete", "InProgress")):
            raise ApiError(409, "INVALIDJOBSTATE", f"Job {job.id} is {job.state}: it can no longer become {wanted}")
        job.modstamp = self.state.now()
        if wanted == "Aborted":
            job.state = "Aborted"
            try:
                job.header, job.unprocessed = self._rows(job)
            except ApiError:
                job.unprocessed = []
            return job.info()
        job.state = "UploadComplete"
        answer = job.info()  # the close call answers UploadComplete; processing follows
        self._process(job)
        return answer

    # ---- processing --------------------------------------------------------------------------------------------
    def _rows(self, job: IngestJob) -> tuple[list[str], list[list[str]]]:
        header: list[str] = []
        rows: list[list[str]] = []
        for text in job.data:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=job.delimiter)
            chunk = [row for row in reader if row]
            if not chunk:
                continue
            if header and [h.strip() for h in chunk[0]] != header:
                raise ApiError(400, "INVALIDBATCH", "InvalidBatch : every upload of a job must have the same header")
            header = [h.strip() for h in chunk[0]]
            rows += chunk[1:]
        return header, rows

    def _process(self, job: IngestJob) -> None:
        try:
            job.header, rows = self._rows(job)
        except ApiError as exc:
            job.state, job.error_message = "Failed", exc.message
            return
        if not job.header:
            job.state, job.error_message = "Failed", "InvalidBatch : No data was uploaded"
            return
        obj = self.state.schema.objects[job.object]
        columns = [self._column(obj, name) for name in job.header]
        unknown = [job.header[i] for i, c in enumerate(columns) if c is None]
        if unknown:
            job.state = "Failed"
            job.error_message = f"InvalidBatch : Field name not found : {unknown[0]}"
            job.unprocessed = rows
            return
        repeated = self._repeated_keys(job, columns, rows)
        self.batches_used += max(1, -(-len(rows) // BATCH_SIZE))
        for index, row in enumerate(rows):
            row = row + [""] * (len(columns) - len(row))
            mark = self.state.savepoint()
            try:
                if index in repeated:  # as in sObject Collections: every row sharing the key fails
                    raise ApiError(400, "DUPLICATE_VALUE", f"Duplicate external id specified: {repeated[index]}",
                                   [job.external_id or ""])
                record_id, created = self._one(job, obj, columns, row)
            except ApiError as exc:
                self.state.rollback(mark)
                if exc.bad_value is not None:
                    exc = self._csv_type_error(obj, job.header, *exc.bad_value)
                fields = ",".join(exc.fields or [])
                job.failures.append([self._row_id(job, columns, row), f"{exc.error_code}:{exc.message}:{fields} --",
                                     *row])
            else:
                job.successes.append([record_id, "true" if created else "false", *row])
        job.state = "JobComplete"
        job.modstamp = self.state.now()

    @staticmethod
    def _csv_type_error(obj: Any, header: list[str], field_name: str, value: Any) -> ApiError:
        """A CSV value the field's type cannot take, as Bulk API results report it (recorded: ``INVALID_FIELD:Failed
        to deserialize field at col 4. Due to, '6/15/19' is not a valid value for the type xsd:date:Trip_End_Date__c
        --``)."""
        column = next((i for i, name in enumerate(header, start=1) if name.lower() == field_name.lower()), 0)
        definition = obj.field(field_name)
        soap_type = definition.describe()["soapType"] if definition is not None else "xsd:string"
        return ApiError(400, "INVALID_FIELD", f"Failed to deserialize field at col {column}. Due to, '{value}' is "
                        f"not a valid value for the type {soap_type}", [field_name])

    @staticmethod
    def _repeated_keys(job: IngestJob, columns: list[Any], rows: list[list[str]]) -> dict[int, str]:
        """Upsert rows whose external id value (case-insensitive) appears on more than one row: index → value."""
        if job.operation != "upsert":
            return {}
        at = next((i for i, (kind, spec) in enumerate(columns) if kind == "field" and spec.name == job.external_id),
                  None)
        if at is None:
            return {}
        seen: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            value = row[at] if at < len(row) else ""
            if value not in ("", NULL_VALUE):
                seen.setdefault(value.lower(), []).append(index)
        return {i: rows[i][at] for indexes in seen.values() if len(indexes) > 1 for i in indexes}

    @staticmethod
    def _column(obj: Any, name: str) -> tuple[str, Any] | None:
        """("field", FieldDef) or ("lookup", (reference FieldDef, parent external-id field name)) or None."""
        if "." in name:
            relationship, _, parent_field = name.partition(".")
            reference = obj.parent_field(relationship)
            return ("lookup", (reference, parent_field)) if reference is not None else None
        definition = obj.field(name)
        return ("field", definition) if definition is not None else None

    @staticmethod
    def _row_id(job: IngestJob, columns: list[Any], row: list[str]) -> str:
        for (kind, spec), value in zip(columns, row, strict=False):
            if kind == "field" and spec.name == "Id" and job.operation in ("update", "delete", "hardDelete"):
                return to18(value) or ""
        return ""

    def _values(self, obj: Any, columns: list[Any], row: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for (kind, spec), raw in zip(columns, row, strict=False):
            if raw == "":
                continue  # an empty value leaves the field as it is
            value = None if raw == NULL_VALUE else raw
            if kind == "field":
                values[spec.name] = value
                continue
            reference, parent_field = spec
            if value is None:
                values[reference.name] = None
                continue
            parent_obj = self.state.schema.get(reference.referenceTo[0])
            matches = self.state.find(parent_obj.name, parent_field, value)
            if len(matches) != 1:
                raise ApiError(400, "INVALID_FIELD", f"Foreign key external ID: {value} not found for field "
                               f"{parent_field} in entity {parent_obj.name}", [reference.name])
            values[reference.name] = matches[0]
        return values

    def _one(self, job: IngestJob, obj: Any, columns: list[Any], row: list[str]) -> tuple[str, bool]:
        values = self._values(obj, columns, row)
        state = self.state
        if job.operation == "insert":
            if "Id" in values:
                raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: Id. Please "
                               "check the security settings of this field and verify that it is read/write for your "
                               "profile or permission set.", ["Id"])
            return state._insert(obj, values, user_id=job.user_id), True
        if job.operation == "upsert":
            key = values.pop(job.external_id, None)
            if key in (None, ""):
                raise ApiError(400, "MISSING_ARGUMENT", f"{job.external_id} not specified", [job.external_id])
            try:
                return state._upsert(obj, job.external_id, key, values, user_id=job.user_id)
            except ApiError as exc:
                if exc.status != 300:
                    raise
                raise ApiError(400, "DUPLICATE_EXTERNAL_ID", f"{job.external_id} = {key} matches "
                               f"{len(exc.fields or [])} records: {', '.join(exc.fields or [])}",
                               [job.external_id]) from None
        record_id = values.pop("Id", None)
        if not record_id:
            raise ApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
        if job.operation == "update":
            return state._update(obj, record_id, values, user_id=job.user_id), False
        state._delete(obj, record_id)
        return to18(record_id) or record_id, False
