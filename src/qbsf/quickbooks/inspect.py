"""Show how qbsf reads a qbXML response: one JSON-ready object per response status and per ``*Ret``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from qbsf.errors import XmlError
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.entities import line_shapes
from qbsf.quickbooks.messages import RET_CLASSES, element_to_data, parse_deleted, parse_record, parse_response

__all__ = ["response_objects", "to_json_line"]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _fields(record: Any) -> dict[str, Any]:
    flat = rec.to_flat(record)
    bare_refs = {path.split(".")[0] for path in flat if path.endswith(".FullName")}
    return {path: _plain(value) for path, value in flat.items() if value is not None and path not in bare_refs}


def response_objects(xml: str | bytes, *, source: str = "response") -> Iterator[dict[str, Any]]:
    """For each ``*Rs``: its status object, then one object per ``*Ret`` (typed fields where qbsf knows the type,
    the raw element otherwise; unknown elements under ``extra``)."""
    try:
        responses = parse_response(xml, source=source)
    except XmlError:
        if not isinstance(xml, bytes) or _is_utf8(xml):
            raise
        # Saved by a Windows editor: ANSI bytes under no (or a wrong) encoding declaration.
        responses = parse_response(xml.decode("cp1252", errors="replace"), source=source)
    for response in responses:
        status: dict[str, Any] = {"response": response.tag, "requestID": response.request_id,
                                  "statusCode": response.status_code, "statusSeverity": response.severity,
                                  "statusMessage": response.message, "rets": len(response.rets)}
        if response.iterator_id is not None:
            status["iteratorID"] = response.iterator_id
            status["iteratorRemainingCount"] = response.remaining
        if response.ret_count is not None:
            status["retCount"] = response.ret_count
        for name, value in response.attributes.items():
            # Every other attribute QuickBooks put on the response (e.g. a raw statusSeverity qbsf reads loosely).
            status.setdefault(name, value)
        if "statusSeverity" in response.attributes:
            status["statusSeverity"] = response.attributes["statusSeverity"]
        yield status
        for element in response.rets:
            obj: dict[str, Any] = {"ret": element.tag, "requestID": response.request_id}
            cls = RET_CLASSES.get(element.tag)
            if cls is not None:
                record = parse_record(cls, element)
                obj["fields"] = _fields(record)
                for shape in line_shapes(cls):
                    obj[shape.attr] = [_fields(line) for line in getattr(record, shape.attr)]
                    groups = getattr(record, shape.group_attr) if shape.group is not None else []
                    if groups:
                        obj[shape.group_attr] = [{**_fields(group), "position": group.position,
                                                  "lines": [_fields(line) for line in group.lines]}
                                                 for group in groups]
                if getattr(record, "linked", None):
                    obj["linked"] = [_fields(link) for link in record.linked]
                if isinstance(record, rec.HostInfo):
                    obj["fields"]["SupportedQBXMLVersion"] = record.SupportedQBXMLVersion
                if record.extra:
                    obj["extra"] = record.extra
            elif element.tag in ("ListDeletedRet", "TxnDeletedRet"):
                deleted = asdict(parse_deleted(element))
                obj["fields"] = {key: _plain(value) for key, value in deleted.items() if value is not None}
            else:
                obj["data"] = data_with_attributes(element)
            yield obj


def data_with_attributes(element: etree._Element) -> Any:
    """Like :func:`element_to_data`, keeping XML attributes as ``@name`` keys (report rows and columns carry
    their values in attributes: ``<ColData colID="1" value="Acme"/>``) and the text of an element that has
    attributes as ``#text``."""
    children = [child for child in element if isinstance(child.tag, str)]
    if not element.attrib:
        if not children:
            return element.text or ""
        if not any(child.attrib or len(child) for child in children):
            return element_to_data(element)
    data: dict[str, Any] = {f"@{name}": str(value) for name, value in element.attrib.items()}
    if not children and (element.text or "").strip():
        data["#text"] = element.text
    for child in children:
        value = data_with_attributes(child)
        if child.tag in data:
            existing = data[child.tag]
            data[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            data[child.tag] = value
    return data


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def to_json_line(obj: dict[str, Any]) -> str:
    """One compact JSON line (non-ASCII kept readable)."""
    return json.dumps(obj, ensure_ascii=False, default=str)


def connection_report(channel: Any) -> dict[str, Any]:
    """Open a session over a transport (``qbsf.app.transports`` builds them), ask HostQuery and CompanyQuery."""
    from qbsf.quickbooks.client import QuickBooksClient

    client = QuickBooksClient(channel)
    try:
        info = client.host()
        company = client.company()
        return {"product": info.ProductName, "version": f"{info.MajorVersion}.{info.MinorVersion}",
                "country": info.Country, "supported_qbxml": info.SupportedQBXMLVersion,
                "qbxml_used": client.qbxml_version, "file_mode": info.QBFileMode,
                "company": company.CompanyName, "messages": client.messages_sent}
    finally:
        client.close()
