"""The standard lists (sales reps, classes, templates, types, ship and payment methods, tax codes, tax items):
seeded as a new company has them, queried, added to, and checked when referred to (3140 for a name not in them).

Requests are shaped as Intuit's samples and other libraries send them: optional elements left out, ListID or
FullName references, IncludeRetElement, MaxReturned, ActiveStatus and NameFilter in the orders the schema allows.
"""

from __future__ import annotations

import pytest

STANDARD = [
    ("TemplateQueryRq", "TemplateRet", "Intuit Product Invoice"),
    ("ShipMethodQueryRq", "ShipMethodRet", "UPS"),
    ("PaymentMethodQueryRq", "PaymentMethodRet", "Check"),
    ("SalesTaxCodeQueryRq", "SalesTaxCodeRet", "Non"),
    ("CustomerTypeQueryRq", "CustomerTypeRet", "Retail"),
    ("VendorTypeQueryRq", "VendorTypeRet", "Suppliers"),
    ("CustomerMsgQueryRq", "CustomerMsgRet", "Thank you for your business."),
]


@pytest.mark.parametrize(("request_tag", "ret_tag", "name"), STANDARD)
def test_a_new_company_has_the_standard_lists(qb, txt, request_tag, ret_tag, name):
    (response,) = qb.call(f'<{request_tag} requestID="q"/>')
    assert response.get("statusCode") == "0"
    names = [txt(ret, "Name") for ret in response]
    assert name in names and all(ret.tag == ret_tag for ret in response)
    assert all(txt(ret, "ListID") and txt(ret, "EditSequence") for ret in response)


def test_seeded_details_and_query_filters(qb, txt):
    (codes,) = qb.call("<SalesTaxCodeQueryRq><FullName>Tax</FullName><FullName>Non</FullName></SalesTaxCodeQueryRq>")
    assert [(txt(r, "Name"), txt(r, "IsTaxable")) for r in codes] == [("Tax", "true"), ("Non", "false")]
    (methods,) = qb.call("<PaymentMethodQueryRq><MaxReturned>2</MaxReturned><ActiveStatus>All</ActiveStatus>"
                         "<NameFilter><MatchCriterion>StartsWith</MatchCriterion><Name>c</Name></NameFilter>"
                         "</PaymentMethodQueryRq>")
    assert [(txt(r, "Name"), txt(r, "PaymentMethodType")) for r in methods] == [("Cash", "Cash"), ("Check", "Check")]
    (templates,) = qb.call("<TemplateQueryRq><IncludeRetElement>Name</IncludeRetElement>"
                           "<IncludeRetElement>TemplateType</IncludeRetElement></TemplateQueryRq>")
    assert {txt(r, "TemplateType") for r in templates} >= {"Invoice", "SalesReceipt"}
    assert all(r.find("ListID") is None for r in templates), "IncludeRetElement returns only what was asked"


def test_lists_a_user_adds_to(qb, txt, sim):
    employee = qb.ok("<EmployeeAddRq><EmployeeAdd><FirstName>Sam</FirstName><LastName>Rivera</LastName>"
                     "</EmployeeAdd></EmployeeAddRq>")
    rep = qb.ok("<SalesRepAddRq><SalesRepAdd><Initial>SR</Initial><SalesRepEntityRef><FullName>Sam Rivera"
                "</FullName></SalesRepEntityRef></SalesRepAdd></SalesRepAddRq>")
    assert (txt(rep, "Initial"), txt(rep, "SalesRepEntityRef/ListID")) == ("SR", txt(employee, "ListID"))
    west = qb.ok("<ClassAddRq><ClassAdd><Name>West</Name></ClassAdd></ClassAddRq>")
    retail = qb.ok(f"<ClassAddRq><ClassAdd><Name>Retail</Name><IsActive>true</IsActive><ParentRef><ListID>"
                   f"{txt(west, 'ListID')}</ListID></ParentRef></ClassAdd></ClassAddRq>")
    assert (txt(retail, "FullName"), txt(retail, "Sublevel")) == ("West:Retail", "1")
    assert txt(qb.ok("<ShipMethodAddRq><ShipMethodAdd><Name>Courier</Name></ShipMethodAdd></ShipMethodAddRq>"),
               "Name") == "Courier"
    assert qb.one("<ClassAddRq><ClassAdd><Name>west</Name></ClassAdd></ClassAddRq>").get("statusCode") == "3100"
    (found,) = qb.call("<SalesRepQueryRq><FullName>SR</FullName></SalesRepQueryRq>")
    assert txt(found[0], "Initial") == "SR"
    renamed = qb.ok(f"<ClassModRq><ClassMod><ListID>{txt(west, 'ListID')}</ListID><EditSequence>"
                    f"{txt(west, 'EditSequence')}</EditSequence><Name>Pacific</Name></ClassMod></ClassModRq>")
    assert txt(renamed, "FullName") == "Pacific"
    (classes,) = qb.call("<ClassQueryRq><NameFilter><MatchCriterion>Contains</MatchCriterion><Name>retail</Name>"
                         "</NameFilter></ClassQueryRq>")
    assert [txt(r, "FullName") for r in classes] == ["Pacific:Retail"]


