"""Requests in the shapes other clients send: the SDK samples' indented documents with an ISO-8859-1 declaration,
older versions, single-quoted instructions, iterators with date-only filters, interleaved invoice lines and
groups — each answer validated against Intuit's schema by the transport."""

from __future__ import annotations

from lxml import etree

SDK_SAMPLE = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!-- written by an SDK sample; the instruction follows this comment -->
<?qbxml version='{version}'?>
<QBXML>
  <QBXMLMsgsRq onError="stopOnError">
    <CustomerAddRq requestID="1">
      <CustomerAdd>
        <Name>Cafe Alpha</Name>
        <CompanyName>Cafe Alpha LLC</CompanyName>
        <BillAddress>
          <Addr1>12 Pine St</Addr1>
          <City>Portland</City>
          <State>OR</State>
        </BillAddress>
        <Phone>503-555-0100</Phone>
      </CustomerAdd>
    </CustomerAddRq>
    <CustomerQueryRq requestID="2" iterator="Start">
      <MaxReturned>1</MaxReturned>
      <ActiveStatus>ActiveOnly</ActiveStatus>
      <FromModifiedDate>2026-03-01</FromModifiedDate>
    </CustomerQueryRq>
  </QBXMLMsgsRq>
</QBXML>
"""


def _responses(document: str) -> list[etree._Element]:
    body = document[document.index("<QBXML>"):]
    return list(etree.fromstring(body.encode()).find("QBXMLMsgsRs"))


def test_sdk_sample_shaped_documents_in_old_and_new_versions(validating, sim):
    for version, name in (("2.0", "Cafe Alpha"), ("8.0", "Cafe Alpha 8"), ("16.0", "Cafe Alpha 16")):
        document = SDK_SAMPLE.format(version=version).replace("Cafe Alpha<", f"{name}<")
        answer = validating(sim).send(document)
        assert f'<?qbxml version="{version}"?>' in answer
        added, page = _responses(answer)
        assert added.get("statusCode") == "0" and added.findtext("CustomerRet/FullName") == name
        assert page.get("iteratorID") and page.get("iteratorRemainingCount") is not None
        assert len(page.findall("CustomerRet")) == 1


def test_interleaved_lines_and_groups_with_optional_elements_left_out(qb, txt):
    qb.ok("<ItemServiceAddRq><ItemServiceAdd><Name>Labor</Name><SalesOrPurchase><Price>60</Price><AccountRef>"
          "<FullName>Services</FullName></AccountRef></SalesOrPurchase></ItemServiceAdd></ItemServiceAddRq>")
    qb.ok("<ItemGroupAddRq><ItemGroupAdd><Name>Tune-up</Name><ItemGroupLine><ItemRef><FullName>Labor</FullName>"
          "</ItemRef><Quantity>2</Quantity></ItemGroupLine></ItemGroupAdd></ItemGroupAddRq>")
    qb.ok("<CustomerAddRq><CustomerAdd><Name>Bike Shop</Name></CustomerAdd></CustomerAddRq>")
    invoice = qb.ok(
        "<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Bike Shop</FullName></CustomerRef>"
        "<InvoiceLineGroupAdd><ItemGroupRef><FullName>Tune-up</FullName></ItemGroupRef></InvoiceLineGroupAdd>"
        "<InvoiceLineAdd><Desc>Parts as quoted</Desc></InvoiceLineAdd>"
        "<InvoiceLineAdd><ItemRef><FullName>Labor</FullName></ItemRef><Amount>15.00</Amount></InvoiceLineAdd>"
        "<InvoiceLineGroupAdd><ItemGroupRef><FullName>Tune-up</FullName></ItemGroupRef><Quantity>2</Quantity>"
        "</InvoiceLineGroupAdd></InvoiceAdd></InvoiceAddRq>")
    assert [child.tag for child in invoice if "Line" in child.tag] == [
        "InvoiceLineGroupRet", "InvoiceLineRet", "InvoiceLineRet", "InvoiceLineGroupRet"]
    assert txt(invoice, "Subtotal") == "375.00"  # 120 + 0 + 15 + 240
    (found,) = qb.call(f"<InvoiceQueryRq><TxnID>{txt(invoice, 'TxnID')}</TxnID><IncludeLineItems>true"
                       "</IncludeLineItems></InvoiceQueryRq>")
    assert next(child.tag for child in found[0] if "Line" in child.tag) == "InvoiceLineGroupRet"
    (bare,) = qb.call(f"<InvoiceQueryRq><TxnID>{txt(invoice, 'TxnID')}</TxnID></InvoiceQueryRq>")
    assert bare[0].find("InvoiceLineGroupRet") is None, "lines and groups only with IncludeLineItems"
