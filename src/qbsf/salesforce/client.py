"""qbsf's Salesforce REST client: few calls, typed errors, bounded retries, API usage tracked.

Reads follow every ``nextRecordsUrl``; writes go 200 records a call through sObject Collections with
``allOrNone=false`` and come back as one :class:`RecordResult` per input record, in input order. Every call has a
timeout, carries ``Sforce-Call-Options: client=qbsf`` (so qbsf's own changes can be told apart), updates
:attr:`SalesforceClient.api_usage` from ``Sforce-Limit-Info`` and counts in :attr:`SalesforceClient.calls`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote as urlquote
from urllib.parse import urlencode

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from qbsf.errors import NeedsUser, QbsfError, Retriable, Skippable
from qbsf.salesforce.auth import Auth, Token, require_https
from qbsf.salesforce.errors import (
    ApiLimitExceeded,
    AuthError,
    SalesforceError,
    SalesforceNeedsUser,
    SalesforceRetriable,
    classify,
    from_error_item,
    from_response_body,
)

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "62.0"
COLLECTION_LIMIT = 200  # sObject Collections: at most 200 records per request
COMPOSITE_LIMIT = 25  # composite: at most 25 subrequests per request
# ... of which at most 5 may be sObject Collections or query operations (Query, QueryAll): "You can have up to 25
# subrequests in a single call. Up to 5 of these subrequests can be sObject Collections or query operations"
# (https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-composite-post.html).
COMPOSITE_HEAVY_LIMIT = 5
CALL_OPTIONS = "client=qbsf"
USAGE_WARNING = 0.9  # share of the daily API allocation at which qbsf warns once
UNCERTAIN_STATUSES = (500, 502, 504)  # the server may have acted before failing: never blindly resend a create
_LIMIT_INFO = re.compile(r"api-usage=(\d+)/(\d+)")
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)[.\[]")


@dataclass(frozen=True)
class ApiUsage:
    """The org's API usage from the last ``Sforce-Limit-Info`` header: ``used`` of ``limit`` in the last 24 h."""

    used: int
    limit: int

    @property
    def remaining(self) -> int:
        """Calls left in the allocation."""
        return max(self.limit - self.used, 0)

    @property
    def fraction(self) -> float:
        """Share of the allocation used (0–1)."""
        return self.used / self.limit if self.limit else 1.0


@dataclass
class RecordResult:
    """The outcome for one input record: its position, Id, whether it was created, and typed errors."""

    index: int
    success: bool
    id: str | None = None
    created: bool | None = None
    errors: list[SalesforceError] = field(default_factory=list)

    @property
    def error(self) -> SalesforceError | None:
        """The first error (what the sync engine acts on), or None on success."""
        return self.errors[0] if self.errors else None


@dataclass
class CompositeResult:
    """One composite subrequest's outcome: referenceId, HTTP status, body, and a typed error when it failed."""

    reference_id: str
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True for a 2xx subrequest."""
        return 200 <= self.status < 300

    @property
    def error(self) -> SalesforceError | None:
        """The subrequest's error, classified, or None."""
        return None if self.ok else from_response_body(self.body, self.status)


@dataclass(frozen=True)
class ChangedWindow:
    """``sobjects/X/updated``: the Ids changed in the window and how far Salesforce's answer covers."""

    ids: list[str]
    latest_date_covered: str | None


@dataclass(frozen=True)
class DeletedWindow:
    """``sobjects/X/deleted``: ``[{"id", "deletedDate"}]`` and the window Salesforce covered."""

    records: list[dict[str, str]]
    earliest_date_available: str | None
    latest_date_covered: str | None


def _retriable(exc: BaseException) -> bool:
    return isinstance(exc, Retriable)


