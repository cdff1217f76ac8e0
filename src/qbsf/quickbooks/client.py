"""QuickBooksClient: batched Add/Mod/Query of typed records over any transport.

Many requests travel in one QBXMLMsgsRq (``onError="continueOnError"``) and every result is matched to
its request by ``requestID``, never by position. Queries page with iterators inside one session. A Mod
that meets a stale EditSequence (3200) re-reads the record and retries once, only when nobody else changed
the fields qbsf is changing; otherwise it reports a :class:`ModConflictError` instead of overwriting.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from qbsf.errors import ConfigError, NeedsUser, QbsfError
from qbsf.quickbooks import entities
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.bodies import add_body, external_guid, mod_body, query_body, when
from qbsf.quickbooks.entities import QbEntity, UnknownEntityError
from qbsf.quickbooks.errors import (
    ConnectionFailed,
    FieldValueError,
    MissingAccountError,
    ModConflictError,
    StaleEditSequence,
    TransportError,
    error_for_status,
)
from qbsf.quickbooks.limits import FieldIssue, FieldPolicy, check_policy, enforce
from qbsf.quickbooks.messages import (
    RET_CLASSES,
    Response,
    build_message,
    parse_deleted,
    parse_record,
    parse_response,
    request,
)
from qbsf.quickbooks.schema import EXTERNAL_GUID_ELEMENTS, KNOWN_VERSIONS
from qbsf.quickbooks.transports.base import Transport

log = logging.getLogger(__name__)

__all__ = ["Change", "DefaultAccounts", "QuickBooksClient", "Result"]

NOT_FOUND_STATUS = 500  # a query's "element … could not be found in QuickBooks" (the found records still come back)
NEGOTIATION_VERSION = "13.0"  # HostQuery goes out in the oldest version we speak, so any supported host answers


@dataclass(frozen=True, slots=True)
class DefaultAccounts:
    """The manual's "QB Default Accounts": names exactly as in QuickBooks' Chart of Accounts."""

    income: str | None = None
    cogs: str | None = None
    asset: str | None = None
    expense: str | None = None
    ar: str | None = None  # Accounts Receivable: new invoices post to it (QuickBooks' own default when unset)


@dataclass(slots=True)
class Change:
    """A Mod: the record as qbsf last read it (``base``, with id + EditSequence) and the flat fields to change.

    ``lines`` (transactions with lines) replaces the lines of each kind it holds: keep a line by its TxnLineID, add
    one with TxnLineID None (a payment's lines are keyed by the invoice's TxnID).
    """

    base: Any
    fields: dict[str, Any]
    lines: list[Any] | None = None


@dataclass(slots=True)
class Result:
    """The outcome of one record in a batch: the QuickBooks record returned, or the typed error."""

    index: int
    request_id: str
    record: Any
    ret: Any = None
    error: QbsfError | None = None
    warnings: list[FieldIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when QuickBooks accepted the record."""
        return self.error is None


@dataclass(slots=True)
class _Pending:
    index: int
    rq: etree._Element | None
    record: Any
    entity: QbEntity | None
    change: Change | None = None
    updated: Any = None
    paths: list[str] = field(default_factory=list)
    warnings: list[FieldIssue] = field(default_factory=list)