def test_references_resolve_and_a_typo_is_3140(qb, txt):
    qb.ok("<ClassAddRq><ClassAdd><Name>West</Name></ClassAdd></ClassAddRq>")
    customer = qb.ok("<CustomerAddRq><CustomerAdd><Name>Acme</Name><ClassRef><FullName>West</FullName></ClassRef>"
                     "<CustomerTypeRef><FullName>Retail</FullName></CustomerTypeRef>"
                     "<PreferredPaymentMethodRef><FullName>Visa</FullName></PreferredPaymentMethodRef>"
                     "</CustomerAdd></CustomerAddRq>")
    assert txt(customer, "ClassRef/ListID") and txt(customer, "CustomerTypeRef/ListID")
    assert txt(customer, "PreferredPaymentMethodRef/FullName") == "Visa"
    for body, what in (
        ("<SalesRepRef><FullName>XX</FullName></SalesRepRef>", 'Sales Rep "XX"'),
        ("<CustomerTypeRef><FullName>Retial</FullName></CustomerTypeRef>", 'Customer Type "Retial"'),
        ("<ClassRef><ListID>80000999-1</ListID></ClassRef>", 'Class "80000999-1"'),
        ("<SalesTaxCodeRef><FullName>Txa</FullName></SalesTaxCodeRef>", 'Sales Tax Code "Txa"'),
        ("<ItemSalesTaxRef><FullName>County Tax</FullName></ItemSalesTaxRef>", 'Item "County Tax"'),
    ):
        response = qb.one(f"<CustomerAddRq><CustomerAdd><Name>Typo</Name>{body}</CustomerAdd></CustomerAddRq>")
        assert response.get("statusCode") == "3140", body
        assert f"invalid reference to QuickBooks {what}" in response.get("statusMessage")
    header = ("<CustomerRef><FullName>Acme</FullName></CustomerRef><TemplateRef><FullName>Fancy Invoice"
              "</FullName></TemplateRef>")
    invoice = qb.one(f"<InvoiceAddRq><InvoiceAdd>{header}</InvoiceAdd></InvoiceAddRq>")
    assert invoice.get("statusCode") == "3140" and 'Template "Fancy Invoice"' in invoice.get("statusMessage")
    for ref in ("<ShipMethodRef><FullName>Pigeon</FullName></ShipMethodRef>",
                "<CustomerMsgRef><FullName>Bye</FullName></CustomerMsgRef>"):
        bad = qb.one(f"<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Acme</FullName></CustomerRef>{ref}"
                     "</InvoiceAdd></InvoiceAddRq>")
        assert bad.get("statusCode") == "3140", ref
    good = qb.ok("<InvoiceAddRq><InvoiceAdd><CustomerRef><FullName>Acme</FullName></CustomerRef>"
                 "<TemplateRef><FullName>Intuit Service Invoice</FullName></TemplateRef>"
                 "<ShipMethodRef><FullName>UPS</FullName></ShipMethodRef></InvoiceAdd></InvoiceAddRq>")
    assert txt(good, "TemplateRef/ListID") and txt(good, "ShipMethodRef/FullName") == "UPS"


def test_a_list_element_in_use_cannot_be_deleted(qb, txt):
    west = qb.ok("<ClassAddRq><ClassAdd><Name>West</Name></ClassAdd></ClassAddRq>")
    qb.ok("<CustomerAddRq><CustomerAdd><Name>Acme</Name><ClassRef><FullName>West</FullName></ClassRef>"
          "</CustomerAdd></CustomerAddRq>")
    response = qb.one(f"<ListDelRq><ListDelType>Class</ListDelType><ListID>{txt(west, 'ListID')}</ListID>"
                      "</ListDelRq>")
    assert response.get("statusCode") == "3170"