def _sf_datetime(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise QbsfError(f"naive datetime {value.isoformat()} for a change window",
                        hint="pass a timezone-aware datetime (UTC)")
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _chunks(items: Sequence[Any], size: int) -> Iterator[tuple[int, Sequence[Any]]]:
    for start in range(0, len(items), size):
        yield start, items[start:start + size]


_VERSIONED = re.compile(r"^/?services/data/v[\d.]+/")


def is_heavy_subrequest(url: str) -> bool:
    """True for a composite subrequest Salesforce counts among its 5 collections or queries per call."""
    resource = _VERSIONED.sub("", url).lstrip("/")
    return resource.split("?", 1)[0].split("/", 1)[0] in ("query", "queryAll") or resource.startswith(
        "composite/sobjects")


def _composite_calls(subrequests: Sequence[dict[str, Any]]) -> Iterator[tuple[int, Sequence[dict[str, Any]]]]:
    """Subrequests in order, cut into calls of at most 25, of which at most 5 collections or queries."""
    start, heavy = 0, 0
    for index, sub in enumerate(subrequests):
        weight = 1 if is_heavy_subrequest(str(sub["url"])) else 0
        if index - start == COMPOSITE_LIMIT or heavy + weight > COMPOSITE_HEAVY_LIMIT:
            yield start, subrequests[start:index]
            start, heavy = index, 0
        heavy += weight
    if start < len(subrequests):
        yield start, subrequests[start:]


@functools.lru_cache(maxsize=8)
def tls_context(verify: bool | str = True) -> ssl.SSLContext:
    """The process's TLS context for ``verify`` (True, False or a CA bundle's path), built once and shared.

    Building one reads the whole CA bundle (≈25 ms of a core); a hosted worker builds a client for every company
    whose sync moves to it, so each built its own context again. An SSLContext is safe to share between clients
    and threads (https://docs.python.org/3/library/ssl.html#ssl-contexts)."""
    return httpx.create_ssl_context(verify=verify)


class SalesforceClient:
    """A Salesforce REST API client for one org.

    ``instance_url`` may be None to use the instance the login returns. ``retries`` bounds attempts per call
    (including the first); backoff is jittered exponential between ``backoff`` and ``backoff_max`` seconds.
    """

    def __init__(self, instance_url: str | None, auth: Auth, *, api_version: str = DEFAULT_API_VERSION,
                 timeout: float = 30.0, retries: int = 5, backoff: float = 0.5, backoff_max: float = 20.0,
                 retry_deadline: float = 120.0, verify: bool | str = True,
                 transport: httpx.BaseTransport | None = None, limit_pause: float = 900.0) -> None:
        """Create a client; nothing is sent until the first call."""
        if not re.fullmatch(r"\d{2}\.0", api_version):
            raise QbsfError(f"API version {api_version!r} is not like '62.0'", hint="set salesforce.api_version")
        if instance_url:
            require_https(instance_url, "salesforce.instance_url")
        self.instance_url = instance_url.rstrip("/") if instance_url else None
        self.auth = auth
        self.api_version = api_version
        self.retries = max(1, retries)
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.retry_deadline = retry_deadline
        self.http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                 verify=tls_context(verify) if transport is None else verify,
                                 transport=transport, headers={"Accept": "application/json",
                                                               "Sforce-Call-Options": CALL_OPTIONS})
        self.calls = 0
        self.retried = 0
        self.api_usage: ApiUsage | None = None
        self._usage_warned = False
        self.limit_pause = limit_pause
        self.paused_until = 0.0  # time.time() before which no call is sent (after REQUEST_LIMIT_EXCEEDED)
        self._describe_cache: dict[str, dict[str, Any]] = {}

    # ---- plumbing ----------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()

    def __enter__(self) -> SalesforceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_path(self) -> str:
        """``/services/data/vXX.X`` for this client's API version."""
        return f"/services/data/v{self.api_version}"

    def _url(self, path: str, instance_url: str) -> str:
        if path.startswith(("https://", "http://")):
            if not path.startswith(instance_url + "/"):
                # the bearer token goes with every request: never to a host the org did not name
                raise QbsfError(f"refusing to send the Salesforce token to {path.split('?')[0]}",
                                hint=f"only URLs on {instance_url} are called")
            return path
        if not path.startswith("/services/"):
            path = f"{self.base_path}/{path.lstrip('/')}"
        return instance_url + path

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                headers: Mapping[str, str] | None = None, idempotent: bool = True,
                sobject: str | None = None) -> httpx.Response:
        """Send one API call with auth, retries and error classification; returns the 2xx/300 response.

        ``path`` is relative to ``/services/data/vXX.X`` unless it starts with ``/services/``. Non-``idempotent``
        calls (creates) are retried only when the request cannot have reached Salesforce.
        """
        retrying = Retrying(
            stop=stop_after_attempt(self.retries) | stop_after_delay(self.retry_deadline),
            wait=wait_random_exponential(multiplier=self.backoff, max=self.backoff_max),
            retry=retry_if_exception(_retriable), reraise=True, before_sleep=self._log_retry(method, path))
        return retrying(self._send, method, path, params, json, headers, idempotent, sobject)

    def _log_retry(self, method: str, path: str) -> Any:
        def before_sleep(state: RetryCallState) -> None:
            self.retried += 1
            exc = state.outcome.exception() if state.outcome else None
            log.warning("Salesforce %s %s failed (%s); retry %d in %.2fs", method, path.split("?")[0],
                        getattr(exc, "error_code", type(exc).__name__), state.attempt_number,
                        state.next_action.sleep if state.next_action else 0.0)
        return before_sleep

    def _send(self, method: str, path: str, params: Mapping[str, Any] | None, json: Any,
              headers: Mapping[str, str] | None, idempotent: bool, sobject: str | None) -> httpx.Response:
        if time.time() < self.paused_until:
            # the allocation is spent: a call now would only fail, so fail here without spending a request
            resume = dt.datetime.fromtimestamp(self.paused_until, dt.UTC).strftime("%H:%M UTC")
            raise ApiLimitExceeded(f"Salesforce calls are paused until {resume}: the org's API allocation is used up",
                                   error_code="REQUEST_LIMIT_EXCEEDED", sobject=sobject,
                                   hint="wait, raise the allocation in Salesforce Setup, or sync less often")
        token = self.auth.token(self.http)
        response = self._send_once(token, method, path, params, json, headers, idempotent, sobject)
        if response.status_code == 401:
            # the session expired or was revoked: renew once, then retry; a second 401 is the user's to fix
            log.info("Salesforce session rejected; renewing the token once")
            token = self.auth.renew(self.http, rejected=token)
            response = self._send_once(token, method, path, params, json, headers, idempotent, sobject)
            if response.status_code == 401:
                error = from_response_body(_body(response), 401, sobject=sobject)
                raise AuthError(error.sf_message, error_code=error.error_code, status=401,
                                hint="the new token was rejected too: check the integration user is active and "
                                     "the connected app's policies, then `qbsf salesforce connect`")
        if response.status_code >= 400:
            error = from_response_body(_body(response), response.status_code, sobject=sobject)
            if isinstance(error, ApiLimitExceeded):
                self.paused_until = time.time() + self.limit_pause
                log.warning("Salesforce API allocation used up; pausing Salesforce calls for %.0f minutes",
                            self.limit_pause / 60)
            if not idempotent and response.status_code in UNCERTAIN_STATUSES:
                # a gateway or server error after the request arrived: the create may have happened
                raise SalesforceNeedsUser(error.sf_message, error_code=error.error_code, status=error.status,
                                          sobject=sobject, hint="the records may have been created; qbsf re-reads "
                                                                "by external id before creating again") from error
            raise error
        return response

    def _send_once(self, token: Token, method: str, path: str, params: Mapping[str, Any] | None, json: Any,
                   headers: Mapping[str, str] | None, idempotent: bool, sobject: str | None) -> httpx.Response:
        instance = self.instance_url or token.instance_url
        url = self._url(path, instance)
        self.calls += 1
        try:
            response = self.http.request(method, url, params=params, json=json,
                                         headers={**(headers or {}), "Authorization": f"Bearer {token.access_token}"})
        except httpx.ConnectError as exc:
            raise SalesforceRetriable(f"cannot connect to {instance}: {exc}", error_code="CONNECTION_ERROR",
                                      hint="check the network and salesforce.instance_url; qbsf retries") from exc
        except httpx.TimeoutException as exc:
            if not idempotent and not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
                # the create may have happened: retrying could duplicate records, so let the engine decide
                raise SalesforceNeedsUser(f"{method} {path.split('?')[0]} timed out; records may have been created",
                                          error_code="TIMEOUT", sobject=sobject,
                                          hint="qbsf re-reads by external id before creating again") from exc
            raise SalesforceRetriable(f"{method} {path.split('?')[0]} timed out", error_code="TIMEOUT",
                                      sobject=sobject, hint="Salesforce is slow; qbsf retries") from exc
        except httpx.TransportError as exc:
            if not idempotent:
                raise SalesforceNeedsUser(f"{method} {path.split('?')[0]} failed mid-request ({type(exc).__name__})",
                                          error_code="CONNECTION_ERROR", sobject=sobject,
                                          hint="qbsf re-reads by external id before creating again") from exc
            raise SalesforceRetriable(f"{method} {path.split('?')[0]} failed ({type(exc).__name__})",
                                      error_code="CONNECTION_ERROR", sobject=sobject,
                                      hint="the connection dropped; qbsf retries") from exc
        self._track_usage(response)
        return response

    def _track_usage(self, response: httpx.Response) -> None:
        header = response.headers.get("Sforce-Limit-Info")
        match = _LIMIT_INFO.search(header or "")
        if match:
            self.api_usage = ApiUsage(int(match.group(1)), int(match.group(2)))
            if self.api_usage.fraction >= USAGE_WARNING and not self._usage_warned:
                self._usage_warned = True
                log.warning("Salesforce API usage at %d of %d calls (%.0f%%) in the last 24 h; qbsf pauses when it "
                            "runs out", self.api_usage.used, self.api_usage.limit, self.api_usage.fraction * 100)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return _body(response) if response.content else None

    # ---- reads -------------------------------------------------------------------------------------------------
    def iter_query(self, soql: str, *, include_deleted: bool = False,
                   batch_size: int | None = None) -> Iterator[list[dict[str, Any]]]:
        """Pages of records for ``soql``, following every ``nextRecordsUrl`` (one API call per page)."""
        if batch_size is not None and not 200 <= batch_size <= 2000:
            raise QbsfError(f"query batch size {batch_size} is outside Salesforce's 200–2,000",
                            hint="pass a batch_size between 200 and 2000, or None for the default (2,000)")
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else None
        resource = "queryAll" if include_deleted else "query"
        page = self._json("GET", resource, params={"q": soql}, headers=headers)
        while True:
            yield list(page.get("records", []))
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return
            page = self._json("GET", next_url, headers=headers)

    def query(self, soql: str, *, batch_size: int | None = None) -> list[dict[str, Any]]:
        """All records matching ``soql`` (every page)."""
        return [record for page in self.iter_query(soql, batch_size=batch_size) for record in page]

    def query_all(self, soql: str, *, batch_size: int | None = None) -> list[dict[str, Any]]:
        """As :meth:`query`, including deleted and archived records (``queryAll``)."""
        return [record for page in self.iter_query(soql, include_deleted=True, batch_size=batch_size)
                for record in page]

    def count(self, soql: str, *, include_deleted: bool = False) -> int:
        """``totalSize`` of a ``SELECT COUNT() …`` query (``queryAll`` with ``include_deleted``)."""
        resource = "queryAll" if include_deleted else "query"
        return int(self._json("GET", resource, params={"q": soql}).get("totalSize", 0))

    def get(self, sobject: str, record_id: str, fields: Iterable[str] | None = None) -> dict[str, Any]:
        """One record by Id (optionally only ``fields``)."""
        params = {"fields": ",".join(fields)} if fields else None
        return self._json("GET", f"sobjects/{sobject}/{urlquote(record_id, safe='')}", params=params,
                          sobject=sobject)

    def updated(self, sobject: str, start: dt.datetime, end: dt.datetime) -> ChangedWindow:
        """Ids of ``sobject`` records created or updated between ``start`` and ``end`` (``sobjects/X/updated``)."""
        body = self._json("GET", f"sobjects/{sobject}/updated/",
                          params={"start": _sf_datetime(start), "end": _sf_datetime(end)}, sobject=sobject)
        return ChangedWindow(list(body.get("ids", [])), body.get("latestDateCovered"))

    def deleted(self, sobject: str, start: dt.datetime, end: dt.datetime) -> DeletedWindow:
        """Records of ``sobject`` deleted between ``start`` and ``end`` (``sobjects/X/deleted``)."""
        body = self._json("GET", f"sobjects/{sobject}/deleted/",
                          params={"start": _sf_datetime(start), "end": _sf_datetime(end)}, sobject=sobject)
        return DeletedWindow(list(body.get("deletedRecords", [])), body.get("earliestDateAvailable"),
                             body.get("latestDateCovered"))

    def describe(self, sobject: str) -> dict[str, Any]:
        """The object's describe result, fetched once per client."""
        if sobject not in self._describe_cache:
            try:
                self._describe_cache[sobject] = self._json("GET", f"sobjects/{sobject}/describe", sobject=sobject)
            except Skippable as exc:  # 404 here means the object is missing, not a deleted record
                raise SalesforceNeedsUser(f"object {sobject} does not exist or is not visible", error_code="NOT_FOUND",
                                          sobject=sobject, hint="deploy the qbsf package (salesforce/) and assign the "
                                                                "QBSF_Connector permission set") from exc
        return self._describe_cache[sobject]

    def field_names(self, sobject: str) -> set[str]:
        """The API names of ``sobject``'s fields (from the cached describe)."""
        return {f["name"] for f in self.describe(sobject).get("fields", [])}

    def missing_fields(self, sobject: str, paths: Iterable[str]) -> list[str]:
        """Which of ``paths`` (``Name``, ``Account.QB_Customer_ID__c``, ``Owner.Name``) the org does not have.

        Parent paths are followed through each lookup's relationship name (one cached describe per object), so a
        mapping can be checked against a live org before its first sync. Names compare case-insensitively, as
        SOQL does.
        """
        missing: list[str] = []
        for path in paths:
            current = sobject
            parts = path.split(".")
            for depth, part in enumerate(parts):
                fields = self.describe(current).get("fields", [])
                if depth == len(parts) - 1:
                    if not any(f["name"].lower() == part.lower() for f in fields):
                        missing.append(path)
                    break
                parent = next((f for f in fields if (f.get("relationshipName") or "").lower() == part.lower()
                               and f.get("referenceTo")), None)
                if parent is None:
                    missing.append(path)
                    break
                current = parent["referenceTo"][0]
        return missing

    def apex_post(self, resource: str, body: Any) -> Any:
        """POST ``body`` to the Apex REST resource ``/services/apexrest/{resource}`` (a class of the org's package,
        ``@RestResource(urlMapping='/{resource}')``); one API call, like any other (Apex REST calls count against the
        org's API limits). Returns the decoded answer; a resource the org does not have raises 404 ``NOT_FOUND``
        "Could not find a match for URL" (see :func:`is_missing_resource`). Only for idempotent resources: a failed
        call is retried."""
        return self._json("POST", f"/services/apexrest/{resource.strip('/')}", json=body)

    def limits(self) -> dict[str, Any]:
        """The org's limits (``/limits``): ``DailyApiRequests`` and friends."""
        return self._json("GET", "limits")

    # ---- writes ------------------------------------------------------------------------------------------------
    def create_many(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Insert ``records`` (200 a call, ``allOrNone=false``); one result per record in input order."""
        prepared = [self._with_type(sobject, record, strip=("Id",)) for record in records]
        return self._collection("POST", "composite/sobjects", sobject, prepared, idempotent=False)

    def update_many(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Update ``records`` by their ``Id`` (200 a call); records without an Id fail without a call.

        An Id repeated in the input goes in a later call (Salesforce rejects an Id twice in one call); last wins.
        """
        keyed: list[tuple[int, str, dict[str, Any]]] = []
        local: list[RecordResult] = []
        for index, record in enumerate(records):
            record_id = record.get("Id")
            if not record_id:
                local.append(_local_failure(index, sobject, "MISSING_ID", "record has no Id to update by", ["Id"],
                                            "sync the record's create first (the crosswalk has no Id)"))
                continue
            # 15- and 18-character forms of one Id are the same record
            keyed.append((index, str(record_id)[:15], self._with_type(sobject, record)))
        return self._in_waves("PATCH", "composite/sobjects", sobject, len(records), keyed, local)

    def upsert_many(self, sobject: str, external_id_field: str,
                    records: Sequence[Mapping[str, Any]]) -> list[RecordResult]:
        """Upsert ``records`` by ``external_id_field`` (200 a call); ``created`` says insert vs update.

        Each record must carry its external id value (collections upsert matches on it); records without one
        fail locally. ``Id`` is dropped: an upsert matches by external id only. A key repeated in the input goes
        in a later call (Salesforce rejects a key twice in one call), so the last record for a key wins.
        """
        keyed: list[tuple[int, str, dict[str, Any]]] = []
        local: list[RecordResult] = []
        for index, record in enumerate(records):
            value = record.get(external_id_field)
            if value is None or (isinstance(value, str) and not value.strip()):
                local.append(_local_failure(index, sobject, "MISSING_EXTERNAL_ID",
                                            f"record has no {external_id_field} to upsert by", [external_id_field],
                                            "the record has no QuickBooks id yet: sync it from QuickBooks first"))
                continue
            # qbsf's id fields are case-insensitive unique
            keyed.append((index, str(value).casefold(), self._with_type(sobject, record, strip=("Id",))))
        return self._in_waves("PATCH", f"composite/sobjects/{sobject}/{external_id_field}", sobject, len(records),
                              keyed, local)

    def _in_waves(self, method: str, path: str, sobject: str, total: int,
                  keyed: list[tuple[int, str, dict[str, Any]]], local: list[RecordResult]) -> list[RecordResult]:
        """Send keyed records so no key appears twice in a call (n-th repeat in wave n); results in input order."""
        results: list[RecordResult | None] = [None] * total
        for result in local:
            results[result.index] = result
        waves: list[tuple[list[int], list[dict[str, Any]]]] = []
        seen: dict[str, int] = {}
        for index, key, prepared in keyed:
            wave = seen.get(key, 0)
            seen[key] = wave + 1
            if wave == len(waves):
                waves.append(([], []))
            waves[wave][0].append(index)
            waves[wave][1].append(prepared)
        for positions, prepared_records in waves:
            for position, result in zip(positions, self._collection(method, path, sobject, prepared_records,
                                                                    idempotent=True), strict=True):
                result.index = position
                results[position] = result
        return [r for r in results if r is not None]

    def upsert(self, sobject: str, external_id_field: str, value: str, record: Mapping[str, Any]) -> RecordResult:
        """Upsert one record at ``sobjects/X/Field/value``; the external id field is stripped from the body.

        Salesforce rejects a body that repeats the external id (INVALID_FIELD — the manual's known failure).
        """
        body = {k: v for k, v in record.items()
                if k.lower() not in (external_id_field.lower(), "id", "attributes")}
        try:
            response = self.request("PATCH", f"sobjects/{sobject}/{external_id_field}/{urlquote(str(value), safe='')}",
                                    json=body, sobject=sobject)
        except SalesforceError as exc:
            if isinstance(exc, ApiLimitExceeded | AuthError | Retriable):
                raise
            return RecordResult(0, False, errors=[exc])
        data = _body(response) if response.content else {}
        if response.status_code == 300:  # several records hold this external id: Salesforce changed none of them
            return RecordResult(0, False, errors=[classify(
                "DUPLICATE_EXTERNAL_ID", f"{len(data) if isinstance(data, list) else 'several'} {sobject} records "
                f"have {external_id_field} = {value}", [external_id_field], status=300, sobject=sobject)])
        return RecordResult(0, True, id=data.get("id"), created=response.status_code == 201)

    def delete_many(self, ids: Sequence[str]) -> list[RecordResult]:
        """Delete records by Id (200 a call, ``allOrNone=false``); results in input order."""
        results: list[RecordResult] = []
        for start, chunk in _chunks(list(ids), COLLECTION_LIMIT):
            body = self._json("DELETE", "composite/sobjects",
                              params={"ids": ",".join(chunk), "allOrNone": "false"})
            results.extend(_record_result(start + i, item, None) for i, item in enumerate(body))
        return results

    def _with_type(self, sobject: str, record: Mapping[str, Any], strip: tuple[str, ...] = ()) -> dict[str, Any]:
        out = {k: v for k, v in record.items() if k != "attributes" and k not in strip}
        return {"attributes": {"type": sobject}, **out}

    def _collection(self, method: str, path: str, sobject: str, records: list[dict[str, Any]], *,
                    idempotent: bool) -> list[RecordResult]:
        results: list[RecordResult] = []
        for start, chunk in _chunks(records, COLLECTION_LIMIT):
            results.extend(self._collection_chunk(method, path, sobject, start, list(chunk), idempotent=idempotent))
        return results

    def _collection_chunk(self, method: str, path: str, sobject: str, start: int, chunk: list[dict[str, Any]], *,
                          idempotent: bool) -> list[RecordResult]:
        """One collections call; records that failed with a row lock are resent (bounded) in a follow-up call."""
        results: list[RecordResult | None] = [None] * len(chunk)
        pending = list(range(len(chunk)))
        for attempt in range(1, self.retries + 1):
            body = self._json(method, path, json={"allOrNone": False, "records": [chunk[i] for i in pending]},
                              idempotent=idempotent, sobject=sobject)
            if not isinstance(body, list) or len(body) != len(pending):
                raise SalesforceRetriable(f"collections answer has {len(body) if isinstance(body, list) else '?'} "
                                          f"results for {len(pending)} records", error_code="BAD_RESPONSE",
                                          sobject=sobject, hint="qbsf retries; report it if it persists")
            again: list[int] = []
            for position, item in zip(pending, body, strict=True):
                result = _record_result(start + position, item, sobject)
                results[position] = result
                if not result.success and isinstance(result.error, Retriable) and attempt < self.retries:
                    again.append(position)
            if not again:
                break
            log.info("%d %s records hit a transient error; resending them", len(again), sobject)
            self.retried += 1
            pending = again
        return [r for r in results if r is not None]

    # ---- composite ---------------------------------------------------------------------------------------------
    def update_and_read(self, sobject: str, records: Sequence[Mapping[str, Any]], *,
                        before: Mapping[str, str] | None = None, after: Mapping[str, str] | None = None
                        ) -> tuple[list[RecordResult], dict[str, dict[str, Any]]]:
        """Update ``records`` by Id (sObject Collections of 200, ``allOrNone=false``) in ONE ``/composite`` call,
        with SOQL reads run just before them (``before``: referenceId → SOQL) and just after them (``after``).

        Subrequests run in order, each seeing what the earlier ones committed, and the whole call counts as one API
        call. Collections and queries together are at most :data:`COMPOSITE_HEAVY_LIMIT` (Salesforce's limit), so
        with two reads up to 600 records fit one call. Returns one :class:`RecordResult` per record (in input
        order; a collection refused as a whole fails each of its records with that error) and the first page of each
        read that succeeded (referenceId → query body). Records must have distinct Ids.
        """
        reads_before, reads_after = dict(before or {}), dict(after or {})
        chunks = [list(records[start:start + COLLECTION_LIMIT]) for start in range(0, len(records), COLLECTION_LIMIT)]
        heavy = len(chunks) + len(reads_before) + len(reads_after)
        if heavy > COMPOSITE_HEAVY_LIMIT:
            raise QbsfError(f"{len(chunks)} collections and {len(reads_before) + len(reads_after)} queries do not fit "
                            f"one composite call (at most {COMPOSITE_HEAVY_LIMIT})",
                            hint=f"send at most {COLLECTION_LIMIT * (COMPOSITE_HEAVY_LIMIT - 2)} records with 2 reads")
        if any(not record.get("Id") for record in records):
            raise QbsfError(f"every {sobject} record to update needs its Id", hint="update records by Id")
        subrequests: list[dict[str, Any]] = [_query_subrequest(reference, soql)
                                             for reference, soql in reads_before.items()]
        for number, chunk in enumerate(chunks):
            subrequests.append({"method": "PATCH", "url": "composite/sobjects", "referenceId": f"update_{number}",
                                "body": {"allOrNone": False,
                                         "records": [self._with_type(sobject, record) for record in chunk]}})
        subrequests.extend(_query_subrequest(reference, soql) for reference, soql in reads_after.items())
        answers = {result.reference_id: result for result in self.composite(subrequests)}
        results: list[RecordResult] = []
        for number, chunk in enumerate(chunks):
            answer = answers.get(f"update_{number}")
            start = number * COLLECTION_LIMIT
            if answer is not None and answer.ok and isinstance(answer.body, list) and len(answer.body) == len(chunk):
                results.extend(_record_result(start + i, item, sobject) for i, item in enumerate(answer.body))
                continue
            error = (answer.error if answer is not None else None) or SalesforceRetriable(
                "the collection got no answer in the composite call", error_code="BAD_RESPONSE", sobject=sobject,
                hint="qbsf retries on the next cycle")
            results.extend(RecordResult(start + i, False, errors=[error]) for i in range(len(chunk)))
        pages = {reference: answers[reference].body for reference in [*reads_before, *reads_after]
                 if reference in answers and answers[reference].ok and isinstance(answers[reference].body, dict)}
        return results, pages

    def composite(self, subrequests: Sequence[Mapping[str, Any]], *, all_or_none: bool = False,
                  collate: bool = False) -> list[CompositeResult]:
        """Run subrequests (``method``, ``url``, ``referenceId``, optional ``body``) in order: 25 a call, at most 5
        of them collections or queries (Salesforce's limits, :data:`COMPOSITE_HEAVY_LIMIT`).

        Later subrequests may use ``@{ref.id}`` to refer to earlier ones in the same call; a reference to a
        subrequest that would land in another call is refused before anything is sent.
        """
        prepared: list[dict[str, Any]] = []
        for index, sub in enumerate(subrequests):
            if not sub.get("method") or not sub.get("url") or not sub.get("referenceId"):
                raise QbsfError(f"composite subrequest {index} needs method, url and referenceId",
                                hint="e.g. {'method': 'POST', 'url': 'sobjects/Account', 'referenceId': 'acct'}")
            item = dict(sub)
            item["url"] = self._url(str(sub["url"]), "")
            prepared.append(item)
        chunks = list(_composite_calls(prepared))
        if len(chunks) > 1:
            if all_or_none:
                raise NeedsUser(f"{len(prepared)} subrequests cannot be all-or-none: composite allows "
                                f"{COMPOSITE_LIMIT} per call, {COMPOSITE_HEAVY_LIMIT} of them collections or "
                                f"queries", hint="split the work into independent groups")
            for _, chunk in chunks:
                own = {sub["referenceId"] for sub in chunk}
                for sub in chunk:
                    for ref in _REFERENCE.findall(repr(sub.get("body")) + str(sub["url"])):
                        if ref not in own:
                            raise QbsfError(f"subrequest {sub['referenceId']} refers to @{{{ref}}} in another "
                                            f"composite call", hint=f"keep dependent subrequests within groups of "
                                                                    f"{COMPOSITE_LIMIT}")
        results: list[CompositeResult] = []
        for _, chunk in chunks:
            body = self._json("POST", "composite", json={"allOrNone": all_or_none, "collateSubrequests": collate,
                                                         "compositeRequest": list(chunk)},
                              idempotent=all(sub["method"].upper() != "POST" for sub in chunk))
            for item in body.get("compositeResponse", []):
                results.append(CompositeResult(str(item.get("referenceId")), int(item.get("httpStatusCode", 0)),
                                               item.get("body"), dict(item.get("httpHeaders") or {})))
        return results


def is_missing_resource(exc: BaseException) -> bool:
    """Whether ``exc`` is Salesforce's answer for an Apex REST path no class of the org maps (the package is older
    than the resource, or not installed): 404 ``NOT_FOUND`` "Could not find a match for URL"."""
    return isinstance(exc, SalesforceError) and exc.status == 404 and exc.error_code == "NOT_FOUND"


def _query_subrequest(reference: str, soql: str) -> dict[str, Any]:
    """A composite ``query`` subrequest: the SOQL travels in the url's ``q`` parameter."""
    return {"method": "GET", "referenceId": reference, "url": f"query?{urlencode({'q': soql})}"}


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def _record_result(index: int, item: Mapping[str, Any], sobject: str | None) -> RecordResult:
    errors = [from_error_item(e, sobject=sobject) for e in item.get("errors") or []]
    success = bool(item.get("success"))
    if not success and not errors:
        errors = [SalesforceRetriable("record failed without an error", error_code="UNKNOWN", sobject=sobject,
                                      hint="qbsf retries on the next cycle")]
    return RecordResult(index, success, id=item.get("id"), created=item.get("created"), errors=errors)


def _local_failure(index: int, sobject: str, code: str, message: str, fields: list[str], hint: str) -> RecordResult:
    return RecordResult(index, False, errors=[SalesforceNeedsUser(message, error_code=code, fields=fields,
                                                                  sobject=sobject, hint=hint)])
