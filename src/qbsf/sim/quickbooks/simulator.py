"""QuickBooksSimulator: a QuickBooks Desktop company that answers qbXML messages.

One request document in, one response document out (``process``/``send``), as the
QuickBooks request processor does: each request in the ``QBXMLMsgsRq`` is answered
with its own ``*Rs`` carrying the ``requestID``, ``statusCode``, ``statusSeverity`` and
``statusMessage`` QuickBooks would return. The response validates against Intuit's
schema for the qbXML version the request named.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any

from lxml import etree

from qbsf.errors import QbsfError, XmlError
from qbsf.sim.quickbooks import documents, links, void
from qbsf.sim.quickbooks.company import (
    ALL_ITEM_KINDS,
    ENTITY_KINDS,
    ITEM_KINDS,
    NAMESPACE,
    STANDARD_LISTS,
    TERMS_KINDS,
    TXN_KINDS,
    Company,
    QbStatus,
    date_macro,
    parse_decimal,
    severity_of,
    to_cents,
)
from qbsf.sim.quickbooks.doc_schema import DOC_KINDS
from qbsf.sim.quickbooks.schema import LIST_DEL_TYPES, REPEATED, TXN_DEL_TYPES
from qbsf.sim.quickbooks.store import Row, Store
from qbsf.xmlsafe import parse_xml

log = logging.getLogger(__name__)

_VERSION_PI = re.compile(r"<\?qbxml\s+version\s*=\s*[\"'](\d+\.\d+)[\"']\s*\?>")
PARSE_HRESULT = 0x80040400
_PARSE_MESSAGE = "QuickBooks found an error when parsing the provided XML text stream."
_NO_MATCH = "A query request did not find a matching object in QuickBooks"
_LIST_KINDS = ("Customer", "Vendor", "OtherName", "Employee", "Account", *ALL_ITEM_KINDS, *STANDARD_LISTS)
# Lists qbXML can add to and change (OSR: there is no TemplateAdd, and CustomerType, VendorType, JobType,
# ShipMethod, CustomerMsg and PaymentMethod have an Add but no Mod).
_NO_ADD = frozenset({"Template"})
_NO_MOD = frozenset({"Template", "CustomerType", "VendorType", "JobType", "ShipMethod", "CustomerMsg",
                     "PaymentMethod"})
_FAULT_MESSAGES = {
    3170: "There was an error when modifying a {what}. QuickBooks error message: This list has been modified by "
          "another user.",
    3175: "There was an error when modifying a {what}. The record could not be locked. It is in use by another user.",
    3180: "There was an error when saving a {what}. QuickBooks error message: This list has been modified by "
          "another user.",
    3200: "The provided edit sequence is out-of-date (injected into {what}).",
    3100: "The name of the list element is already in use (injected into {what}).",
    3120: "Object specified in the request cannot be found (injected into {what}).",
    3140: "There is an invalid reference to QuickBooks in the {what} (injected).",
}
_MAX_ITERATORS = 100
# Every qbXML version the US SDK defines (there is no 9.0); QuickBooks Desktop 2021 and later report them all in
# HostRet/SupportedQBXMLVersion and answer each request in the version it named (OSR, "HostQuery").
QBXML_VERSIONS = ("1.0", "1.1", "2.0", "2.1", "3.0", "4.0", "4.1", "5.0", "6.0", "7.0", "8.0", "10.0", "11.0",
                  "12.0", "13.0", "14.0", "15.0", "16.0")
_WRITE_OPS = re.compile(r"(Add|Mod|Del)$")
# Query elements the simulator applies; any other filter is answered with a 530 warning, never silently ignored.
_QUERY_ELEMENTS = frozenset({
    "ListID", "FullName", "TxnID", "RefNumber", "RefNumberCaseSensitive", "MaxReturned", "ActiveStatus",
    "FromModifiedDate", "ToModifiedDate", "NameFilter", "NameRangeFilter", "AccountType", "TotalBalanceFilter",
    "ClassFilter", "ModifiedDateRangeFilter", "TxnDateRangeFilter", "EntityFilter", "AccountFilter",
    "RefNumberFilter", "RefNumberRangeFilter", "PaidStatus", "IncludeLineItems", "IncludeLinkedTxns",
    "IncludeRetElement", "OwnerID",
})


class QbxmlParseError(XmlError):
    """The whole message was refused before any request ran, as QuickBooks' HRESULT 0x80040400 does."""

    def __init__(self, message: str, *, hint: str | None = None, hresult: int = PARSE_HRESULT) -> None:
        super().__init__(message, hint=hint)
        self.hresult = hresult


class SimulatorError(QbsfError):
    """A direct-API call (``sim.add``/``modify``/``delete``) that QuickBooks would refuse, with its status."""

    def __init__(self, status_code: int, status_message: str) -> None:
        super().__init__(f"QuickBooks status {status_code}: {status_message}")
        self.status_code = status_code
        self.status_message = status_message


@dataclass
class SimulatorStats:
    """What the simulator has answered: messages (documents) and requests (``*Rq`` elements)."""

    messages: int = 0
    requests: int = 0
    errors: int = 0
    requests_by_type: Counter[str] = field(default_factory=Counter)


@dataclass
class _Iterator:
    remaining: deque[str]
    page_size: int
    kinds: tuple[str, ...]
    options: dict[str, Any]


_LINE_TAGS = {"InvoiceLineAdd": "line", "InvoiceLineMod": "line", "InvoiceLineGroupAdd": "group",
              "InvoiceLineGroupMod": "group"}