class QuickBooksClient:
    """Typed, batched access to QuickBooks Desktop over a :class:`Transport`.

    ``qbxml_version`` None negotiates with HostQuery (16.0 when the host supports it, else 13.0).
    ``field_policy`` "transliterate" fixes over-long / non-Latin-1 values with a warning; "fail" fails the record.
    """

    def __init__(self, transport: Transport, *, qbxml_version: str | None = None,
                 field_policy: FieldPolicy | str = "transliterate", default_accounts: DefaultAccounts | None = None,
                 batch_size: int = 200, page_size: int = 500, on_error: str = "continueOnError") -> None:
        if qbxml_version is not None and qbxml_version not in KNOWN_VERSIONS:
            raise ConfigError(f"qbXML version {qbxml_version!r} is not supported",
                              hint=f"use one of {', '.join(KNOWN_VERSIONS)} or leave it unset to negotiate")
        self.transport = transport
        self.field_policy: FieldPolicy = check_policy(field_policy)
        self.default_accounts = default_accounts or DefaultAccounts()
        self.batch_size = max(1, batch_size)
        self.page_size = max(1, page_size)
        self.on_error = on_error
        self.messages_sent = 0
        self._version = qbxml_version
        self._host: rec.HostInfo | None = None

    # --- session -------------------------------------------------------------------------------------------

    def close(self) -> None:
        """End the QuickBooks session (the transport's close)."""
        self.transport.close()

    def __enter__(self) -> QuickBooksClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def qbxml_version(self) -> str:
        """The qbXML version in use, negotiated with HostQuery on first need."""
        if self._version is None:
            self._version = self._negotiate()
        return self._version

    def host(self) -> rec.HostInfo:
        """HostQuery: product, version and the qbXML versions this QuickBooks supports."""
        if self._host is None:
            response = self._one(request("HostQueryRq", "host"), version=self._version or NEGOTIATION_VERSION)
            self._raise_for(response, "HostQuery")
            if not response.rets:
                raise TransportError("QuickBooks answered HostQuery without a HostRet",
                                     hint="check the QuickBooks installation")
            self._host = parse_record(rec.HostInfo, response.rets[0])
        return self._host

    def _negotiate(self) -> str:
        supported = {v.strip() for v in self.host().SupportedQBXMLVersion}
        for version in KNOWN_VERSIONS:
            if version in supported:
                log.info("qbXML version %s (QuickBooks supports %s)", version, ", ".join(sorted(supported)))
                return version
        raise NeedsUser(f"QuickBooks supports qbXML {', '.join(sorted(supported)) or 'no versions'}; qbsf needs "
                        f"{' or '.join(KNOWN_VERSIONS)}",
                        hint="update QuickBooks Desktop to 2019 or later (qbXML 13.0)")

    def company(self) -> rec.CompanyInfo:
        """CompanyQuery: the open company file's name and address."""
        response = self._one(request("CompanyQueryRq", "company"))
        self._raise_for(response, "CompanyQuery")
        return parse_record(rec.CompanyInfo, response.rets[0]) if response.rets else rec.CompanyInfo()

    # --- transport -----------------------------------------------------------------------------------------

    def _send(self, rqs: list[etree._Element], *, version: str | None = None) -> list[Response]:
        xml = build_message(rqs, version=version or self.qbxml_version, on_error=self.on_error)
        self.messages_sent += 1
        log.debug("qbXML message with %d request(s)", len(rqs))
        answer = self.transport.send(xml)
        return parse_response(answer)

    def _one(self, rq: etree._Element, *, version: str | None = None) -> Response:
        request_id = rq.get("requestID")
        for response in self._send([rq], version=version):
            if response.request_id == request_id or request_id is None:
                return response
        raise TransportError(f"QuickBooks returned no response for {rq.tag} {request_id!r}",
                             hint="the message may not have been processed; qbsf retries next cycle")

    def _raise_for(self, response: Response, what: str, record: str | None = None, *,
                   missing_ok: bool = False) -> None:
        if response.is_error:
            raise error_for_status(response.status_code, response.message, request=what,
                                   request_id=response.request_id, record=record)
        if response.severity.lower() == "warn":
            # 500 on a lookup = some names/ids are not in QuickBooks: news only where the caller expected them all
            level = logging.DEBUG if missing_ok and response.status_code == NOT_FOUND_STATUS else logging.WARNING
            log.log(level, "QuickBooks %s warning %s: %s", what, response.status_code, response.message)

    def _exchange(self, pending: list[_Pending]) -> tuple[dict[str, Response], dict[str, QbsfError]]:
        """Send the requests of ``pending`` in messages of ``batch_size``; index the answers by requestID.

        When the transport fails, the answers already received are kept and every request not answered gets
        that error (the failed message may or may not have reached QuickBooks), and nothing more is sent.
        """
        by_id: dict[str, Response] = {}
        failed: dict[str, QbsfError] = {}
        live = [p for p in pending if p.rq is not None]
        for start in range(0, len(live), self.batch_size):
            chunk = live[start:start + self.batch_size]
            expected = {p.rq.get("requestID") for p in chunk}
            try:
                responses = self._send([p.rq for p in chunk])
            except (TransportError, ConnectionFailed) as exc:
                log.warning("QuickBooks message with %d request(s) failed: %s", len(chunk), exc)
                for item in live[start:]:
                    failed[item.rq.get("requestID")] = exc
                break
            for response in responses:
                if response.request_id in expected:
                    by_id[response.request_id] = response
                elif not response.tag.startswith("Signon"):  # sign-on answers come with Web Connector sessions
                    log.warning("ignoring QuickBooks response %s for unknown requestID %r", response.tag,
                                response.request_id)
        return by_id, failed

    # --- add -----------------------------------------------------------------------------------------------

    def add(self, record: Any, *, salesforce_id: str | None = None) -> Any:
        """Add one record and return it as QuickBooks stored it (raises the typed error on failure)."""
        result = self.add_many([record], salesforce_ids=[salesforce_id])[0]
        if result.error is not None:
            raise result.error
        return result.ret

    def add_many(self, records: Sequence[Any], *, salesforce_ids: Sequence[str | None] | None = None) -> list[Result]:
        """Add many records in as few messages as ``batch_size`` allows; one Result per record, in input order.

        ``salesforce_ids`` (parallel to ``records``) give each Add a deterministic ExternalGUID where the
        schema allows it, so a record whose Add response was lost can be recognised later.
        """
        if salesforce_ids is not None and len(salesforce_ids) != len(records):
            raise ValueError("salesforce_ids must be parallel to records")
        results: list[Result] = []
        pending: list[_Pending] = []
        for index, record in enumerate(records):
            result = Result(index=index, request_id=str(index), record=record)
            results.append(result)
            entity = self._entity(record)
            try:
                prepared, issues = self._prepare_add(record, salesforce_ids[index] if salesforce_ids else None)
                result.record = prepared
                result.warnings = issues
                tag, body = add_body(prepared, entity)
                rq = _built(prepared, tag, result.request_id, body)
            except QbsfError as exc:
                result.error = exc
                continue
            except (ValueError, ArithmeticError, TypeError) as exc:  # one record that cannot be built fails alone
                result.error = _unbuildable(record, exc)
                continue
            pending.append(_Pending(index, rq, prepared, entity))
        answers, failed = self._exchange(pending)
        for item in pending:
            self._settle(results[item.index], answers.get(str(item.index)), item.entity, failed.get(str(item.index)))
        return results

    def _entity(self, record: Any) -> QbEntity:
        try:
            return entities.for_record(record)
        except UnknownEntityError as exc:
            raise TypeError(exc.message) from None

    def _prepare_add(self, record: Any, salesforce_id: str | None) -> tuple[Any, list[FieldIssue]]:
        prepared, issues = self._apply_policy(record, None)
        if salesforce_id:
            tag = self._entity(prepared).add_element
            if tag in EXTERNAL_GUID_ELEMENTS and getattr(prepared, "ExternalGUID", None) is None:
                prepared.ExternalGUID = external_guid(salesforce_id)
        if isinstance(prepared, rec.ItemService | rec.ItemNonInventory | rec.ItemInventory):
            self._fill_accounts(prepared)
        # Every transaction that posts to receivables (its record declares ARAccountRef) takes the default AR account.
        elif getattr(prepared, "ARAccountRef", False) is None and self.default_accounts.ar:
            prepared.ARAccountRef = rec.Ref(FullName=self.default_accounts.ar)
        return prepared, issues

    def _fill_accounts(self, item: Any) -> None:
        accounts = self.default_accounts
        what = rec.label(item)
        if item.IncomeAccountRef is None:
            if not accounts.income:
                raise MissingAccountError(f"{what}: income account required",
                                          hint="set Income / Sales Account in QB Accounts settings")
            item.IncomeAccountRef = rec.Ref(FullName=accounts.income)
        if isinstance(item, rec.ItemInventory):
            if item.COGSAccountRef is None:
                if not accounts.cogs:
                    raise MissingAccountError(f"{what}: COGS account required",
                                              hint="set COGS Account in QB Accounts settings")
                item.COGSAccountRef = rec.Ref(FullName=accounts.cogs)
            if item.AssetAccountRef is None:
                if not accounts.asset:
                    raise MissingAccountError(f"{what}: asset account required",
                                              hint="set Inventory Asset Account in QB Accounts settings")
                item.AssetAccountRef = rec.Ref(FullName=accounts.asset)
        elif (item.PurchaseDesc is not None or item.PurchaseCost is not None) and item.ExpenseAccountRef is None:
            if not accounts.expense:
                raise MissingAccountError(f"{what}: expense account required for an item bought and sold",
                                          hint="set Expense Account in QB Accounts settings")
            item.ExpenseAccountRef = rec.Ref(FullName=accounts.expense)

    def _apply_policy(self, record: Any, only: set[str] | None) -> tuple[Any, list[FieldIssue]]:
        """Latin-1 and maxLength checks on the string fields about to be sent (``only`` limits the paths).

        Returns a copy of ``record`` carrying the values to send; the caller's record is never changed.
        """
        what = rec.label(record)
        flat = rec.to_flat(record)
        texts = {path: flat[path] for path in _own(record) if isinstance(flat[path], str)}
        if only is not None:
            texts = {path: value for path, value in texts.items() if path in only}
        clean, issues = enforce(type(record).__name__, texts, record=what, policy=self.field_policy)
        changed = {path: value for path, value in clean.items() if value != texts[path]}
        record = rec.apply_flat(record, changed) if changed else _shallow_copy(record)
        if only is None:
            for shape in entities.line_shapes(type(record)):
                if getattr(record, shape.attr):
                    sanitized, line_issues = self._sanitize_lines(what, getattr(record, shape.attr))
                    setattr(record, shape.attr, sanitized)
                    issues.extend(line_issues)
        return record, issues

    def _sanitize_lines(self, what: str, lines: list[Any]) -> tuple[list[Any], list[FieldIssue]]:
        """Lines with the field policy applied (a new list; lines needing no change are reused)."""
        issues: list[FieldIssue] = []
        out = []
        for number, line in enumerate(lines, start=1):
            texts = {p: v for p, v in rec.to_flat(line).items() if isinstance(v, str) and p in _own(line)}
            clean, line_issues = enforce(type(line).__name__, texts, record=f"{what} line {number}",
                                         policy=self.field_policy)
            issues.extend(line_issues)
            fixes = {p: v for p, v in clean.items() if v != texts[p]}
            out.append(rec.apply_flat(line, fixes) if fixes else line)
        return out, issues

    # --- results -------------------------------------------------------------------------------------------

    def _settle(self, result: Result, response: Response | None, entity: QbEntity | None,
                failure: QbsfError | None = None) -> None:
        what = rec.label(result.record)
        if failure is not None:
            result.error = failure
            return
        if response is None:
            result.error = TransportError(f"QuickBooks returned no response for {what} (requestID "
                                          f"{result.request_id})", hint="qbsf retries it next cycle")
            return
        if response.is_error:
            result.error = error_for_status(response.status_code, response.message,
                                            request=response.tag.removesuffix("Rs"),
                                            request_id=response.request_id, record=what)
            return
        if response.severity.lower() == "warn":
            log.warning("QuickBooks warning %s for %s: %s", response.status_code, what, response.message)
        if response.rets:
            result.ret = self._parse_ret(response.rets[0])

    def _parse_ret(self, element: etree._Element) -> Any:
        tag = element.tag
        if tag in ("ListDeletedRet", "TxnDeletedRet"):
            return parse_deleted(element)
        cls = RET_CLASSES.get(tag)
        if cls is None:
            return None
        record = parse_record(cls, element)
        declared = entities.for_ret(tag)
        if declared is not None and declared.record_kind is not None:
            record.kind = declared.record_kind  # one record class for several entities (the two kinds of terms)
        return record

    # --- mod -----------------------------------------------------------------------------------------------

    def mod(self, base: Any, fields: dict[str, Any], *, lines: list[Any] | None = None) -> Any:
        """Modify one record (see :meth:`mod_many`); returns the record as QuickBooks stored it."""
        result = self.mod_many([Change(base, fields, lines)])[0]
        if result.error is not None:
            raise result.error
        return result.ret

    def mod_many(self, changes: Sequence[Change]) -> list[Result]:
        """Apply many changes in batched Mod requests; one Result per change, in input order.

        On 3200 (stale EditSequence) the records are re-read in one batch; a change is retried once with the
        fresh EditSequence only when none of its fields were changed by someone else since ``base`` was read.
        """
        results: list[Result] = []
        pending: list[_Pending] = []
        for index, change in enumerate(changes):
            result = Result(index=index, request_id=str(index), record=change.base)
            results.append(result)
            try:
                item = self._prepare_mod(index, change, change.base)
            except QbsfError as exc:
                result.error = exc
                continue
            except (ValueError, ArithmeticError, TypeError) as exc:  # one record that cannot be built fails alone
                result.error = _unbuildable(change.base, exc)
                continue
            result.record = item.updated
            result.warnings = item.warnings
            pending.append(item)
        answers, failed = self._exchange(pending)
        stale: list[_Pending] = []
        for item in pending:
            if item.rq is None:
                results[item.index].ret = item.record  # nothing differs: QuickBooks already holds these values
                continue
            response = answers.get(str(item.index))
            if response is not None and response.is_error and response.status_code == 3200:
                stale.append(item)
                continue
            self._settle(results[item.index], response, item.entity, failed.get(str(item.index)))
        if stale:
            self._retry_stale(stale, results)
        return results

    def _prepare_mod(self, index: int, change: Change, base: Any) -> _Pending:
        entity = self._entity(base)
        paths = [rec.canonical_path(type(base), key) for key in change.fields]
        updated = rec.apply_flat(base, change.fields)
        updated, issues = self._apply_policy(updated, set(paths))
        if change.lines is not None:
            if not change.lines:
                kind = type(base).__name__
                raise NeedsUser(f"{rec.label(base)}: a {kind} needs at least one line",
                                hint=f"keep at least one line, or void or delete the {kind} in QuickBooks")
            sanitized, line_issues = self._sanitize_lines(rec.label(base), list(change.lines))
            issues.extend(line_issues)
            by_attr: dict[str, list[Any]] = {}
            for line in sanitized:
                by_attr.setdefault(entity.line_shape(line).attr, []).append(line)
            for attr, kept in by_attr.items():
                setattr(updated, attr, kept)
            change_lines: list[Any] | None = sanitized
        else:
            change_lines = None
        before, after = rec.to_flat(base), rec.to_flat(updated)
        # Only what really differs goes out: a value QuickBooks already holds (e.g. the truncated form of an
        # over-long name) is no change, so no Mod bumps the record's EditSequence and TimeModified for nothing.
        paths = [path for path in paths if not _same(before.get(path), after.get(path))]
        if not paths and change.lines is None:
            return _Pending(index, None, base, entity, change, updated, [], issues)
        tag, body = mod_body(base, updated, paths, entity, change_lines)
        rq = _built(base, tag, str(index), body)
        return _Pending(index, rq, base, entity, change, updated, paths, issues)

    def _retry_stale(self, stale: list[_Pending], results: list[Result]) -> None:
        try:
            current = self._reread([item.record for item in stale])
        except (TransportError, ConnectionFailed) as exc:
            for item in stale:
                results[item.index].error = exc
            return
        retry: list[_Pending] = []
        for item in stale:
            result = results[item.index]
            base = item.record
            ident = getattr(base, item.entity.id_kind)
            now = current.get(ident)
            if now is None:
                result.error = error_for_status(3120, f"{rec.label(base)} is no longer in QuickBooks",
                                                request=item.entity.mod_element, record=rec.label(base))
                continue
            conflicts = _conflicts(base, now, item.updated, item.paths, item.change)
            if conflicts:
                result.error = ModConflictError(rec.label(now), conflicts)
                continue
            log.info("%s changed in QuickBooks (other fields only); retrying with the new EditSequence",
                     rec.label(base))
            try:
                fresh = self._prepare_mod(item.index, item.change, now)
            except QbsfError as exc:
                result.error = exc
                continue
            retry.append(fresh)
        answers, failed = self._exchange(retry)
        for item in retry:
            if item.rq is None:
                results[item.index].ret = item.record
                continue
            self._settle(results[item.index], answers.get(str(item.index)), item.entity, failed.get(str(item.index)))
            error = results[item.index].error
            if isinstance(error, StaleEditSequence):
                error.hint = "the record keeps changing in QuickBooks; qbsf retries next cycle"

    def _reread(self, bases: list[Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        by_entity: dict[str, list[str]] = {}
        for base in bases:
            entity = self._entity(base)
            by_entity.setdefault(entity.name, []).append(getattr(base, entity.id_kind))
        for name, ids in by_entity.items():
            entity = entities.entity(name)
            for record in self.query(entity, ids=ids, include_lines=True):
                found[getattr(record, entity.id_kind)] = record
        return found

    # --- queries -------------------------------------------------------------------------------------------

    def _query_by_ids(self, rq_tag: str, key: str, values: Iterable[str], *,
                      extra: dict[str, Any] | None = None, chunk: int = 100, missing_ok: bool = False) -> list[Any]:
        """All records whose ``key`` (ListID/FullName/TxnID/RefNumber) is in ``values``: one message, many requests.
        ``missing_ok``: values not in QuickBooks are expected (a lookup), so QuickBooks' 500 warning is logged at
        debug level."""
        values = list(dict.fromkeys(values))
        pending = []
        for number, start in enumerate(range(0, len(values), chunk)):
            body = {key: values[start:start + chunk], **(extra or {})}
            pending.append(_Pending(number, request(rq_tag, f"q{number}", body), None, None))
        records: list[Any] = []
        answers, failed = self._exchange(pending)
        if failed:
            raise next(iter(failed.values()))
        for number in range(len(pending)):
            response = answers.get(f"q{number}")
            if response is None:
                raise TransportError(f"QuickBooks returned no response for {rq_tag} q{number}",
                                     hint="qbsf retries next cycle")
            self._raise_for(response, rq_tag[:-2], missing_ok=missing_ok)
            records.extend(r for r in (self._parse_ret(ret) for ret in response.rets) if r is not None)
        return records

    def _iterate(self, rq_tag: str, body: dict[str, Any]) -> Iterator[Any]:
        """Page through a query with iterator Start/Continue inside this session; yields parsed records."""
        page_body = {"MaxReturned": self.page_size, **body}
        response = self._one(request(rq_tag, "page", page_body, attrs={"iterator": "Start"}))
        while True:
            self._raise_for(response, rq_tag[:-2])
            for ret in response.rets:
                record = self._parse_ret(ret)
                if record is not None:
                    yield record
            if not response.remaining or not response.iterator_id:
                return
            response = self._one(request(rq_tag, "page", {"MaxReturned": self.page_size},
                                         attrs={"iterator": "Continue", "iteratorID": response.iterator_id}))

    def query(self, entity: str | QbEntity, *, ids: Sequence[str] | None = None,
              names: Sequence[str] | None = None, modified_since: datetime | None = None,
              modified_until: datetime | None = None, include_lines: bool = False, include_linked: bool = False,
              include_inactive: bool = False, missing_ok: bool = False) -> Iterator[Any]:
        """Records of one QuickBooks entity (Customer, Item, Invoice, SalesOrder, ReceivePayment, Vendor, Bill …):
        by id (ListID/TxnID), by name (FullName, a transaction's RefNumber), or modified in a window (all of them
        without one), paged with an iterator where QuickBooks has one.

        ``include_lines`` asks a transaction's lines too; ``include_linked`` the transactions linked to it (into
        ``record.linked``; an entity whose query cannot is an error); ``include_inactive`` inactive list elements
        too (a query by id or name finds them anyway); ``missing_ok``: ids or names not in QuickBooks are expected
        (a look-up), so QuickBooks' "not found" warning is logged at debug level. Records of a type qbsf does not
        read (an item group among items) are left out.
        """
        entity = entities.entity(entity)
        if include_linked and not entity.linked:
            raise UnknownEntityError(f"QuickBooks does not list the transactions linked to a {entity.name}",
                                     hint="ask for them from the other transaction (the invoice a payment pays)")
        if ids is not None or names is not None:
            # a query by id or name finds inactive list elements anyway; a transaction's flags still apply
            extra = query_body(entity, include_lines=include_lines, include_linked=include_linked) \
                if entity.is_txn else {}
            key = entity.id_kind if ids is not None else entity.name_key
            return iter(self._query_by_ids(entity.query_rq, key, ids if ids is not None else names or [],
                                           extra=extra, missing_ok=missing_ok))
        body = query_body(entity, since=modified_since, until=modified_until, include_lines=include_lines,
                          include_linked=include_linked, include_inactive=include_inactive)
        if entity.paged:
            return self._iterate(entity.query_rq, body)
        return iter(self._query_once(entity.query_rq, body))

    def _query_once(self, rq_tag: str, body: dict[str, Any]) -> list[Any]:
        """One query answered in one response (the lists QuickBooks pages without an iterator)."""
        response = self._one(request(rq_tag, "all", body))
        self._raise_for(response, rq_tag[:-2])
        return [r for r in (self._parse_ret(ret) for ret in response.rets) if r is not None]

    def query_customers(self, *, list_ids: Sequence[str] | None = None, names: Sequence[str] | None = None,
                        modified_since: datetime | None = None, modified_until: datetime | None = None,
                        include_inactive: bool = False, missing_ok: bool = False) -> Iterator[rec.Customer]:
        """Customers by ListID, by FullName, or by modified date (see :meth:`query`)."""
        return self.query("Customer", ids=list_ids, names=names, modified_since=modified_since,
                          modified_until=modified_until, include_inactive=include_inactive, missing_ok=missing_ok)

    def query_items(self, *, list_ids: Sequence[str] | None = None, names: Sequence[str] | None = None,
                    modified_since: datetime | None = None, modified_until: datetime | None = None,
                    include_inactive: bool = False, missing_ok: bool = False) -> Iterator[Any]:
        """Service, non-inventory and inventory items (ItemQuery); other item types are skipped (see :meth:`query`)."""
        return self.query("Item", ids=list_ids, names=names, modified_since=modified_since,
                          modified_until=modified_until, include_inactive=include_inactive, missing_ok=missing_ok)

    def query_invoices(self, *, txn_ids: Sequence[str] | None = None, ref_numbers: Sequence[str] | None = None,
                       modified_since: datetime | None = None, modified_until: datetime | None = None,
                       include_lines: bool = True) -> Iterator[rec.Invoice]:
        """Invoices by TxnID, by RefNumber, or modified in a window (paged), with their lines by default."""
        return self.query("Invoice", ids=txn_ids, names=ref_numbers, modified_since=modified_since,
                          modified_until=modified_until, include_lines=include_lines)

    def query_accounts(self, *, names: Sequence[str] | None = None, account_types: Sequence[str] = (),
                       include_inactive: bool = False) -> list[rec.Account]:
        """Accounts (AccountQuery has no iterator in qbXML; the chart of accounts is small)."""
        if names is not None:
            return self._query_by_ids("AccountQueryRq", "FullName", names)
        body: dict[str, Any] = {"ActiveStatus": "All" if include_inactive else "ActiveOnly"}
        if account_types:
            body["AccountType"] = list(account_types)
        response = self._one(request("AccountQueryRq", "accounts", body))
        self._raise_for(response, "AccountQuery")
        return [self._parse_ret(ret) for ret in response.rets]

    def query_terms(self, *, include_inactive: bool = False) -> list[rec.Terms]:
        """Standard and date-driven terms (TermsQuery)."""
        body = {"ActiveStatus": "All" if include_inactive else "ActiveOnly"}
        response = self._one(request("TermsQueryRq", "terms", body))
        self._raise_for(response, "TermsQuery")
        return [r for r in (self._parse_ret(ret) for ret in response.rets) if r is not None]

    def query_deleted(self, *, list_types: Sequence[str] = (), txn_types: Sequence[str] = (),
                      since: datetime | None = None) -> list[rec.DeletedRecord]:
        """Deleted list elements and transactions (ListDeletedQuery/TxnDeletedQuery) in one message."""
        window = {"DeletedDateRangeFilter": {"FromDeletedDate": when(since)}} if since is not None else {}
        pending = []
        if list_types:
            pending.append(_Pending(0, request("ListDeletedQueryRq", "deleted-lists",
                                               {"ListDelType": list(list_types), **window}), None, None))
        if txn_types:
            pending.append(_Pending(1, request("TxnDeletedQueryRq", "deleted-txns",
                                               {"TxnDelType": list(txn_types), **window}), None, None))
        deleted: list[rec.DeletedRecord] = []
        answers, failed = self._exchange(pending)
        if failed:
            raise next(iter(failed.values()))
        for _, response in sorted(answers.items()):
            self._raise_for(response, response.tag.removesuffix("Rs"))
            deleted.extend(parse_deleted(ret) for ret in response.rets)
        return deleted

    def deleted_since(self, names: Iterable[str | QbEntity], *, since: datetime | None = None
                      ) -> list[rec.DeletedRecord]:
        """Records of these entities deleted since ``since`` (each entity's ListDelType/TxnDelType values: ``Item``
        asks for every item type qbsf reads), list elements and transactions in one message."""
        list_types: list[str] = []
        txn_types: list[str] = []
        for name in names:
            declared = entities.entity(name)
            (txn_types if declared.is_txn else list_types).extend(declared.deleted_types)
        return self.query_deleted(list_types=list(dict.fromkeys(list_types)),
                                  txn_types=list(dict.fromkeys(txn_types)), since=since)

    # --- void ----------------------------------------------------------------------------------------------

    def void_many(self, txn_type: str, txn_ids: Sequence[str]) -> list[Result]:
        """Void transactions (TxnVoidRq, one per TxnID, ``batch_size`` a message): QuickBooks keeps each, with
        its amounts at zero and "VOID:" before its memo; ``Result.ret`` is the TxnID voided. One that cannot be
        voided fails alone (``Result.error``), the others are voided."""
        pending: list[_Pending] = []
        unbuilt: dict[int, QbsfError] = {}
        for index, txn_id in enumerate(txn_ids):
            try:
                rq = request("TxnVoidRq", f"void-{index}", {"TxnVoidType": txn_type, "TxnID": txn_id})
            except QbsfError as exc:  # one that cannot be asked for fails alone
                rq, unbuilt[index] = None, exc
            pending.append(_Pending(index, rq, txn_id, None))
        answers, failed = self._exchange(pending)
        results: list[Result] = []
        for item in pending:
            request_id = item.rq.get("requestID") if item.rq is not None else ""
            result = Result(item.index, request_id, item.record)
            response = answers.get(request_id)
            if item.index in unbuilt:
                result.error = unbuilt[item.index]
            elif response is None:
                result.error = failed.get(request_id) or TransportError(
                    f"QuickBooks returned no response for TxnVoid of {txn_type} {item.record}",
                    hint="the message may not have been processed; qbsf tries again next cycle")
            else:
                try:
                    self._raise_for(response, "TxnVoid", f"{txn_type} {item.record}")
                    result.ret = item.record  # TxnVoidRs answers with leaves (TxnVoidType, TxnID …), no *Ret
                except QbsfError as exc:
                    result.error = exc
            results.append(result)
        return results

# --- helpers -----------------------------------------------------------------------------------------------

_OWN_CACHE: dict[type, frozenset[str]] = {}


def _own(record: Any) -> frozenset[str]:
    """Flat scalar string paths of a record type (refs and addresses are dotted; bare ref aliases excluded)."""
    cls = type(record)
    own = _OWN_CACHE.get(cls)
    if own is None:
        own = frozenset(path for path, kind in rec.flat_fields(cls).items() if kind == "str")
        _OWN_CACHE[cls] = own
    return own


def _shallow_copy(record: Any) -> Any:
    return copy.copy(record)


def _same(a: Any, b: Any) -> bool:
    return (a in (None, "") and b in (None, "")) or a == b


def _conflicts(base: Any, now: Any, updated: Any, paths: list[str], change: Change | None) -> dict:
    was_flat, now_flat, want_flat = rec.to_flat(base), rec.to_flat(now), rec.to_flat(updated)
    conflicts = {}
    for path in paths:
        was, current, wanted = was_flat.get(path), now_flat.get(path), want_flat.get(path)
        if not _same(current, was) and not _same(current, wanted):
            conflicts[path] = (was, current, wanted)
    if change is not None and change.lines is not None:
        for shape in entities.line_shapes(type(base)):
            before = [rec.to_flat(line) for line in getattr(base, shape.attr)]
            after = [rec.to_flat(line) for line in getattr(now, shape.attr)]
            if before != after:
                conflicts["lines"] = (len(before), len(after), len(change.lines))
    return conflicts


def _unbuildable(record: Any, exc: Exception) -> FieldValueError:
    return FieldValueError(f"{rec.label(record)}: a value cannot be written as qbXML ({exc})",
                           hint="check the record's values at the source")


def _built(record: Any, tag: str, request_id: str | None, body: dict[str, Any]) -> etree._Element:
    """``<{tag}Rq>`` for ``record``; a value qbXML cannot carry is reported with the record's name."""
    try:
        return request(f"{tag}Rq", request_id, body, wrap=tag)
    except FieldValueError as exc:
        raise FieldValueError(f"{rec.label(record)}: {exc.message}", hint=exc.hint) from None
