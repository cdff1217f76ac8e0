"""qbXML messages: build requests with lxml in schema order, parse responses leniently.

Requests are built element by element from the declared orders in :mod:`qbsf.quickbooks.schema` (never by
string concatenation), wrapped in ``<QBXML><QBXMLMsgsRq onError="continueOnError">`` under the
``<?qbxml version="…"?>`` instruction. Responses are parsed with :func:`qbsf.xmlsafe.parse_xml`; elements and
enumeration values qbsf does not know are kept in ``extra`` rather than rejected, because real QuickBooks
output goes beyond the published schema.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from qbsf.errors import QbsfError, XmlError
from qbsf.quickbooks import entities
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.errors import FieldValueError
from qbsf.quickbooks.limits import xml_unsafe
from qbsf.quickbooks.schema import ADDRESS_ORDER, KNOWN_VERSIONS, ORDER, REF_ORDER
from qbsf.xmlsafe import parse_xml

log = logging.getLogger(__name__)

__all__ = [
    "MAX_REQUEST_ID",
    "RET_CLASSES",
    "Response",
    "build_element",
    "build_message",
    "element_to_data",
    "format_value",
    "parse_deleted",
    "parse_record",
    "parse_response",
    "request",
]

MAX_REQUEST_ID = 50
_HEADER = '<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="{version}"?>\n'

# *Ret element → the record class it parses into: every declared entity's, and the host's and company's.
RET_CLASSES: dict[str, type] = {
    **entities.ret_classes(),
    "DateDrivenTermsRet": rec.Terms,
    "HostRet": rec.HostInfo,
    "CompanyRet": rec.CompanyInfo,
}


class MessageBuildError(QbsfError):
    """qbsf tried to build a request the schema does not allow (a bug in qbsf, reported with the element)."""


# --- building ----------------------------------------------------------------------------------------------

def format_value(value: Any, name: str = "") -> str:
    """A Python value in qbXML's text form (AMTTYPE with two decimals, prices up to five, true/false, ISO dates)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | float):
        number = Decimal(str(value)) if isinstance(value, float) else value
        if not number.is_finite():
            raise FieldValueError(f"{name or 'a number'} is {value}, which is not an amount QuickBooks can store",
                                  hint=f"enter a number in {name or 'the field'} at the source")
        if name in rec.AMOUNT_FIELDS:
            return f"{number.quantize(Decimal('0.01')):f}"
        text = f"{number.quantize(Decimal('0.00001')).normalize():f}"
        return text
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _child_order(tag: str) -> tuple[str, ...]:
    order = ORDER.get(tag)
    if order is not None:
        return order
    if tag.endswith("Ref"):
        return REF_ORDER
    if tag.endswith("Address"):
        return ADDRESS_ORDER
    raise MessageBuildError(f"no declared element order for <{tag}>", hint="this is a bug in qbsf")


def build_element(tag: str, body: dict[str, Any] | str | None) -> etree._Element:
    """``<tag>`` with ``body``'s children emitted in the declared schema order (dict → nested, list → repeated)."""
    element = etree.Element(tag)
    if body is None:
        return element
    if not isinstance(body, dict):
        _set_text(element, format_value(body, tag))
        return element
    order = _child_order(tag)
    unknown = [name for name in body if name not in order]
    if unknown:
        raise MessageBuildError(f"<{tag}> has no child element {', '.join(unknown)} in the qbXML schema",
                                hint="this is a bug in qbsf")
    for name in order:
        if name not in body:
            continue
        value = body[name]
        for item in value if isinstance(value, list) else (value,):
            if isinstance(item, tuple):
                # (tag, body) inside a list: a sibling the schema lets interleave (InvoiceLineGroupMod among
                # InvoiceLineMod), emitted where it stands.
                element.append(build_element(item[0], item[1]))
            elif isinstance(item, dict):
                element.append(build_element(name, item))
            else:
                _set_text(etree.SubElement(element, name), format_value(item, name))
    return element


def _set_text(element: etree._Element, text: str) -> None:
    """Element text, or a FieldValueError naming the element when XML cannot carry it (a control character)."""
    try:
        element.text = text
    except ValueError:
        raise FieldValueError(f"{element.tag} contains a control character ({xml_unsafe(text) or 'NUL'}) that "
                              f"QuickBooks cannot store: {text!r}",
                              hint=f"remove the control character from {element.tag} at the source") from None


def request(rq_tag: str, request_id: str | None, body: dict[str, Any] | None = None, *,
            wrap: str | None = None, attrs: dict[str, str] | None = None) -> etree._Element:
    """One ``<XxxRq requestID=…>``: ``wrap`` puts ``body`` inside ``<wrap>`` (CustomerAddRq → CustomerAdd)."""
    if request_id is not None and len(request_id) > MAX_REQUEST_ID:
        raise MessageBuildError(f"requestID {request_id!r} is longer than {MAX_REQUEST_ID} characters",
                                hint="this is a bug in qbsf")
    element = etree.Element(rq_tag)
    if request_id is not None:
        element.set("requestID", request_id)
    for key, value in (attrs or {}).items():
        element.set(key, value)
    if wrap is not None:
        element.append(build_element(wrap, body or {}))
    elif body:
        inner = build_element(rq_tag, body)
        element.extend(list(inner))
    return element


