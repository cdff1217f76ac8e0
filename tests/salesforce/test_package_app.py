"""The Lightning app in the package: the QuickBooks Sync app and tab, record actions, and the two permission sets."""

from __future__ import annotations

from pathlib import Path

from qbsf.sim.salesforce.schema import build_schema
from qbsf.xmlsafe import parse_xml

PROJECT = Path(__file__).resolve().parents[2] / "salesforce"
DEFAULT = PROJECT / "force-app" / "main" / "default"
NS = "{http://soap.sforce.com/2006/04/metadata}"


def _xml(relative: str):
    return parse_xml((DEFAULT / relative).read_bytes())


def _grants(permission_set: str) -> tuple[dict[str, dict[str, str]], dict[str, tuple[str, str]], set[str]]:
    document = _xml(f"permissionsets/{permission_set}.permissionset-meta.xml")
    objects = {p.findtext(f"{NS}object"): {c.tag.removeprefix(NS): c.text for c in p}
               for p in document.iter(f"{NS}objectPermissions")}
    fields = {p.findtext(f"{NS}field"): (p.findtext(f"{NS}readable"), p.findtext(f"{NS}editable"))
              for p in document.iter(f"{NS}fieldPermissions")}
    classes = {p.findtext(f"{NS}apexClass") for p in document.iter(f"{NS}classAccesses")}
    return objects, fields, classes


def test_app_opens_on_the_dashboard_tab() -> None:
    app = _xml("applications/QuickBooks_Sync.app-meta.xml")
    assert app.findtext(f"{NS}label") == "QuickBooks Sync" and app.findtext(f"{NS}uiType") == "Lightning"
    tabs = [t.text for t in app.iter(f"{NS}tabs")]
    assert tabs[0] == "QuickBooks_Sync" and "QB_Invoice__c" in tabs
    assert _xml("tabs/QuickBooks_Sync.tab-meta.xml").findtext(f"{NS}lwcComponent") == "qbsfDashboard"


def test_send_to_quickbooks_on_account_and_opportunity() -> None:
    for obj in ("Account", "Opportunity"):
        action = _xml(f"quickActions/{obj}.Send_to_QuickBooks.quickAction-meta.xml")
        assert action.findtext(f"{NS}lightningWebComponent") == "qbsfSendToQuickBooks"
        assert action.findtext(f"{NS}label") == "Send to QuickBooks"
    bundle = _xml("lwc/qbsfSendToQuickBooks/qbsfSendToQuickBooks.js-meta.xml")
    assert bundle.findtext(f".//{NS}actionType") == "Action", "headless: no modal, a toast"
    invoices = _xml("lwc/qbsfInvoices/qbsfInvoices.js-meta.xml")
    assert {o.text for o in invoices.iter(f"{NS}object")} == {"Account", "Opportunity", "QB_Invoice__c"}


def test_integration_user_permission_set_reaches_everything_the_connector_touches() -> None:
    objects, fields, classes = _grants("QBSF_Connector")
    assert classes == {"QBSFCycleResource"}, "the connector's one call per cycle (POST /services/apexrest/qbsf/cycle)"
    for standard in ("Account", "Contact", "Opportunity", "Product2"):
        assert objects[standard]["allowRead"] == objects[standard]["allowEdit"] == "true"
    for custom in ("QB_Invoice__c", "QBSync_Queue__c", "QBSF_Mapping__c", "QBSF_Watermark__c", "QBSF_Activity__c"):
        assert objects[custom]["allowDelete"] == "true", custom  # the connector purges activity and queue rows
    on_disk = {f"{p.parent.parent.name}.{p.name.removesuffix('.field-meta.xml')}"
               for p in DEFAULT.glob("objects/*/fields/*.field-meta.xml")}
    assert set(fields) == on_disk and all(v == ("true", "true") for v in fields.values())


def test_user_permission_set_gives_the_app_and_requests_but_no_writes_to_synced_data() -> None:
    objects, fields, classes = _grants("QBSF_User")
    assert classes == {"QBSFDashboardController", "QBSFRecordController"}
    assert objects["QBSF_Sync_Request__c"]["allowCreate"] == "true"
    assert objects["QB_Invoice__c"] == {**objects["QB_Invoice__c"], "allowRead": "true", "allowEdit": "false",
                                        "allowCreate": "false", "allowDelete": "false"}
    assert "QBSync_Queue__c" not in objects, "the queue is written by Apex in system mode, never by users"
    editable = {name for name, (_, edit) in fields.items() if edit == "true"}
    assert editable == {"QBSF_Sync_Request__c.Direction__c", "QBSF_Sync_Request__c.Entity__c",
                        "QBSF_Sync_Request__c.Requested_By__c", "QBSF_Sync_Request__c.Status__c",
                        "QBSF_Watermark__c.Reset_Requested__c", "QBSF_Activity__c.Retry_Requested__c"}
    document = _xml("permissionsets/QBSF_User.permissionset-meta.xml")
    assert document.findtext(f".//{NS}application") == "QuickBooks_Sync"


def test_emulator_learns_the_app_objects_from_the_package() -> None:
    schema = build_schema(PROJECT)
    assert schema.get("QBSF_Mapping__c").field("State__c").picklistValues == ["Pending", "Active", "Rejected"]
    assert schema.get("QBSF_Mapping__c").field("State__c").defaultValue == "Pending"
    assert schema.get("QBSF_Watermark__c").field("Entity__c").externalId
    assert schema.get("QBSF_Activity__c").field("Kind__c").picklistValues == ["Summary", "Failure"]
