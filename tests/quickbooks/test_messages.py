"""Building requests in schema order and parsing real-world responses leniently."""

from __future__ import annotations

from decimal import Decimal

import pytest

from qbsf.errors import XmlError
from qbsf.quickbooks import records as rec
from qbsf.quickbooks.bodies import add_body, external_guid, normalize_salesforce_id
from qbsf.quickbooks.entities import entity
from qbsf.quickbooks.messages import (
    MessageBuildError,
    build_element,
    build_message,
    format_value,
    parse_record,
    parse_response,
    request,
)

REAL_RESPONSE = """<?xml version="1.0" ?>
<QBXML>
<QBXMLMsgsRs>
<CustomerQueryRs requestID="7" statusCode="0" statusSeverity="Info" statusMessage="Status OK" iteratorRemainingCount="3"
  iteratorID="{eb05f701-e727-472f-8ade-6753c4f67a46}">
<CustomerRet>
<ListID>80000001-1193768012</ListID>
<TimeCreated>2007-10-30T14:53:32-07:00</TimeCreated>
<TimeModified>2019-02-11T09:00:01-08:00</TimeModified>
<EditSequence>1549904401</EditSequence>
<Name>Abercrombie, Kristy</Name>
<FullName>Abercrombie, Kristy</FullName>
<IsActive>true</IsActive>
<Sublevel>0</Sublevel>
<BillAddress><Addr1>Kristy Abercrombie</Addr1><Addr2>5647 Cypress Hill Rd</Addr2><City>Bayshore</City>
<State>CA</State><PostalCode>94326</PostalCode><Country>USA</Country></BillAddress>
<BillAddressBlock><Addr1>Kristy Abercrombie</Addr1></BillAddressBlock>
<Phone>415-555-6579</Phone>
<Balance>0.00</Balance>
<TotalBalance>1005.00</TotalBalance>
<JobStatus>Awarded</JobStatus>
<PreferredDeliveryMethod>Mail</PreferredDeliveryMethod>
<SomethingFromTheFuture><Nested>kept</Nested></SomethingFromTheFuture>
<DataExtRet><DataExtName>Color</DataExtName><DataExtValue>Red</DataExtValue></DataExtRet>
<DataExtRet><DataExtName>Size</DataExtName><DataExtValue>L</DataExtValue></DataExtRet>
</CustomerRet>
</CustomerQueryRs>
<InvoiceAddRs requestID="8" statusCode="3140" statusSeverity="Error" statusMessage="There is an invalid reference"/>
</QBXMLMsgsRs>
</QBXML>"""


def test_parse_real_response_leniently():
    query, add = parse_response(REAL_RESPONSE)
    assert (query.request_id, query.status_code, query.remaining) == ("7", 0, 3)
    assert query.iterator_id.startswith("{eb05")
    customer = parse_record(rec.Customer, query.rets[0])
    assert customer.Name == "Abercrombie, Kristy" and customer.TotalBalance == Decimal("1005.00")
    assert customer.BillAddress.Addr2 == "5647 Cypress Hill Rd" and customer.BillAddress.Country == "USA"
    assert customer.PreferredDeliveryMethod == "Mail"  # beyond the official enumeration, kept
    assert customer.TimeModified.utcoffset().total_seconds() == -8 * 3600
    assert customer.extra["SomethingFromTheFuture"] == {"Nested": "kept"}
    assert [d["DataExtName"] for d in customer.extra["DataExtRet"]] == ["Color", "Size"]
    assert add.is_error and add.status_code == 3140 and add.rets == []


def test_unparseable_values_are_kept_not_fatal():
    xml = ("<QBXML><QBXMLMsgsRs><CustomerQueryRs statusCode='0' statusSeverity='Info'><CustomerRet>"
           "<Name>X</Name><IsActive>maybe</IsActive><Balance>lots</Balance></CustomerRet>"
           "</CustomerQueryRs></QBXMLMsgsRs></QBXML>")
    [response] = parse_response(xml)
    customer = parse_record(rec.Customer, response.rets[0])
    assert customer.IsActive is None and customer.extra == {"IsActive": "maybe", "Balance": "lots"}


def test_malformed_or_foreign_documents_are_clear_errors():
    with pytest.raises(XmlError, match="not well-formed"):
        parse_response("<QBXML><QBXMLMsgsRs>", source="reply.xml")
    with pytest.raises(XmlError, match="not a qbXML document"):
        parse_response("<html/>")
    with pytest.raises(XmlError, match="DOCTYPE"):
        parse_response('<!DOCTYPE QBXML [<!ENTITY x "y">]><QBXML/>')


def test_elements_come_out_in_schema_order_whatever_the_input_order():
    element = build_element("CustomerAdd", {"ExternalGUID": "{00000000-0000-0000-0000-000000000000}",
                                            "Phone": "1", "BillAddress": {"City": "C", "Addr1": "A"},
                                            "Name": "N"})
    assert [child.tag for child in element] == ["Name", "BillAddress", "Phone", "ExternalGUID"]
    assert [child.tag for child in element.find("BillAddress")] == ["Addr1", "City"]
    with pytest.raises(MessageBuildError, match="no child element ExternalGUID"):
        build_element("CustomerMod", {"ExternalGUID": "{x}"})


def test_request_ids_are_at_most_50_characters():
    assert request("CustomerQueryRq", "x" * 50).get("requestID") == "x" * 50
    with pytest.raises(MessageBuildError, match="longer than 50"):
        request("CustomerQueryRq", "x" * 51)


def test_values_are_formatted_as_qbxml_types():
    assert format_value(Decimal("12.5"), "Amount") == "12.50"
    assert format_value(Decimal("12.123456"), "Rate") == "12.12346"
    assert format_value(Decimal("150"), "SalesPrice") == "150"
    assert format_value(True) == "true" and format_value(False) == "false"


def test_add_request_validates(require_qbxml_schemas):
    customer = rec.customer_from_flat({"Name": "Valid", "ShipAddr3": "Dock 4", "CreditLimit": "1000",
                                       "ParentRef": "Parent Co"})
    customer.ExternalGUID = external_guid("001000000000ABC")
    tag, body = add_body(customer, entity("Customer"))
    xml = build_message([request(f"{tag}Rq", "1", body, wrap=tag)], version="13.0")
    require_qbxml_schemas.validate(xml, "request")
    assert "<CreditLimit>1000.00</CreditLimit>" in xml and "<FullName>Parent Co</FullName>" in xml
    with pytest.raises(MessageBuildError, match="version"):
        build_message([], version="2.0")


def test_external_guid_is_deterministic_and_case_safe():
    short, long = "001A000001abcDE", normalize_salesforce_id("001A000001abcDE")
    assert len(long) == 18 and long.startswith(short)
    assert external_guid(short) == external_guid(long)
    assert external_guid(short) != external_guid("001A000001abcDF")
    guid = external_guid(short)
    assert guid.startswith("{") and guid.endswith("}") and len(guid) == 38 and guid == guid.upper()