def build_message(requests: Iterable[etree._Element], *, version: str = "16.0",
                  on_error: str = "continueOnError") -> str:
    """A complete qbXML request document carrying ``requests`` in one QBXMLMsgsRq."""
    if version not in KNOWN_VERSIONS:
        raise MessageBuildError(f"qbXML version {version!r} is not one qbsf speaks",
                                hint=f"use one of {', '.join(KNOWN_VERSIONS)}")
    root = etree.Element("QBXML")
    msgs = etree.SubElement(root, "QBXMLMsgsRq", onError=on_error)
    msgs.extend(requests)
    return _HEADER.format(version=version) + etree.tostring(root, encoding="unicode")


# --- parsing -----------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Response:
    """One ``*Rs`` element: status, the request it answers (by requestID), its ``*Ret`` elements, iterator state."""

    tag: str
    request_id: str | None
    status_code: int
    severity: str
    message: str
    rets: list[etree._Element] = field(default_factory=list)
    iterator_id: str | None = None
    remaining: int | None = None
    ret_count: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)  # every attribute of the *Rs element, as sent

    @property
    def is_error(self) -> bool:
        """True when QuickBooks reports statusSeverity Error (Info and Warn are not failures)."""
        return self.severity.lower() == "error"


def _int_attr(element: etree._Element, name: str) -> int | None:
    raw = element.get(name)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


# A character XML 1.0 cannot carry (a C0 control but tab/LF/CR), written raw or as a character reference.
_UNCARRIED_RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_UNCARRIED_REF = re.compile(r"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));")
# What such a character becomes in a parsed value: never a Latin-1 character, so never real QuickBooks data.
UNREADABLE = "\ufffd"


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_response(xml: str | bytes, *, source: str = "QuickBooks response") -> list[Response]:
    """Every ``*Rs`` in a qbXML response document, in document order (callers match them by requestID).

    A value holding a character XML cannot carry (a control character typed into QuickBooks) does not make the
    whole response unreadable: the character becomes :data:`UNREADABLE`, so only the record holding it fails.
    """
    try:
        root = parse_xml(xml, source=source)
    except XmlError:
        text = xml if isinstance(xml, str) else xml.decode("utf-8", errors="strict") if _is_utf8(xml) else None
        cleaned = None if text is None else _UNCARRIED_REF.sub(UNREADABLE, _UNCARRIED_RAW.sub(UNREADABLE, text))
        if cleaned is None or cleaned == text:
            raise
        root = parse_xml(cleaned, source=source)
        log.warning("%s holds characters XML cannot carry; the records holding them fail alone", source)
    if root.tag != "QBXML":
        raise XmlError(f"{source} is not a qbXML document (root element <{root.tag}>)",
                       hint="expected <QBXML><QBXMLMsgsRs>…")
    responses: list[Response] = []
    for msgs in root:
        if not isinstance(msgs.tag, str) or not msgs.tag.endswith("MsgsRs"):
            continue
        for rs in msgs:
            if not isinstance(rs.tag, str):
                continue
            code = _int_attr(rs, "statusCode")
            responses.append(Response(
                tag=rs.tag,
                request_id=rs.get("requestID"),
                status_code=code if code is not None else 0,
                severity=rs.get("statusSeverity") or ("Error" if code else "Info"),
                message=rs.get("statusMessage") or "",
                rets=[child for child in rs if isinstance(child.tag, str) and child.tag.endswith("Ret")],
                iterator_id=rs.get("iteratorID"),
                remaining=_int_attr(rs, "iteratorRemainingCount"),
                ret_count=_int_attr(rs, "retCount"),
                attributes={str(k): str(v) for k, v in rs.attrib.items()},
            ))
    return responses


