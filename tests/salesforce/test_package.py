"""The SFDX metadata package: well-formed, the agreed names and types, loadable by the emulator, Apex wired up."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qbsf.sim.salesforce.schema import build_schema
from qbsf.xmlsafe import parse_xml

PROJECT = Path(__file__).resolve().parents[2] / "salesforce"
DEFAULT = PROJECT / "force-app" / "main" / "default"
NS = "{http://soap.sforce.com/2006/04/metadata}"


def _field(obj: str, name: str) -> dict[str, str]:
    """The top-level elements of one field file as a dict (tag → text)."""
    document = parse_xml((DEFAULT / "objects" / obj / "fields" / f"{name}.field-meta.xml").read_bytes())
    return {child.tag.removeprefix(NS): (child.text or "").strip() for child in document}


def test_project_file_points_at_force_app() -> None:
    project = json.loads((PROJECT / "sfdx-project.json").read_text())
    assert project["packageDirectories"] == [{"path": "force-app", "default": True}]
    assert re.fullmatch(r"\d+\.0", project["sourceApiVersion"])


def test_every_metadata_file_is_well_formed_with_matching_full_name() -> None:
    files = sorted(DEFAULT.rglob("*-meta.xml"))
    assert len(files) > 40
    for path in files:
        document = parse_xml(path.read_bytes(), source=str(path))
        assert document.tag.startswith(NS), path
        full_name = document.find(f"{NS}fullName")
        if full_name is not None:
            assert path.name.startswith(full_name.text + "."), path


@pytest.mark.parametrize(("obj", "name"), [
    ("Account", "QB_Customer_ID__c"), ("Contact", "QB_Customer_ID__c"), ("Product2", "QB_Item_ID__c"),
    ("Opportunity", "QB_Invoice_ID__c"), ("QB_Invoice__c", "QB_Invoice_ID__c"), ("Order", "QB_Sales_Order_ID__c"),
    ("Quote", "QB_Estimate_ID__c"),
    ("QBSF_Heartbeat__c", "Connector_Id__c"),
])
def test_id_fields_are_text50_external_unique_case_insensitive(obj: str, name: str) -> None:
    field = _field(obj, name)
    assert (field["type"], field["length"], field["externalId"], field["unique"], field["caseSensitive"]) == (
        "Text", "50", "true", "true", "false")


def test_picklists_and_defaults() -> None:
    item_type = parse_xml((DEFAULT / "objects/Product2/fields/QB_Item_Type__c.field-meta.xml").read_bytes())
    values = [(v.findtext(f"{NS}fullName"), v.findtext(f"{NS}default"))
              for v in item_type.iter(f"{NS}value")]
    assert values == [("Service", "true"), ("NonInventory", "false"), ("Inventory", "false")]
    assert _field("Product2", "QB_Sales_Price__c")["type"] == "Currency"
    assert (_field("Product2", "QB_Sales_Price__c")["precision"], _field("Product2", "QB_Sales_Price__c")["scale"]) \
        == ("16", "2")
    assert _field("QBSync_Queue__c", "Attempts__c")["defaultValue"] == "0"
    assert _field("QBSync_Queue__c", "Record_Id__c")["length"] == "18"
    assert not (DEFAULT / "objects/QBSync_Queue__c/fields/Payload__c.field-meta.xml").exists(), \
        "the queue names the record; qbsf re-reads it (a JSON copy could exceed the heap in a 200-record save)"
    assert _field("QBSync_Queue__c", "Record_Id__c")["externalId"] == "true", "indexed: the trigger looks rows up"
    assert _field("QBSF_Settings__c", "Queue_Disabled__c")["type"] == "Checkbox"
    settings = parse_xml((DEFAULT / "objects/QBSF_Settings__c/QBSF_Settings__c.object-meta.xml").read_bytes())
    assert settings.findtext(f"{NS}customSettingsType") == "Hierarchy"


def test_emulator_schema_is_built_from_the_package() -> None:
    schema = build_schema(PROJECT)
    invoice = schema.get("QB_Invoice__c")
    assert invoice is not None and invoice.custom
    assert invoice.field("Linked_Account__c").referenceTo == ["Account"]
    assert invoice.field("Opportunity__c").referenceTo == ["Opportunity"]
    assert invoice.field("Status__c").picklistValues == ["Paid", "OverDue", "Open"]
    assert invoice.field("QB_Invoice_ID__c").externalId
    queue = schema.get("QBSync_Queue__c")
    assert queue.field("Status__c").defaultValue == "Pending"
    assert queue.field("Operation__c").picklistValues == ["Insert", "Update", "Delete"]
    assert schema.get("QBSF_Sync_Request__c").field("Direction__c").picklistValues == ["SF_TO_QB", "QB_TO_SF"]
    assert schema.get("QBSF_Heartbeat__c").field("QB_Connected__c").type == "boolean"
    assert schema.get("Account").field("QB_Customer_ID__c").externalId
    assert schema.get("Product2").field("QB_Item_Type__c").defaultValue == "Service"


@pytest.mark.parametrize("obj", ["Account", "Contact", "Product2", "Opportunity", "Order", "Quote"])
def test_each_object_has_a_queue_trigger_calling_the_handler(obj: str) -> None:
    source = (DEFAULT / "triggers" / f"QBSync{obj}Trigger.trigger").read_text()
    assert re.search(rf"trigger QBSync{obj}Trigger on {obj} ?\(after insert, after update, after delete", source)
    assert re.search(rf"QBSyncQueueHandler\.enqueue\(\s*'{obj}'", source)
    assert (DEFAULT / "triggers" / f"QBSync{obj}Trigger.trigger-meta.xml").is_file()


def test_line_item_trigger_queues_the_parent_opportunity() -> None:
    source = (DEFAULT / "triggers" / "QBSyncOpportunityLineItemTrigger.trigger").read_text()
    assert re.search(r"on OpportunityLineItem ?\(after insert, after update, after delete\)", source)
    assert "QBSyncQueueHandler.enqueueParents(Trigger.isDelete ? Trigger.old : Trigger.new)" in source


@pytest.mark.parametrize(("line", "parent", "field"), [("OrderItem", "Order", "OrderId"),
                                                      ("QuoteLineItem", "Quote", "QuoteId")])
def test_order_and_quote_line_triggers_queue_their_parent(line: str, parent: str, field: str) -> None:
    source = (DEFAULT / "triggers" / f"QBSync{line}Trigger.trigger").read_text()
    assert re.search(rf"on {line} ?\(after insert, after update, after delete\)", source)
    assert (f"QBSyncQueueHandler.enqueueParents('{parent}', '{field}', Trigger.isDelete ? Trigger.old : "
            f"Trigger.new)") in source


def test_handler_does_one_query_one_dml_and_skips_connector_write_backs() -> None:
    handler = (DEFAULT / "classes" / "QBSyncQueueHandler.cls").read_text()
    assert handler.count("insert as system rows;") == 1 and handler.count("FROM QBSync_Queue__c") == 1
    assert "QBSF_Settings__c.getInstance()" in handler and "static Boolean disabled" not in handler
    assert "Payload__c" not in handler
    for owned in ("qb_customer_id__c", "qb_item_id__c", "qb_invoice_id__c", "qb_sales_order_id__c",
                  "qb_fully_invoiced__c", "qb_manually_closed__c", "qb_estimate_id__c", "qb_estimate_active__c"):
        assert owned in handler
    tests = (DEFAULT / "classes" / "QBSyncQueueHandlerTest.cls").read_text()
    assert tests.startswith("/**") and "@IsTest" in tests
    assert "'Prospecting'" not in tests and "getPicklistValues()" in tests, "stages come from the org's describe"
    assert "Limits.getDmlStatements" not in tests, "no exact DML counts: an org's own automation adds statements"
    for case in ("accountInsertEnqueuesOnePendingRowWithoutPayload", "noSecondRowWhileOneIsPending",
                 "connectorWriteBackIsSkipped", "lineEditQueuesItsOpportunity", "queueDisabledForTheLoadingUser"):
        assert f"static void {case}()" in tests


def test_every_apex_class_has_a_test_class() -> None:
    classes = {p.stem for p in (DEFAULT / "classes").glob("*.cls")}
    for name in classes - {c for c in classes if c.endswith("Test")}:
        assert f"{name}Test" in classes, f"{name}: add {name}Test.cls"


def test_permission_set_covers_every_package_field() -> None:
    permission_set = parse_xml((DEFAULT / "permissionsets" / "QBSF_Connector.permissionset-meta.xml").read_bytes())
    granted = {p.findtext(f"{NS}field") for p in permission_set.iter(f"{NS}fieldPermissions")}
    on_disk = {f"{p.parent.parent.name}.{p.name.removesuffix('.field-meta.xml')}"
               for p in DEFAULT.glob("objects/*/fields/*.field-meta.xml")}
    assert granted == on_disk
