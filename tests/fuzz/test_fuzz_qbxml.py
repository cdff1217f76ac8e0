"""Fuzz the qbXML response reader and `qbsf qb parse`: any bytes, any well-formed document with hostile values →
records and statuses, or an XmlError naming the source — never another exception, never a hang."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from qbsf.errors import QbsfError
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.inspect import response_objects, to_json_line
from qbsf.quickbooks.messages import RET_CLASSES, parse_response
from qbsf.sim.quickbooks import QuickBooksSimulator

FIELD_TAGS = sorted({name for cls in RET_CLASSES.values() for name in rec.field_kinds(cls)})
TAGS = [*RET_CLASSES, *FIELD_TAGS, "InvoiceLineRet", "SalesOrPurchase", "SalesAndPurchase", "ListDeletedRet",
        "TxnDeletedRet", "ListDelType", "TimeDeleted", "SupportedQBXMLVersion", "ListID", "FullName", "TxnID",
        "Addr1", "City", "Unknown", "DataExtRet"]
RS_TAGS = ["CustomerQueryRs", "InvoiceQueryRs", "ItemQueryRs", "HostQueryRs", "CompanyQueryRs", "ListDeletedQueryRs",
           "CustomerAddRs", "BogusRs"]
texts = (st.text(max_size=40)
         | st.sampled_from(["2026-02-30", "2026-11-24T20:31:05-08:00", "2026-11-24T20:31:05+99:00", "1e999999",
                            "-0.00", "NaN", "Infinity", "true", "maybe", "9" * 5000, "", " ", "12.345.6",
                            "0x1F", "١٢٣", "2026-03-08T02:30:00"]))
xml_safe = texts.map(lambda text: "".join(ch for ch in text if ch in "\t\n\r" or (" " <= ch <= "\ud7ff")
                                          or ("\ue000" <= ch <= "\ufffd")))


@st.composite
def element(draw: st.DrawFn, depth: int = 0) -> etree._Element:
    node = etree.Element(draw(st.sampled_from(TAGS)))
    if depth < 4 and draw(st.booleans()):
        for _ in range(draw(st.integers(0, 4))):
            node.append(draw(element(depth + 1)))
    else:
        node.text = draw(xml_safe)
    return node


@st.composite
def qbxml_document(draw: st.DrawFn) -> bytes:
    root = etree.Element(draw(st.sampled_from(["QBXML", "QBXML", "QBXML", "qbxml", "Other"])))
    msgs = etree.SubElement(root, draw(st.sampled_from(["QBXMLMsgsRs", "QBXMLMsgsRs", "QBXMLMsgsRq", "X"])))
    for _ in range(draw(st.integers(0, 3))):
        rs = etree.SubElement(msgs, draw(st.sampled_from(RS_TAGS)))
        for attribute in ("requestID", "statusCode", "statusSeverity", "statusMessage", "iteratorID",
                          "iteratorRemainingCount", "retCount"):
            if draw(st.booleans()):
                rs.set(attribute, draw(xml_safe | st.integers(-10**30, 10**30).map(str)))
        for _ in range(draw(st.integers(0, 3))):
            ret = etree.SubElement(rs, draw(st.sampled_from([*RET_CLASSES, "ListDeletedRet", "TxnDeletedRet",
                                                              "OtherRet"])))
            for _ in range(draw(st.integers(0, 6))):
                ret.append(draw(element()))
    body = etree.tostring(root, encoding="utf-8")
    prolog = draw(st.sampled_from([b'<?xml version="1.0" encoding="utf-8"?><?qbxml version="16.0"?>', b"",
                                   b'<?xml version="1.0" encoding="windows-1252"?>']))
    return prolog + body


def simulator_response() -> bytes:
    sim = QuickBooksSimulator(company_name="Fuzz Co")
    request = ('<?xml version="1.0" encoding="utf-8"?><?qbxml version="16.0"?><QBXML><QBXMLMsgsRq '
               'onError="continueOnError"><HostQueryRq requestID="1"/><CompanyQueryRq requestID="2"/>'
               '<CustomerQueryRq requestID="3"/><ItemQueryRq requestID="4"/><InvoiceQueryRq requestID="5">'
               "<IncludeLineItems>true</IncludeLineItems></InvoiceQueryRq></QBXMLMsgsRq></QBXML>")
    return sim.process(request).encode("utf-8")


VALID = simulator_response()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """The simulator's real answer with bytes flipped, cut or repeated."""
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            data = bytearray(b"<")
        at = draw(st.integers(0, len(data) - 1))
        action = draw(st.integers(0, 3))
        if action == 0:
            data[at] = draw(st.integers(0, 255))
        elif action == 1:
            del data[at:at + draw(st.integers(1, 50))]
        elif action == 2:
            data[at:at] = draw(st.sampled_from([b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>", b"&e;",
                                                b"<![CDATA[", b"]]>", b"\x00", b"\xff\xfe", b"<a>" * 300]))
        else:
            data = data[:at]
    return bytes(data)


def read_all(data: bytes) -> int:
    count = 0
    for obj in response_objects(data, source="fuzz.xml"):
        to_json_line(obj)
        count += 1
    return count


inputs = qbxml_document() | mutated() | st.binary(max_size=2000)


@settings(settings.get_profile("qbsf-fuzz-fast"))
@given(data=inputs)
def test_the_response_reader_reads_or_refuses_any_document(data: bytes, fuzz_case) -> None:
    with fuzz_case("qbXML response reader").case():
        try:
            parse_response(data, source="fuzz.xml")
            read_all(data)
        except QbsfError as exc:
            assert "fuzz.xml" in str(exc)


@settings(settings.get_profile("qbsf-fuzz-cli"))
@given(data=inputs)
def test_qb_parse_answers_any_file_with_records_or_one_line(data: bytes, tmp_path_factory, capsys,
                                                            fuzz_case) -> None:
    from qbsf.app import cli

    path: Path = tmp_path_factory.mktemp("parse") / "response.xml"
    path.write_bytes(data)
    with fuzz_case("qbsf qb parse").case():
        try:
            cli.main(["qb", "parse", str(path)])
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
    _out, err = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and " stopped: " not in err, f"an unexpected error reached the user: {err}"