def element_to_data(element: etree._Element) -> Any:
    """A JSON-ready value for any element: text for a leaf, a dict for an aggregate, lists for repeated tags."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return element.text or ""
    data: dict[str, Any] = {}
    for child in children:
        value = element_to_data(child)
        if child.tag in data:
            existing = data[child.tag]
            if isinstance(existing, list):
                existing.append(value)
            else:
                data[child.tag] = [existing, value]
        else:
            data[child.tag] = value
    return data


def _put_extra(extra: dict[str, Any], tag: str, value: Any) -> None:
    if tag in extra:
        existing = extra[tag]
        extra[tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
    else:
        extra[tag] = value


def _scalar(text: str | None, kind: str) -> Any:
    if kind == "str":
        # An empty element means "no value" (a cleared field), the same as an absent one.
        return text if text else None
    text = (text or "").strip()
    if text == "":
        return None
    if kind == "decimal":
        return Decimal(text)
    if kind == "int":
        return int(text)
    if kind == "bool":
        lowered = text.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ValueError(text)
    if kind == "date":
        return date.fromisoformat(text[:10])
    if kind == "datetime":
        return datetime.fromisoformat(text)
    return text


def _ref(element: etree._Element) -> rec.Ref:
    return rec.Ref(ListID=element.findtext("ListID"), FullName=element.findtext("FullName"))


def _address(element: etree._Element) -> rec.Address:
    address = rec.Address()
    for child in element:
        if isinstance(child.tag, str) and child.tag in ADDRESS_ORDER and child.text:
            setattr(address, child.tag, child.text)
    return address


# Items' SalesOrPurchase wrapper spells the sales side differently.
_SALES_OR_PURCHASE = {"Desc": "SalesDesc", "Price": "SalesPrice", "AccountRef": "IncomeAccountRef"}


def parse_record(cls: type, element: etree._Element) -> Any:
    """A typed record from a ``*Ret`` element; unknown children land in ``record.extra`` (never an error).

    Lines go to the attribute their entity's :class:`~qbsf.quickbooks.entities.LineShape` names (an item group
    with the lines QuickBooks expanded it into, and its place among the plain lines)."""
    kinds = rec.field_kinds(cls)
    record = cls()
    extra = record.extra
    lines: dict[str, entities.LineShape] = {}
    groups: dict[str, entities.LineShape] = {}
    for shape in entities.line_shapes(cls):
        lines[shape.ret] = shape
        if shape.group_tags is not None:
            groups[shape.group_tags[2]] = shape
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        kind = kinds.get(tag)
        if kind is None or kind in ("list", "data"):
            if tag in lines:
                getattr(record, lines[tag].attr).append(parse_record(lines[tag].record, child))
            elif tag in groups:
                getattr(record, groups[tag].group_attr).append(_parse_group(groups[tag], child,
                                                                            len(getattr(record, groups[tag].attr))))
            elif tag == "LinkedTxn" and kinds.get("linked") == "list":
                record.linked.append(parse_record(rec.LinkedTxn, child))
            elif tag == "SalesOrPurchase" and "SalesDesc" in kinds:
                _parse_item_side(record, kinds, child, _SALES_OR_PURCHASE, extra)
            elif tag == "SalesAndPurchase" and "SalesDesc" in kinds:
                _parse_item_side(record, kinds, child, {}, extra)
            elif tag == "SupportedQBXMLVersion" and cls is rec.HostInfo:
                record.SupportedQBXMLVersion.append((child.text or "").strip())
            else:
                _put_extra(extra, tag, element_to_data(child))
            continue
        _set_parsed(record, tag, kind, child, extra)
    return record


def _parse_group(shape: entities.LineShape, element: etree._Element, position: int) -> rec.LineGroup:
    """An item group (``InvoiceLineGroupRet`` …) with its lines, standing after ``position`` plain lines."""
    kinds = rec.field_kinds(rec.LineGroup)
    group = rec.LineGroup(position=position)
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):
            continue
        kind = kinds.get(tag)
        if tag == shape.ret:
            group.lines.append(parse_record(shape.record, child))
        elif kind is None or kind == "list":
            _put_extra(group.extra, tag, element_to_data(child))
        else:
            _set_parsed(group, tag, kind, child, group.extra)
    return group


def _set_parsed(record: Any, tag: str, kind: str, child: etree._Element, extra: dict[str, Any]) -> None:
    if kind == "ref":
        setattr(record, tag, _ref(child))
    elif kind == "address":
        setattr(record, tag, _address(child))
    else:
        try:
            setattr(record, tag, _scalar(child.text, kind))
        except (ValueError, ArithmeticError):
            # Lenient: a value beyond what qbsf expects is kept verbatim instead of failing the whole response.
            log.debug("keeping unparsed %s=%r", tag, child.text)
            _put_extra(extra, tag, child.text or "")


def _parse_item_side(record: Any, kinds: dict[str, str], element: etree._Element, rename: dict[str, str],
                     extra: dict[str, Any]) -> None:
    for child in element:
        if not isinstance(child.tag, str):
            continue
        name = rename.get(child.tag, child.tag)
        kind = kinds.get(name)
        if kind is None:
            _put_extra(extra, f"{element.tag}.{child.tag}", element_to_data(child))
        else:
            _set_parsed(record, name, kind, child, extra)


def parse_deleted(element: etree._Element) -> rec.DeletedRecord:
    """A ListDeletedRet/TxnDeletedRet as a DeletedRecord."""
    def when(tag: str) -> datetime | None:
        text = element.findtext(tag)
        try:
            return datetime.fromisoformat(text) if text else None
        except ValueError:
            return None

    kind = element.findtext("ListDelType") or element.findtext("TxnDelType") or ""
    ident = element.findtext("ListID") or element.findtext("TxnID") or ""
    return rec.DeletedRecord(kind=kind, id=ident, TimeCreated=when("TimeCreated"), TimeDeleted=when("TimeDeleted"),
                             FullName=element.findtext("FullName"), RefNumber=element.findtext("RefNumber"))
