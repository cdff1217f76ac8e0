"""The compact standard schema agrees with real describe results; custom schema comes from SFDX metadata."""

import json
from pathlib import Path

import pytest

from qbsf.errors import ConfigError
from qbsf.sim.salesforce.metadata import read_field
from qbsf.sim.salesforce.schema import build_schema, compact_field, default_metadata_dir, load_standard_objects
from qbsf.sim.salesforce.standard_gen import ADDED_TO_RECORDED

HERE = Path(__file__).parent
DESCRIBE = Path(__file__).resolve().parents[3].parent / "shared" / "salesforce" / "describe"
FIXTURE_OBJECTS = HERE / "metadata" / "objects"


@pytest.mark.parametrize("name", ["Account", "Contact", "Opportunity"])
def test_standard_objects_agree_with_recorded_describe(name):
    ours = {o.name: o for o in load_standard_objects()}[name]
    assert len(ours.fields) >= 25 and ours.field("Id").type == "id"
    if not DESCRIBE.is_dir():
        return  # the ground truth lives beside the checkout (CI); a user's machine checks the shape only
    real = json.loads((DESCRIBE / f"{name}.json").read_text())
    assert ours.keyPrefix == real["keyPrefix"]
    real_fields = {f["name"]: compact_field(f) for f in real["fields"]}
    # quote syncing's field is added from Salesforce's documentation: the recording comes from an org without quotes
    added = set(ADDED_TO_RECORDED.get(name, ()))
    assert not added & set(real_fields) and added <= set(ours.fields)
    for field in ours.fields.values():
        if field.name in added:
            continue
        expected = real_fields[field.name]
        got = {key: getattr(field, key) for key in expected}
        assert got == expected, field.name


def test_standard_objects_have_the_real_key_prefixes_and_required_fields():
    objects = {o.name: o for o in load_standard_objects()}
    prefixes = {name: o.keyPrefix for name, o in objects.items()}
    assert prefixes == {"Account": "001", "Contact": "003", "Opportunity": "006", "Product2": "01t",
                        "Pricebook2": "01s", "PricebookEntry": "01u", "OpportunityLineItem": "00k", "User": "005",
                        "Organization": "00D", "Order": "801", "OrderItem": "802", "Quote": "0Q0",
                        "QuoteLineItem": "0QL"}
    required = {name: sorted(f.name for f in o.fields.values() if f.required) for name, o in objects.items()}
    assert required["Account"] == ["Name"]
    assert required["Contact"] == ["LastName"]
    assert required["Opportunity"] == ["CloseDate", "Name", "StageName"]
    assert required["PricebookEntry"] == ["Pricebook2Id", "Product2Id", "UnitPrice"]
    assert required["Order"] == ["AccountId", "EffectiveDate", "Status"]
    assert required["OrderItem"] == ["OrderId", "PricebookEntryId", "Quantity", "UnitPrice"]
    assert required["Quote"] == ["Name", "OpportunityId"]
    assert required["QuoteLineItem"] == ["PricebookEntryId", "Quantity", "QuoteId", "UnitPrice"]


def test_custom_objects_and_fields_are_read_from_metadata():
    schema = build_schema(FIXTURE_OBJECTS)
    account = schema.get("account")
    ext = account.field("qb_customer_id__c")
    assert (ext.name, ext.type, ext.length, ext.externalId, ext.unique) == ("QB_Customer_ID__c", "string", 40, True,
                                                                          True)
    invoice = schema.get("QB_Invoice__c")
    assert invoice.custom and invoice.keyPrefix.startswith("a")
    lookup = invoice.field("Linked_Account__c")
    assert (lookup.type, lookup.referenceTo, lookup.relationshipName) == ("reference", ["Account"],
                                                                          "Linked_Account__r")
    assert account.child_relationship("QB_Invoices__r").childSObject == "QB_Invoice__c"
    status = invoice.field("Status__c")
    assert status.picklistValues == ["Paid", "OverDue", "Open"] and status.restrictedPicklist
    assert status.defaultValue == "Open"
    assert invoice.field("Amount__c").required and invoice.field("Amount__c").type == "currency"
    assert invoice.field("Paid__c").defaultValue is False


def test_a_field_without_type_names_the_file(tmp_path):
    bad = tmp_path / "Broken__c.field-meta.xml"
    bad.write_text('<CustomField xmlns="http://soap.sforce.com/2006/04/metadata"><fullName>Broken__c</fullName>'
                   '</CustomField>')
    with pytest.raises(ConfigError, match=r"Broken__c\.field-meta\.xml"):
        read_field(bad)


def test_a_missing_metadata_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        build_schema(tmp_path / "nowhere")


def test_the_repository_metadata_package_loads_when_present():
    folder = default_metadata_dir()
    if folder is None:
        pytest.fail("the SFDX package salesforce/force-app/main/default/objects is missing from the checkout")
    schema = build_schema(folder)
    customs = [o.name for o in schema.objects.values() if o.custom]
    assert customs, "the metadata package defines no custom object"