def _data(element: etree._Element) -> dict[str, Any]:
    """A request aggregate as plain data: text for leaves, dict for aggregates, list for repeatable elements
    (and, for an invoice, ``_line_order``: how its lines and item groups interleave)."""
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        if child.tag in _LINE_TAGS:
            out.setdefault("_line_order", []).append(_LINE_TAGS[child.tag])
        value: Any = _data(child) if len(child) else (child.text or "")
        if child.tag in REPEATED:
            out.setdefault(child.tag, []).append(value)
        elif child.tag in out:
            existing = out[child.tag]
            out[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[child.tag] = value
    return out


def _listify(fields: dict[str, Any]) -> dict[str, Any]:
    """Direct-API fields with repeatable elements as lists, so one line may be given as a plain dict, and Python
    booleans as qbXML's ``true``/``false`` (``IsActive=False`` would otherwise change nothing, silently)."""
    return {key: [_qbxml_value(value)] if key in REPEATED and isinstance(value, dict) else _qbxml_value(value)
            for key, value in fields.items()}


def _qbxml_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return {key: _qbxml_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_qbxml_value(item) for item in value]
    return value


def _emit(parent: etree._Element, tag: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _emit(parent, tag, item)
    elif isinstance(value, dict):
        element = etree.SubElement(parent, tag)
        for key, item in value.items():
            _emit(element, key, item)
    elif value is not None:
        etree.SubElement(parent, tag).text = str(value)


def _texts(element: etree._Element, tag: str) -> list[str]:
    return [(child.text or "").strip() for child in element.findall(tag)]


def _text(element: etree._Element | None, tag: str) -> str | None:
    if element is None:
        return None
    found = element.find(tag)
    return None if found is None else (found.text or "").strip()


class QuickBooksSimulator:
    """A QuickBooks Desktop company file answering qbXML, in memory or persisted in SQLite.

    ``path`` None keeps the company in memory; a path keeps it in that SQLite file between runs.
    ``utc_offset_hours`` (hours or a ``tzinfo``) is the company's time zone for TimeCreated/TimeModified.
    ``qbxml_versions`` are the versions the host reports and accepts. ``clock`` returns the current UTC time.
    """

    def __init__(self, path: Path | str | None = None, *, company_name: str = "Demo Company",
                 utc_offset_hours: float | tzinfo = -8, qbxml_versions: Iterable[str] = QBXML_VERSIONS,
                 clock: Callable[[], datetime] | None = None, seed_defaults: bool = True,
                 sales_tax: bool = False) -> None:
        self.tz: tzinfo = utc_offset_hours if isinstance(utc_offset_hours, tzinfo) else timezone(
            timedelta(hours=utc_offset_hours))
        self.qbxml_versions = tuple(qbxml_versions)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._offset = timedelta(0)
        self._lock = threading.RLock()
        self._store = Store(Path(path) if path is not None else None)
        self._company = Company(self._store, self.tz, self._epoch)
        self._iterators: dict[str, _Iterator] = {}
        self._faults: deque[tuple[int, str | None]] = deque()
        self._fault_rate = 0.0
        self._fault_codes: tuple[int, ...] = (3170, 3175, 3180)
        self._fault_random = random.Random(0)
        self.stats = SimulatorStats()
        self._closed = False
        if self._store.meta("company_name") is None:
            self._store.begin()
            self._store.set_meta("company_name", company_name)
            self._store.set_meta("pref:sales_tax", "true" if sales_tax else "false")
            if seed_defaults:
                self._seed()
            self._store.commit()
        self.company_name = self._store.meta("company_name") or company_name

    @property
    def sales_tax(self) -> bool:
        """Whether the company collects sales tax (fixed when the company file is created: ``sales_tax=True``)."""
        return self._company.sales_tax_on()

    # --- clock ------------------------------------------------------------------------------------------------
    def now(self) -> datetime:
        """The simulator's current time (UTC, whole seconds)."""
        moment = self._clock() + self._offset
        return moment.replace(microsecond=0)

    def _epoch(self) -> int:
        return int(self.now().timestamp())

    def advance(self, seconds: float) -> None:
        """Move the simulator's clock forward (due dates, TimeModified)."""
        self._offset += timedelta(seconds=seconds)

    def set_clock(self, moment: datetime) -> None:
        """Make ``now()`` read ``moment`` (a naive value is taken in the company's time zone)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.tz)
        self._offset = moment - self._clock()

    # --- faults -----------------------------------------------------------------------------------------------
    def fail_next(self, status_code: int = 3180, times: int = 1, request_type: str | None = None) -> None:
        """Answer the next ``times`` requests (of ``request_type``, e.g. "CustomerAdd", or any) with this status."""
        for _ in range(times):
            self._faults.append((status_code, request_type))

    def set_fault_rate(self, rate: float, *, seed: int = 0, status_codes: Iterable[int] = (3170, 3175, 3180)
                       ) -> None:
        """Fail this fraction of Add/Mod/Del requests, reproducibly, with QuickBooks' busy/save-failed statuses."""
        self._fault_rate = rate
        self._fault_codes = tuple(status_codes)
        self._fault_random = random.Random(seed)

    def _fault(self, op: str) -> QbStatus | None:
        for index, (code, request_type) in enumerate(self._faults):
            if request_type is None or request_type == op:
                del self._faults[index]
                return QbStatus(code, _FAULT_MESSAGES.get(code, "Injected fault {what}.").format(what=op))
        if self._fault_rate and _WRITE_OPS.search(op) and self._fault_random.random() < self._fault_rate:
            code = self._fault_random.choice(self._fault_codes)
            return QbStatus(code, _FAULT_MESSAGES.get(code, "Injected fault {what}.").format(what=op))
        return None

    # --- the qbXML interface ------------------------------------------------------------------------------------
    def process(self, request_xml: str) -> str:
        """Answer one qbXML request document; raises QbxmlParseError where QuickBooks refuses the whole message."""
        with self._lock:
            if self._closed:
                raise QbsfError("The QuickBooks simulator's company file is closed.",
                                hint="open a new QuickBooksSimulator (iterators and sessions do not survive close)")
            self.stats.messages += 1
            version = self._version(request_xml)
            try:
                root = parse_xml(request_xml, source="qbXML request")
            except XmlError as exc:
                raise QbxmlParseError(_PARSE_MESSAGE, hint=exc.message) from None
            messages = root.find("QBXMLMsgsRq") if root.tag == "QBXML" else None
            if messages is None:
                raise QbxmlParseError(_PARSE_MESSAGE, hint="the document must be <QBXML><QBXMLMsgsRq …>")
            on_error = messages.get("onError", "stopOnError")
            if on_error == "rollbackOnError":
                # Intuit documents rollbackOnError as not valid for QuickBooks Desktop: the message set fails.
                raise QbxmlParseError("The onError value rollbackOnError is not supported by QuickBooks Desktop.",
                                      hint="send onError=\"stopOnError\" or \"continueOnError\"")
            response_root = etree.Element("QBXML")
            response_messages = etree.SubElement(response_root, "QBXMLMsgsRs")
            self._store.begin()
            try:
                stopped = False
                for request in messages:
                    if not isinstance(request.tag, str):
                        continue
                    if stopped:
                        response_messages.append(self._not_processed(request))
                        continue
                    response = self._answer(request, version)
                    if messages.get("responseData") == "includeNone":
                        del response[:]  # status only, as the message set asked
                    response_messages.append(response)
                    if on_error != "continueOnError" and severity_of(int(response.get("statusCode"))) == "Error":
                        stopped = True  # stopOnError: every later request is answered 3231, not run
                self._store.commit()
            except BaseException:
                self._store.rollback()
                raise
            body = etree.tostring(response_root, encoding="unicode")
            return f'<?xml version="1.0" ?>\n<?qbxml version="{version}"?>\n{body}'

    send = process

    def _version(self, request_xml: str) -> str:
        # The instruction may follow the XML declaration, comments or blank lines: search the whole prolog.
        start = request_xml.find("<QBXML")
        match = _VERSION_PI.search(request_xml if start < 0 else request_xml[:start])
        if match is None:
            raise QbxmlParseError(_PARSE_MESSAGE, hint='the request needs <?qbxml version="…"?> after the XML '
                                                       "declaration")
        if match.group(1) not in self.qbxml_versions:
            raise QbxmlParseError(
                f"The version of qbXML that was requested ({match.group(1)}) is not supported or is unknown.",
                hint=f"this QuickBooks supports {', '.join(self.qbxml_versions)} (ask HostQuery)")
        return match.group(1)

    @staticmethod
    def _not_processed(request: etree._Element) -> etree._Element:
        """A request after the first Error of a stopOnError message: answered 3231 and not run (OSR status codes)."""
        if not request.tag.endswith("Rq"):
            raise QbxmlParseError(_PARSE_MESSAGE, hint=f"<{request.tag}> is not a qbXML request")
        response = etree.Element(f"{request.tag[:-2]}Rs")
        if request.get("requestID") is not None:
            response.set("requestID", request.get("requestID"))
        response.set("statusCode", "3231")
        response.set("statusSeverity", "Error")
        response.set("statusMessage", "The request has not been processed.")
        return response

    def _answer(self, request: etree._Element, version: str) -> etree._Element:
        tag = request.tag
        if not tag.endswith("Rq"):
            raise QbxmlParseError(_PARSE_MESSAGE, hint=f"<{tag}> is not a qbXML request")
        op = tag[:-2]
        self.stats.requests += 1
        self.stats.requests_by_type[op] += 1
        response = etree.Element(f"{op}Rs")
        if request.get("requestID") is not None:
            response.set("requestID", request.get("requestID"))
        status: QbStatus | None = self._fault(op)
        children: list[etree._Element] = []
        attributes: dict[str, str] = {}
        if status is None:
            warnings: list[QbStatus] = []
            self._store.savepoint()
            try:
                children, attributes = self._dispatch(op, request, warnings)
                self._store.release()
                # Every element QuickBooks could not take is named, in one message, once.
                status = QbStatus(warnings[0].code, " ".join(dict.fromkeys(w.message for w in warnings))
                                  ) if warnings else QbStatus(0, "Status OK")
            except _ResultWithStatus as answered:
                self._store.release()
                children, attributes, status = answered.elements, answered.attributes, answered
            except QbStatus as refused:
                self._store.rollback_savepoint()
                status = refused
            except (ArithmeticError, KeyError, LookupError, TypeError, ValueError, AttributeError):
                # A request the simulator cannot make sense of fails alone, as in QuickBooks, and leaves a trace.
                log.exception("simulator failed on %s", op)
                self._store.rollback_savepoint()
                status = QbStatus(1000, "There was an internal error when processing the request "
                                        f"(the simulator could not process this {op}; see its log).")
        if status.severity == "Error":
            self.stats.errors += 1
            log.debug("%s refused: %s %s", op, status.code, status.message)
        response.set("statusCode", str(status.code))
        response.set("statusSeverity", status.severity)
        response.set("statusMessage", status.message)
        for key, value in attributes.items():
            response.set(key, value)
        for child in children:
            response.append(child)
        return response

    def _dispatch(self, op: str, request: etree._Element, warnings: list[QbStatus]
                  ) -> tuple[list[etree._Element], dict[str, str]]:
        company = self._company
        if op == "HostQuery":
            return [self._host_ret()], {}
        if op == "CompanyQuery":
            return [self._company_ret()], {}
        if op == "PreferencesQuery":
            return [self._preferences_ret()], {}
        if op.endswith("Query") and op not in ("ListDeletedQuery", "TxnDeletedQuery"):
            return self._query(op[:-5], request)
        if op.endswith("Add") or op.endswith("Mod"):
            kind, action = op[:-3], op[-3:]
            payload_element = request.find(op)
            payload = _data(payload_element) if payload_element is not None else {}
            if kind == "Invoice":
                row = links.invoice_add(company, payload, warnings) if action == "Add" else links.invoice_mod(
                    company, payload, warnings)
            elif kind == "ReceivePayment" and action == "Add":
                row = links.payment_add(company, payload, warnings)
            elif kind == "BillPaymentCheck" and action == "Add":
                row = links.bill_payment_add(company, payload, warnings)
            elif kind == "ReceivePayment":
                row = documents.payment_mod(company, payload, warnings)
            elif kind in DOC_KINDS:
                row = documents.add(company, kind, payload, warnings) if action == "Add" else documents.mod(
                    company, kind, payload, warnings)
            elif kind == "SalesReceipt":
                row = company.sales_receipt_add(payload, warnings) if action == "Add" else documents.mod(
                    company, kind, payload, warnings)
            elif kind in (*_LIST_KINDS, *TERMS_KINDS) and not (kind in TERMS_KINDS and action == "Mod") \
                    and kind not in (_NO_ADD if action == "Add" else _NO_MOD):
                row = company.list_add(kind, payload, warnings) if action == "Add" else company.list_mod(
                    kind, payload, warnings)
            else:
                raise self._unsupported(op)
            include = set(_texts(request, "IncludeRetElement")) or None
            return [self._ret_element(row, include=include)], {}
        if op == "ListDel":
            kind = _text(request, "ListDelType") or ""
            if kind not in LIST_DEL_TYPES:
                raise self._unsupported(f"ListDel of {kind}")
            row = company.list_delete(kind, _text(request, "ListID") or "")
            return self._leaves([("ListDelType", kind), ("ListID", row.id),
                                 ("TimeDeleted", company.format_time(self._epoch())), ("FullName", row.full_name)]), {}
        if op == "TxnDel":
            kind = _text(request, "TxnDelType") or ""
            if kind not in TXN_DEL_TYPES:
                raise self._unsupported(f"TxnDel of {kind}")
            row = links.txn_delete(company, kind, _text(request, "TxnID") or "")
            deleted_at = company.format_time(self._epoch())
            return self._leaves([("TxnDelType", kind), ("TxnID", row.id), ("TimeDeleted", deleted_at),
                                 ("RefNumber", row.ref_number)]), {}
        if op in ("ListDeletedQuery", "TxnDeletedQuery"):
            return self._deleted_query(op, request)
        if op == "TxnVoid":
            return self._txn_void(request), {}
        raise self._unsupported(op)

    def _txn_void(self, request: etree._Element) -> list[etree._Element]:
        """TxnVoidRq (:mod:`qbsf.sim.quickbooks.void`): the TxnVoidRet leaves of the voided transaction."""
        kind = _text(request, "TxnVoidType") or ""
        if kind not in void.VOIDABLE:
            raise void.unsupported(kind)
        row = void.txn_void(self._company, kind, _text(request, "TxnID") or "")
        return self._leaves([("TxnVoidType", kind), ("TxnID", row.id),
                             ("TimeCreated", self._company.format_time(row.time_created)),
                             ("TimeModified", self._company.format_time(row.time_modified)),
                             ("RefNumber", row.ref_number)])

    @staticmethod
    def _unsupported(what: str) -> QbStatus:
        return QbStatus(3250, f"This feature is not enabled or not available in this version of QuickBooks "
                              f"(the simulator does not model {what}).")

    @staticmethod
    def _leaves(pairs: list[tuple[str, str | None]]) -> list[etree._Element]:
        out = []
        for tag, value in pairs:
            if value is not None:
                element = etree.Element(tag)
                element.text = value
                out.append(element)
        return out

    def _ret_element(self, row: Row, *, include: set[str] | None = None, include_lines: bool = True,
                     include_linked: bool = False, names: dict[str, str | None] | None = None) -> etree._Element:
        data = self._company.ret(row, include_lines=include_lines, include_linked=include_linked, names=names)
        element = etree.Element(f"{row.kind}Ret")
        for key, value in data.items():
            if include is None or key in include:
                _emit(element, key, value)
        order = row.body.get("_order")
        if order and data.get("InvoiceLineGroupRet"):
            # Lines and item groups come back in the order they stand on the invoice (the schema's choice).
            placed = [child for child in element if child.tag in ("InvoiceLineRet", "InvoiceLineGroupRet")]
            if placed:
                at = element.index(placed[0])
                by_id = {child.findtext("TxnLineID"): child for child in placed}
                for child in placed:
                    element.remove(child)
                for offset, line_id in enumerate(line_id for line_id in order if line_id in by_id):
                    element.insert(at + offset, by_id[line_id])
        return element

    # --- queries ----------------------------------------------------------------------------------------------
    def _query(self, entity: str, request: etree._Element) -> tuple[list[etree._Element], dict[str, str]]:
        kinds = {"Item": ALL_ITEM_KINDS, "Terms": TERMS_KINDS}.get(entity, (entity,))
        if not all(kind in (*_LIST_KINDS, *TERMS_KINDS, *TXN_KINDS) for kind in kinds):
            raise self._unsupported(f"{entity}Query")
        is_txn = kinds[0] in TXN_KINDS
        options = {
            "include": set(_texts(request, "IncludeRetElement")) or None,
            "lines": _text(request, "IncludeLineItems") == "true",
            "linked": _text(request, "IncludeLinkedTxns") == "true",
        }
        iterator = request.get("iterator")
        if iterator in ("Continue", "Stop"):
            return self._continue(request, stop=iterator == "Stop")
        id_tag = "TxnID" if is_txn else "ListID"
        ids, names = _texts(request, id_tag), _texts(request, "FullName") if not is_txn else []
        warning: QbStatus | None = None
        ignored = sorted({child.tag for child in request if isinstance(child.tag, str)} - _QUERY_ELEMENTS)
        if ignored:
            warning = QbStatus(530, "; ".join(f'The field "{tag}" is not supported by this implementation'
                                              for tag in ignored) + " (the filter was not applied).")
        refs = [(ref, False) for ref in _texts(request, "RefNumber")] + [
            (ref, True) for ref in _texts(request, "RefNumberCaseSensitive")] if is_txn else []
        if ids or names or refs:
            matched, missing = self._by_ids(kinds, id_tag, ids, names, refs)
            warning = warning or missing
        else:
            matched = self._filter(kinds, request, is_txn)
        page_size = int(_text(request, "MaxReturned") or 0) or None
        attributes: dict[str, str] = {}
        if iterator == "Start":
            page_size = page_size or len(matched) or 1
            iterator_id = "{" + str(uuid.uuid4()) + "}"
            remaining = deque(matched[page_size:])
            page = matched[:page_size]
            if remaining:
                if len(self._iterators) >= _MAX_ITERATORS:
                    # Like QuickBooks, a session holds a bounded number of open iterators: the oldest is dropped.
                    del self._iterators[next(iter(self._iterators))]
                self._iterators[iterator_id] = _Iterator(remaining, page_size, kinds, options)
            attributes = {"iteratorRemainingCount": str(len(remaining)), "iteratorID": iterator_id}
        else:
            page = matched[:page_size] if page_size else matched
        meta_data = request.get("metaData", "NoMetaData")
        if meta_data == "MetaDataOnly":
            # QuickBooks counts the matches without returning them.
            return [], {**attributes, "retCount": str(len(matched))}
        elements = self._render(page, options)
        if meta_data == "MetaDataAndResponseData":
            attributes["retCount"] = str(len(elements))
        if warning is not None:
            raise _ResultWithStatus(elements, attributes, warning)
        if not elements:
            raise _ResultWithStatus([], attributes, QbStatus(1, _NO_MATCH))
        return elements, attributes

    def _by_ids(self, kinds: tuple[str, ...], id_tag: str, ids: list[str], names: list[str],
                refs: list[tuple[str, bool]]) -> tuple[list[str], QbStatus | None]:
        """Records named by ListID/TxnID, FullName or RefNumber, in request order, and a 500 for the first missing."""
        found: list[str] = []
        missing: QbStatus | None = None
        for record_id in ids:
            row = self._company.get(record_id, kinds)
            if row is None:
                missing = missing or self._missing(record_id)
            else:
                found.append(row.id)
        for full_name in names:
            row = self._store.by_name(NAMESPACE[kinds[0]], full_name)
            if row is None or row.kind not in kinds:
                missing = missing or self._missing(full_name)
            else:
                found.append(row.id)
        for ref, case_sensitive in refs:
            collate = "" if case_sensitive else " COLLATE NOCASE"
            matches = self._store.select_ids(f"kind = ? AND ref_number = ?{collate}", (kinds[0], ref), "seq")
            if not matches:
                missing = missing or self._missing(ref)
            found.extend(matches)
        return found, missing

    @staticmethod
    def _missing(value: str) -> QbStatus:
        return QbStatus(500, "The query request has not been fully completed. There was a required element "
                             f'("{value}") that could not be found in QuickBooks.')

    def _continue(self, request: etree._Element, *, stop: bool = False
                  ) -> tuple[list[etree._Element], dict[str, str]]:
        iterator_id = request.get("iteratorID") or ""
        state = self._iterators.get(iterator_id)
        if state is None:
            raise QbStatus(3000, f'The given object ID "{iterator_id}" in the field "iteratorID" is invalid: the '
                                 "iterator is finished, unknown, or belongs to another QuickBooks session.")
        if stop:
            del self._iterators[iterator_id]
            return [], {"iteratorRemainingCount": "0", "iteratorID": iterator_id}
        page_size = int(_text(request, "MaxReturned") or 0) or state.page_size
        page = [state.remaining.popleft() for _ in range(min(page_size, len(state.remaining)))]
        if not state.remaining:
            del self._iterators[iterator_id]
        elements = self._render(page, state.options)
        return elements, {"iteratorRemainingCount": str(len(state.remaining)), "iteratorID": iterator_id}

    def _render(self, ids: list[str], options: dict[str, Any]) -> list[etree._Element]:
        names: dict[str, str | None] = {}
        elements = []
        for record_id in ids:
            row = self._store.get(record_id)
            if row is None:
                continue  # deleted while an iterator was open
            elements.append(self._ret_element(row, include=options["include"], include_lines=options["lines"],
                                              include_linked=options["linked"], names=names))
        return elements

    def _filter(self, kinds: tuple[str, ...], request: etree._Element, is_txn: bool) -> list[str]:
        where = [f"kind IN ({', '.join('?' for _ in kinds)})"]
        params: list[Any] = list(kinds)
        company = self._company
        if is_txn:
            date_range = request.find("ModifiedDateRangeFilter")
            from_modified, to_modified = _text(date_range, "FromModifiedDate"), _text(date_range, "ToModifiedDate")
            txn_range = request.find("TxnDateRangeFilter")
            if txn_range is not None:
                first, last = _text(txn_range, "FromTxnDate"), _text(txn_range, "ToTxnDate")
                if _text(txn_range, "DateMacro"):
                    start, end = date_macro(_text(txn_range, "DateMacro") or "", company.today())
                    first, last = start and start.isoformat(), end and end.isoformat()
                if first:
                    where.append("txn_date >= ?")
                    params.append(first)
                if last:
                    where.append("txn_date <= ?")
                    params.append(last)
            accounts = request.find("AccountFilter")
            if accounts is not None:
                account_ids = self._list_filter_ids(accounts, "account")
                where.append(f"json_extract(body, '$.ARAccountRef.ListID') IN ({', '.join('?' for _ in account_ids)})")
                params.extend(account_ids)
            entity = request.find("EntityFilter")
            if entity is not None:
                customer_ids = self._entity_ids(entity)
                where.append(f"customer_id IN ({', '.join('?' for _ in customer_ids)})")
                params.extend(customer_ids)
            ref_filter = request.find("RefNumberFilter")
            if ref_filter is not None:
                where.append("ref_number LIKE ? ESCAPE '\\'")
                params.append(self._like(_text(ref_filter, "MatchCriterion") or "", _text(ref_filter, "RefNumber")))
            ref_range = request.find("RefNumberRangeFilter")
            if ref_range is not None:
                for tag, op in (("FromRefNumber", ">="), ("ToRefNumber", "<=")):
                    if _text(ref_range, tag):
                        where.append(f"ref_number {op} ?")
                        params.append(_text(ref_range, tag))
            paid = _text(request, "PaidStatus")
            if paid == "PaidOnly":
                where.append("balance_cents <= 0")
            elif paid == "NotPaidOnly":
                where.append("balance_cents > 0")
            order = "seq"
        else:
            from_modified, to_modified = _text(request, "FromModifiedDate"), _text(request, "ToModifiedDate")
            active = _text(request, "ActiveStatus") or "ActiveOnly"
            if active != "All":
                where.append("is_active = ?")
                params.append(1 if active == "ActiveOnly" else 0)
            name_filter = request.find("NameFilter")
            if name_filter is not None:
                where.append("name_key LIKE ? ESCAPE '\\'")
                params.append(self._like(_text(name_filter, "MatchCriterion") or "", _text(name_filter, "Name")))
            name_range = request.find("NameRangeFilter")
            if name_range is not None:
                for tag, op in (("FromName", ">="), ("ToName", "<=")):
                    if _text(name_range, tag):
                        where.append(f"name_key {op} ?")
                        params.append((_text(name_range, tag) or "").upper())
            if request.find("ClassFilter") is not None:
                where.append("0")  # class tracking is off: no list element has a class
            account_types = _texts(request, "AccountType")
            if account_types:
                where.append(f"json_extract(body, '$.AccountType') IN ({', '.join('?' for _ in account_types)})")
                params.extend(account_types)
            order = "name_key"
        if from_modified:
            where.append("time_modified >= ?")
            params.append(company.parse_time(from_modified))
        if to_modified:
            where.append("time_modified <= ?")
            params.append(company.parse_time(to_modified, end_of_day=True))
        found = self._store.select_ids(" AND ".join(where), params, order)
        balance = request.find("TotalBalanceFilter")
        if balance is not None and not is_txn:
            found = self._by_total_balance(found, _text(balance, "Operator") or "", _text(balance, "Amount") or "0")
        return found

    def _by_total_balance(self, ids: list[str], operator: str, amount: str) -> list[str]:
        limit = to_cents(parse_decimal(amount, "Amount"))
        compare = {"LessThan": int.__lt__, "LessThanEqual": int.__le__, "Equal": int.__eq__,
                   "GreaterThan": int.__gt__, "GreaterThanEqual": int.__ge__}[operator]
        kept = []
        for record_id in ids:
            total = self._store.balance_cents([record_id, *(d.id for d in self._store.descendants(record_id))])
            if compare(total, limit):
                kept.append(record_id)
        return kept

    def _entity_ids(self, entity: etree._Element) -> list[str]:
        return self._list_filter_ids(entity, "entity")

    def _list_filter_ids(self, element: etree._Element, namespace: str) -> list[str]:
        """ListIDs an EntityFilter/AccountFilter names: by ListID, FullName, or a subtree (…WithChildren)."""
        ids: list[str] = list(_texts(element, "ListID"))
        for full_name in _texts(element, "FullName"):
            row = self._store.by_name(namespace, full_name)
            if row is not None:
                ids.append(row.id)
        root = None
        if _text(element, "ListIDWithChildren"):
            root = self._store.get(_text(element, "ListIDWithChildren") or "")
        elif _text(element, "FullNameWithChildren"):
            root = self._store.by_name(namespace, _text(element, "FullNameWithChildren") or "")
        if root is not None:
            ids.extend([root.id, *(d.id for d in self._store.descendants(root.id))])
        return ids or [""]

    @staticmethod
    def _like(criterion: str, text: str | None) -> str:
        escaped = (text or "").upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return {"StartsWith": f"{escaped}%", "EndsWith": f"%{escaped}"}.get(criterion, f"%{escaped}%")

    def _deleted_query(self, op: str, request: etree._Element) -> tuple[list[etree._Element], dict[str, str]]:
        is_txn = op == "TxnDeletedQuery"
        kinds = _texts(request, "TxnDelType" if is_txn else "ListDelType")
        date_range = request.find("DeletedDateRangeFilter")
        since, until = _text(date_range, "FromDeletedDate"), _text(date_range, "ToDeletedDate")
        company = self._company
        rows = self._store.deletions(kinds, is_txn, company.parse_time(since) if since else None,
                                     company.parse_time(until, end_of_day=True) if until else None)
        elements = []
        for kind, record_id, created, deleted, full_name, ref_number in rows:
            element = etree.Element("TxnDeletedRet" if is_txn else "ListDeletedRet")
            pairs = [("TxnDelType" if is_txn else "ListDelType", kind), ("TxnID" if is_txn else "ListID", record_id),
                     ("TimeCreated", company.format_time(created)), ("TimeDeleted", company.format_time(deleted)),
                     ("RefNumber", ref_number) if is_txn else ("FullName", full_name)]
            for child in self._leaves(pairs):
                element.append(child)
            elements.append(element)
        if not elements:
            raise _ResultWithStatus([], {}, QbStatus(1, _NO_MATCH))
        return elements, {}

    # --- host, company, preferences -----------------------------------------------------------------------------
    def _host_ret(self) -> etree._Element:
        newest = max(self.qbxml_versions, key=lambda v: tuple(int(p) for p in v.split(".")))
        year = 2024 if tuple(int(p) for p in newest.split(".")) >= (16, 0) else 2020
        ret = etree.Element("HostRet")
        pairs = [("ProductName", f"QuickBooks Pro {year}"), ("MajorVersion", str(year - 1990)),
                 ("MinorVersion", "0"), ("Country", "US")]
        pairs += [("SupportedQBXMLVersion", v) for v in self.qbxml_versions]
        pairs += [("IsAutomaticLogin", "false"), ("QBFileMode", "SingleUser")]
        for child in self._leaves(pairs):
            ret.append(child)
        return ret

    def _company_ret(self) -> etree._Element:
        ret = etree.Element("CompanyRet")
        _emit(ret, "IsSampleCompany", "false")
        _emit(ret, "CompanyName", self.company_name)
        _emit(ret, "LegalCompanyName", self.company_name)
        _emit(ret, "Address", {"Addr1": self.company_name, "City": "Mountain View", "State": "CA",
                               "PostalCode": "94043", "Country": "US"})
        _emit(ret, "Phone", "650-555-0100")
        _emit(ret, "Email", "office@example.com")
        _emit(ret, "FirstMonthFiscalYear", "January")
        _emit(ret, "FirstMonthIncomeTaxYear", "January")
        return ret

    def _preferences_ret(self) -> etree._Element:
        ret = etree.Element("PreferencesRet")
        _emit(ret, "AccountingPreferences", {
            "IsUsingAccountNumbers": "false", "IsRequiringAccounts": "true", "IsUsingClassTracking": "false",
            "IsUsingAuditTrail": "true", "IsAssigningJournalEntryNumbers": "true"})
        _emit(ret, "FinanceChargePreferences", {
            "GracePeriod": "0", "IsAssessingForOverdueCharges": "false", "CalculateChargesFrom": "DueDate",
            "IsMarkedToBePrinted": "false"})
        _emit(ret, "JobsAndEstimatesPreferences", {
            "IsUsingEstimates": "true", "IsUsingProgressInvoicing": "false", "IsPrintingItemsWithZeroAmounts": "false"})
        _emit(ret, "MultiCurrencyPreferences", {"IsMultiCurrencyOn": "false"})
        _emit(ret, "PurchasesAndVendorsPreferences", {
            "IsUsingInventory": "true", "DaysBillsAreDue": "10", "IsAutomaticallyUsingDiscounts": "false"})
        _emit(ret, "ReportsPreferences", {"AgingReportBasis": "AgeFromDueDate", "SummaryReportBasis": "Accrual"})
        _emit(ret, "SalesAndCustomersPreferences", {
            "IsTrackingReimbursedExpensesAsIncome": "false", "IsAutoApplyingPayments": "true"})
        if self.sales_tax:
            # Present only in a company that collects sales tax (OSR PreferencesQuery, SalesTaxPreferences).
            company = self._company
            item = company.default_tax_item()
            _emit(ret, "SalesTaxPreferences", {
                "DefaultItemSalesTaxRef": company._ref_to(item) if item is not None else None,
                "PaySalesTax": "Monthly",
                "DefaultTaxableSalesTaxCodeRef": company._ref_to(company.tax_code("Tax")),
                "DefaultNonTaxableSalesTaxCodeRef": company._ref_to(company.tax_code("Non"))})
        _emit(ret, "TimeTrackingPreferences", {"FirstDayOfWeek": "Monday"})
        _emit(ret, "CurrentAppAccessRights", {"IsAutomaticLoginAllowed": "false",
                                              "IsPersonalDataAccessAllowed": "false"})
        return ret

    # --- seeding ----------------------------------------------------------------------------------------------
    def _seed(self) -> None:
        """A new company's default chart of accounts, terms, sales tax codes and payment methods."""
        company = self._company
        warnings: list[QbStatus] = []
        for name, account_type, special in (
            ("Checking", "Bank", None),
            ("Accounts Receivable", "AccountsReceivable", "AccountsReceivable"),
            ("Undeposited Funds", "OtherCurrentAsset", "UndepositedFunds"),
            ("Inventory Asset", "OtherCurrentAsset", "InventoryAssets"),
            ("Accounts Payable", "AccountsPayable", "AccountsPayable"),
            ("Sales", "Income", None),
            ("Services", "Income", None),
            ("Cost of Goods Sold", "CostOfGoodsSold", "CostOfGoodsSold"),
            ("Office Supplies", "Expense", None),
        ):
            row = company.list_add("Account", {"Name": name, "AccountType": account_type}, warnings)
            if special:
                row.body["SpecialAccountType"] = special
                self._store.update(row)
        for name, due in (("Net 30", "30"), ("Net 15", "15"), ("Due on receipt", "0")):
            company.list_add("StandardTerms", {"Name": name, "StdDueDays": due, "StdDiscountDays": "0",
                                               "DiscountPct": "0.0"}, warnings)
        # The standard lists a new QuickBooks company file starts with (QuickBooks' EasyStep interview fills the
        # same lists; names as QuickBooks Desktop 2020+ ships them).
        for name, taxable, desc in (("Tax", "true", "Taxable Sales"), ("Non", "false", "Non-Taxable Sales")):
            company.list_add("SalesTaxCode", {"Name": name, "IsTaxable": taxable, "Desc": desc}, warnings)
        for name, kind in (("Cash", "Cash"), ("Check", "Check"), ("American Express", "AmericanExpress"),
                           ("Discover", "Discover"), ("MasterCard", "MasterCard"), ("Visa", "Visa"),
                           ("Debit Card", "DebitCard"), ("E-Check", "ECheck")):
            company.list_add("PaymentMethod", {"Name": name, "PaymentMethodType": kind}, warnings)
        for name, kind in (("Intuit Product Invoice", "Invoice"), ("Intuit Service Invoice", "Invoice"),
                           ("Intuit Professional Invoice", "Invoice"), ("Custom Sales Receipt", "SalesReceipt"),
                           ("Custom Credit Memo", "CreditMemo"), ("Custom Estimate", "Estimate")):
            company.list_add("Template", {"Name": name, "TemplateType": kind}, warnings)
        for kind, names in (
            ("ShipMethod", ("DHL", "Federal Express", "UPS", "US Mail")),
            ("CustomerMsg", ("Thank you for your business.", "Please remit to above address.",
                             "We appreciate your prompt payment.")),
            ("CustomerType", ("Referral", "Retail", "Wholesale")),
            ("VendorType", ("Consultant", "Service Providers", "Suppliers", "Tax agency")),
        ):
            for name in names:
                company.list_add(kind, {"Name": name}, warnings)
        if self.sales_tax:
            agency = company.list_add("Vendor", {"Name": "State Board of Equalization"}, warnings)
            company.list_add("ItemSalesTax", {"Name": "State Tax", "ItemDesc": "State sales tax",
                                              "TaxRate": "7.25", "TaxVendorRef": {"ListID": agency.id}}, warnings)

    # --- direct API for tests, demo seeding and assertions -----------------------------------------------------------
    def _records(self, kinds: Iterable[str]) -> list[dict[str, Any]]:
        kinds = tuple(kinds)
        with self._lock:
            order = "seq" if kinds[0] in TXN_KINDS else "name_key"
            rows = self._store.select(f"kind IN ({', '.join('?' for _ in kinds)})", kinds, order)
            names: dict[str, str | None] = {}
            return [{"kind": row.kind, **self._company.ret(row, names=names)} for row in rows]

    def customers(self) -> list[dict[str, Any]]:
        """Every customer and sub-customer (active or not) as its CustomerRet data, by FullName."""
        return self._records(("Customer",))

    def employees(self) -> list[dict[str, Any]]:
        """Every employee as its EmployeeRet data."""
        return self._records(("Employee",))

    def vendors(self) -> list[dict[str, Any]]:
        """Every vendor as its VendorRet data."""
        return self._records(("Vendor",))

    def items(self) -> list[dict[str, Any]]:
        """Every service, non-inventory and inventory item; ``kind`` says which."""
        return self._records(ITEM_KINDS)

    def accounts(self) -> list[dict[str, Any]]:
        """The chart of accounts."""
        return self._records(("Account",))

    def terms(self) -> list[dict[str, Any]]:
        """Standard and date-driven terms."""
        return self._records(TERMS_KINDS)

    def invoices(self) -> list[dict[str, Any]]:
        """Every invoice with its lines and linked payments, in creation order."""
        return self._records(("Invoice",))

    def sales_receipts(self) -> list[dict[str, Any]]:
        """Every sales receipt with its lines, in creation order."""
        return self._records(("SalesReceipt",))

    def payments(self) -> list[dict[str, Any]]:
        """Every received payment with the invoices it was applied to."""
        return self._records(("ReceivePayment",))

    def receive_payments(self) -> list[dict[str, Any]]:
        """The received payments, under their qbXML entity's name (ReceivePayment): the same list as payments()."""
        return self.payments()

    def sales_orders(self) -> list[dict[str, Any]]:
        """Every sales order with its lines, in creation order."""
        return self._records(("SalesOrder",))

    def estimates(self) -> list[dict[str, Any]]:
        """Every estimate with its lines, in creation order."""
        return self._records(("Estimate",))

    def credit_memos(self) -> list[dict[str, Any]]:
        """Every credit memo with its lines and remaining credit, in creation order."""
        return self._records(("CreditMemo",))

    def bills(self) -> list[dict[str, Any]]:
        """Every bill with its expense and item lines, in creation order."""
        return self._records(("Bill",))

    def bill_payments(self) -> list[dict[str, Any]]:
        """Every check written to pay bills, with the bills it paid."""
        return self._records(("BillPaymentCheck",))

    def get(self, record_id: str) -> dict[str, Any] | None:
        """One record by ListID/TxnID, or None."""
        with self._lock:
            row = self._store.get(record_id)
            return None if row is None else {"kind": row.kind, **self._company.ret(row)}

    def count(self, kind: str) -> int:
        """How many records of a kind ("Customer", "Invoice", "Item" for all items, "Terms") exist."""
        kinds = {"Item": ITEM_KINDS, "Terms": TERMS_KINDS, "Entity": ENTITY_KINDS}.get(kind, (kind,))
        with self._lock:
            return self._store.count(kinds)

    def add(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Add a record as a QuickBooks user would (same rules as qbXML); fields use qbXML element names."""
        return self._direct(lambda warnings: self._add_row(kind, _listify(fields), warnings))

    def modify(self, record_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Change a record as a QuickBooks user would: no EditSequence needed, TimeModified moves."""

        def run(warnings: list[QbStatus]) -> Row:
            row = self._store.get(record_id)
            if row is None:
                raise self._company.not_found(record_id)
            if row.kind == "Invoice":
                return links.invoice_mod(self._company, {"TxnID": record_id, **_listify(fields)}, warnings,
                                         check_sequence=False)
            if row.kind in (*DOC_KINDS, "SalesReceipt"):
                return documents.mod(self._company, row.kind, {"TxnID": record_id, **_listify(fields)}, warnings,
                                     check_sequence=False)
            if row.kind == "ReceivePayment":
                return documents.payment_mod(self._company, {"TxnID": record_id, **_listify(fields)}, warnings,
                                             check_sequence=False)
            if row.kind not in _LIST_KINDS:
                raise self._unsupported(f"changing a {row.kind}")
            return self._company.list_mod(row.kind, {"ListID": record_id, **_listify(fields)}, warnings,
                                          check_sequence=False)

        return self._direct(run)

    def delete(self, record_id: str) -> None:
        """Delete a list element or transaction (recorded for ListDeletedQuery/TxnDeletedQuery)."""

        def run(warnings: list[QbStatus]) -> Row:
            row = self._store.get(record_id)
            if row is None:
                raise self._company.not_found(record_id)
            if row.kind in TXN_KINDS:
                return links.txn_delete(self._company, row.kind, record_id)
            return self._company.list_delete(row.kind, record_id)

        self._direct(run, render=False)

    def _add_row(self, kind: str, fields: dict[str, Any], warnings: list[QbStatus]) -> Row:
        if kind == "Invoice":
            return links.invoice_add(self._company, fields, warnings)
        if kind == "ReceivePayment":
            return links.payment_add(self._company, fields, warnings)
        if kind == "BillPaymentCheck":
            return links.bill_payment_add(self._company, fields, warnings)
        if kind == "SalesReceipt":
            return self._company.sales_receipt_add(fields, warnings)
        if kind in DOC_KINDS:
            return documents.add(self._company, kind, fields, warnings)
        if kind in (*_LIST_KINDS, *TERMS_KINDS):
            return self._company.list_add(kind, fields, warnings)
        raise SimulatorError(3250, f"the simulator does not model {kind}")

    def _direct(self, action: Callable[[list[QbStatus]], Row], *, render: bool = True) -> dict[str, Any]:
        with self._lock:
            warnings: list[QbStatus] = []
            self._store.begin()
            try:
                row = action(warnings)
                result = {"kind": row.kind, **self._company.ret(row)} if render else {}
                self._store.commit()
            except QbStatus as refused:
                self._store.rollback()
                raise SimulatorError(refused.code, refused.message) from None
            except BaseException:
                self._store.rollback()
                raise
            return result

    def close(self) -> None:
        """Close the company file (iterators die with the session, as in QuickBooks)."""
        with self._lock:
            if not self._closed:
                self._iterators.clear()
                self._store.close()
                self._closed = True

    def __enter__(self) -> QuickBooksSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _ResultWithStatus(QbStatus):
    """A query answer that carries records and a non-zero status (500 partial result, 1 no match)."""

    def __init__(self, elements: list[etree._Element], attributes: dict[str, str], status: QbStatus) -> None:
        super().__init__(status.code, status.message, status.severity)
        self.elements = elements
        self.attributes = attributes


__all__ = ["QbxmlParseError", "QuickBooksSimulator", "SimulatorError", "SimulatorStats"]
