"""The package's metadata against the Metadata API's documented shape, without an org.

Each ``*-meta.xml`` file is checked for the root element its suffix stands for, only the child elements the Metadata
API Developer Guide documents for that type (a misspelt element is refused at deploy), the values it enumerates, the
type-specific required elements of a custom field, API version 62.0 or newer, and that every name one file refers to
(a field in a permission set, a tab in an app, a component in a tab or action) exists in the package or is standard.
Pages: https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/ — customobject.htm, customfield.htm,
meta_permissionset.htm, meta_customapplication.htm, meta_customtab.htm, meta_quickaction.htm, meta_custompermission.htm,
meta_lightningcomponentbundle.htm, meta_classes.htm, meta_triggers.htm.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from xml.etree.ElementTree import Element

import pytest

from qbsf.xmlsafe import parse_xml

DEFAULT = Path(__file__).resolve().parents[2] / "salesforce" / "force-app" / "main" / "default"
NS = "{http://soap.sforce.com/2006/04/metadata}"
MIN_API = 62.0

# suffix → (root element, documented child elements used by this package or commonly valid for it)
SHAPES: dict[str, tuple[str, set[str]]] = {
    ".object-meta.xml": ("CustomObject", {
        "actionOverrides", "allowInChatterGroups", "compactLayoutAssignment", "customSettingsType", "deploymentStatus",
        "description", "enableActivities", "enableBulkApi", "enableFeeds", "enableHistory", "enableLicensing",
        "enableReports", "enableSearch", "enableSharing", "enableStreamingApi", "externalSharingModel", "label",
        "nameField", "pluralLabel", "searchLayouts", "sharingModel", "visibility", "fields", "listViews",
        "validationRules", "startsWith"}),
    ".field-meta.xml": ("CustomField", {
        "fullName", "caseSensitive", "defaultValue", "deleteConstraint", "description", "externalId", "formula",
        "formulaTreatBlanksAs", "inlineHelpText", "label", "length", "precision", "referenceTo", "relationshipLabel",
        "relationshipName", "relationshipOrder", "reparentableMasterDetail", "required", "scale", "trackFeedHistory",
        "trackHistory", "trackTrending", "type", "unique", "valueSet", "visibleLines", "writeRequiresMasterRead"}),
    ".permissionset-meta.xml": ("PermissionSet", {
        "applicationVisibilities", "classAccesses", "customPermissions", "description", "fieldPermissions",
        "hasActivationRequired", "label", "license", "objectPermissions", "pageAccesses", "recordTypeVisibilities",
        "tabSettings", "userPermissions", "customSettingAccesses"}),
    ".cls-meta.xml": ("ApexClass", {"apiVersion", "packageVersions", "status"}),
    ".trigger-meta.xml": ("ApexTrigger", {"apiVersion", "packageVersions", "status"}),
    ".app-meta.xml": ("CustomApplication", {
        "actionOverrides", "brand", "description", "formFactors", "isNavAutoTempTabsDisabled",
        "isNavPersonalizationDisabled", "isNavTabPersistenceDisabled", "label", "navType", "profileActionOverrides",
        "setupExperience", "tabs", "uiType", "utilityBar"}),
    ".tab-meta.xml": ("CustomTab", {
        "customObject", "description", "label", "lwcComponent", "motif", "flexiPage", "url", "urlEncodingKey"}),
    ".quickAction-meta.xml": ("QuickAction", {
        "actionSubtype", "description", "height", "icon", "label", "lightningWebComponent", "optionsCreateFeedItem",
        "standardLabel", "type", "width", "targetObject", "quickActionLayout"}),
    ".customPermission-meta.xml": ("CustomPermission", {"connectedApp", "description", "isLicensed", "label"}),
    ".js-meta.xml": ("LightningComponentBundle", {
        "apiVersion", "description", "isExposed", "masterLabel", "targets", "targetConfigs", "capabilities"}),
}

# https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/customfield.htm (FieldType)
FIELD_TYPES = {
    "AutoNumber", "Checkbox", "Currency", "Date", "DateTime", "Email", "EncryptedText", "Html", "Location", "Lookup",
    "LongTextArea", "MasterDetail", "MultiselectPicklist", "Number", "Percent", "Phone", "Picklist", "Text",
    "TextArea", "Time", "Url"}
# https://developer.salesforce.com/docs/platform/lwc/guide/reference-configuration-tags.html (targets)
LWC_TARGETS = {
    "lightning__AppPage", "lightning__HomePage", "lightning__RecordPage", "lightning__RecordAction", "lightning__Tab",
    "lightning__UtilityBar", "lightning__FlowScreen", "lightningCommunity__Page", "lightningCommunity__Default"}
STANDARD_OBJECTS = {"Account", "Contact", "Opportunity", "OpportunityLineItem", "Product2", "Pricebook2",
                    "PricebookEntry", "Order", "OrderItem", "Quote", "QuoteLineItem"}
STANDARD_TABS = {"standard-Account", "standard-Contact", "standard-Opportunity", "standard-Product2",
                 "standard-home", "standard-report", "standard-Dashboard"}


def _shape(path: Path) -> tuple[str, set[str]] | None:
    for suffix, shape in SHAPES.items():
        if path.name.endswith(suffix):
            return shape
    return None


def _text(element: Element, tag: str) -> str | None:
    found = element.find(f"{NS}{tag}")
    return None if found is None else (found.text or "").strip()


def _package_names(default: Path) -> dict[str, set[str]]:
    names: dict[str, set[str]] = {"objects": set(), "fields": set(), "classes": set(), "tabs": set(), "apps": set(),
                                  "lwc": set(), "permissions": set()}
    names["objects"] = {p.name for p in (default / "objects").iterdir() if p.is_dir()}
    names["fields"] = {f"{p.parent.parent.name}.{p.name.removesuffix('.field-meta.xml')}"
                       for p in default.glob("objects/*/fields/*.field-meta.xml")}
    names["classes"] = {p.stem for p in default.glob("classes/*.cls")}
    names["tabs"] = {p.name.removesuffix(".tab-meta.xml") for p in default.glob("tabs/*.tab-meta.xml")}
    names["apps"] = {p.name.removesuffix(".app-meta.xml") for p in default.glob("applications/*.app-meta.xml")}
    names["lwc"] = {p.name for p in default.glob("lwc/*") if p.is_dir() and not p.name.startswith("__")}
    names["permissions"] = {p.name.removesuffix(".customPermission-meta.xml")
                            for p in default.glob("customPermissions/*.customPermission-meta.xml")}
    return names


def _check_field(path: Path, root: Element, problems: list[str]) -> None:
    kind = _text(root, "type")
    where = f"{path.parent.parent.name}.{path.name.removesuffix('.field-meta.xml')}"
    if kind not in FIELD_TYPES:
        problems.append(f"{where}: type {kind!r} is not a Metadata API field type")
        return
    if _text(root, "label") is None:
        problems.append(f"{where}: label is required")
    needs = {"Text": ("length",), "LongTextArea": ("length", "visibleLines"), "Number": ("precision", "scale"),
             "Currency": ("precision", "scale"), "Percent": ("precision", "scale"),
             "Lookup": ("referenceTo", "relationshipName"), "MasterDetail": ("referenceTo", "relationshipName"),
             "Picklist": ("valueSet",), "Checkbox": ("defaultValue",)}.get(kind, ())
    for tag in needs:
        if root.find(f"{NS}{tag}") is None:
            problems.append(f"{where}: a {kind} field needs <{tag}>")
    length = _text(root, "length")
    if kind == "Text" and length and not 1 <= int(length) <= 255:
        problems.append(f"{where}: Text length {length} is outside 1–255")
    if kind == "LongTextArea" and length and not 256 <= int(length) <= 131072:
        problems.append(f"{where}: LongTextArea length {length} is outside 256–131,072")
    if kind in {"Number", "Currency", "Percent"} and int(_text(root, "precision") or 0) > 18:
        problems.append(f"{where}: precision above 18")
    if kind == "Lookup" and _text(root, "deleteConstraint") not in {None, "SetNull", "Restrict", "Cascade"}:
        problems.append(f"{where}: deleteConstraint must be SetNull, Restrict or Cascade")
    if kind == "Checkbox" and _text(root, "defaultValue") not in {"true", "false"}:
        problems.append(f"{where}: a Checkbox defaultValue is true or false")


def _check_api_version(path: Path, root: Element, problems: list[str]) -> None:
    version = _text(root, "apiVersion")
    if version is None or float(version) < MIN_API:
        problems.append(f"{path.name}: apiVersion {version} (the package needs {MIN_API} or newer)")


def _check_permission_set(path: Path, root: Element, names: dict[str, set[str]], problems: list[str]) -> None:
    default = path.parent.parent
    required_fields = {f"{p.parent.parent.name}.{p.name.removesuffix('.field-meta.xml')}"
                       for p in default.glob("objects/*/fields/*.field-meta.xml")
                       if _text(parse_xml(p.read_bytes()), "required") == "true"
                       or _text(parse_xml(p.read_bytes()), "type") == "MasterDetail"}
    if _text(root, "label") is None:
        problems.append(f"{path.name}: label is required")
    for grant in root.iter(f"{NS}fieldPermissions"):
        field = _text(grant, "field") or ""
        if field not in names["fields"]:
            problems.append(f"{path.name}: field {field} is not in the package")
        if field in required_fields:
            problems.append(f"{path.name}: {field} is required; Salesforce refuses field permissions on it")
    for grant in root.iter(f"{NS}objectPermissions"):
        obj = _text(grant, "object") or ""
        if obj not in names["objects"] | STANDARD_OBJECTS:
            problems.append(f"{path.name}: object {obj} is unknown")
        if _text(grant, "allowEdit") == "true" and _text(grant, "allowRead") != "true":
            problems.append(f"{path.name}: {obj} editable but not readable")
    for grant in root.iter(f"{NS}classAccesses"):
        if _text(grant, "apexClass") not in names["classes"]:
            problems.append(f"{path.name}: class {_text(grant, 'apexClass')} is not in the package")
    for grant in root.iter(f"{NS}tabSettings"):
        if _text(grant, "tab") not in names["tabs"] | STANDARD_TABS:
            problems.append(f"{path.name}: tab {_text(grant, 'tab')} is not in the package")
        if _text(grant, "visibility") not in {"Available", "Visible", "None"}:
            problems.append(f"{path.name}: tab visibility must be Available, Visible or None")
    for grant in root.iter(f"{NS}applicationVisibilities"):
        if _text(grant, "application") not in names["apps"]:
            problems.append(f"{path.name}: application {_text(grant, 'application')} is not in the package")
    for grant in root.iter(f"{NS}customPermissions"):
        if _text(grant, "name") not in names["permissions"]:
            problems.append(f"{path.name}: custom permission {_text(grant, 'name')} is not in the package")


def _check_other(path: Path, root: Element, names: dict[str, set[str]], problems: list[str]) -> None:
    tag = root.tag.removeprefix(NS)
    if tag == "CustomObject" and path.parent.name not in STANDARD_OBJECTS:
        setting = _text(root, "customSettingsType") is not None
        for needed in ("label",) if setting else ("label", "deploymentStatus"):
            if _text(root, needed) is None:
                problems.append(f"{path.name}: {needed} is required")
        if _text(root, "customSettingsType") is None and (_text(root, "pluralLabel") is None
                                                          or root.find(f"{NS}nameField") is None):
            problems.append(f"{path.name}: a custom object needs pluralLabel and nameField")
        if _text(root, "customSettingsType") not in {None, "Hierarchy", "List"}:
            problems.append(f"{path.name}: customSettingsType is Hierarchy or List")
    elif tag == "CustomApplication":
        if _text(root, "uiType") != "Lightning" or _text(root, "navType") not in {"Standard", "Console"}:
            problems.append(f"{path.name}: a Lightning app needs uiType Lightning and navType Standard or Console")
        for tab in root.iter(f"{NS}tabs"):
            if (tab.text or "").strip() not in names["tabs"] | STANDARD_TABS:
                problems.append(f"{path.name}: tab {tab.text} is not in the package")
    elif tag == "CustomTab":
        component = _text(root, "lwcComponent")
        if component is not None and component not in names["lwc"]:
            problems.append(f"{path.name}: lwcComponent {component} is not in the package")
        if component is None and _text(root, "customObject") != "true":
            problems.append(f"{path.name}: a tab shows an LWC or a custom object")
        if _text(root, "motif") is None:
            problems.append(f"{path.name}: motif (the tab's icon) is required")
    elif tag == "QuickAction":
        obj = path.name.split(".", 1)[0]
        if obj not in STANDARD_OBJECTS | names["objects"]:
            problems.append(f"{path.name}: an object action's file is named Object.Action")
        if _text(root, "actionSubtype") not in {None, "Action", "ScreenAction", "Create", "Update"}:
            problems.append(f"{path.name}: actionSubtype is Action, ScreenAction, Create or Update")
        if _text(root, "type") == "LightningWebComponent" and \
                _text(root, "lightningWebComponent") not in names["lwc"]:
            problems.append(f"{path.name}: lightningWebComponent is not in the package")
    elif tag == "LightningComponentBundle":
        _check_api_version(path, root, problems)
        for target in root.iter(f"{NS}target"):
            if (target.text or "").strip() not in LWC_TARGETS:
                problems.append(f"{path.name}: target {target.text} is not a documented LWC target")
    elif tag in {"ApexClass", "ApexTrigger"}:
        _check_api_version(path, root, problems)
        if _text(root, "status") != "Active":
            problems.append(f"{path.name}: status must be Active")
    elif tag == "CustomPermission" and _text(root, "label") is None:
        problems.append(f"{path.name}: label is required")


def validate(default: Path = DEFAULT) -> list[str]:
    """Every departure from the documented shape, one line each (empty = valid)."""
    names = _package_names(default)
    problems: list[str] = []
    for path in sorted(default.rglob("*-meta.xml")):
        shape = _shape(path)
        if shape is None:
            problems.append(f"{path.relative_to(default)}: not a metadata type this check knows")
            continue
        root = parse_xml(path.read_bytes(), source=str(path))
        expected, allowed = shape
        if root.tag != f"{NS}{expected}":
            problems.append(f"{path.name}: root element {root.tag} (expected {expected} in the metadata namespace)")
            continue
        for child in root:
            if child.tag.removeprefix(NS) not in allowed:
                problems.append(f"{path.name}: <{child.tag.removeprefix(NS)}> is not a {expected} element")
        if expected == "CustomField":
            _check_field(path, root, problems)
        elif expected == "PermissionSet":
            _check_permission_set(path, root, names, problems)
        else:
            _check_other(path, root, names, problems)
    return problems


def test_package_metadata_has_the_documented_shape() -> None:
    assert validate() == []


def test_every_apex_source_has_its_meta_file() -> None:
    for source in [*DEFAULT.rglob("*.cls"), *DEFAULT.rglob("*.trigger")]:
        assert source.with_name(source.name + "-meta.xml").is_file(), f"{source.name}: add {source.name}-meta.xml"
    for bundle in DEFAULT.glob("lwc/*"):
        if bundle.is_dir() and not bundle.name.startswith("__"):
            assert (bundle / f"{bundle.name}.js-meta.xml").is_file(), f"{bundle.name}: add its .js-meta.xml"


@pytest.mark.parametrize(("relative", "xml", "expected"), [
    ("objects/QB_Invoice__c/fields/Bad__c.field-meta.xml",
     "<CustomField><fullName>Bad__c</fullName><label>B</label><type>Text</type><lenght>10</lenght></CustomField>",
     "<lenght> is not a CustomField element"),
    ("objects/QB_Invoice__c/fields/Bad__c.field-meta.xml",
     "<CustomField><fullName>Bad__c</fullName><label>B</label><type>Text</type><length>300</length></CustomField>",
     "Text length 300 is outside 1–255"),
    ("objects/QB_Invoice__c/fields/Bad__c.field-meta.xml",
     "<CustomField><fullName>Bad__c</fullName><label>B</label><type>Lookup</type></CustomField>",
     "a Lookup field needs <referenceTo>"),
    ("classes/Old.cls-meta.xml", "<ApexClass><apiVersion>58.0</apiVersion><status>Active</status></ApexClass>",
     "apiVersion 58.0"),
    ("permissionsets/Bad.permissionset-meta.xml",
     "<PermissionSet><label>B</label><fieldPermissions><editable>true</editable><field>Account.Nope__c</field>"
     "<readable>true</readable></fieldPermissions></PermissionSet>", "field Account.Nope__c is not in the package"),
])
def test_the_check_refuses_what_salesforce_refuses(tmp_path: Path, relative: str, xml: str, expected: str) -> None:
    """Each rule can fail: a bad file dropped into a copy of the package is named with the problem."""
    copy = tmp_path / "default"
    shutil.copytree(DEFAULT, copy, ignore=shutil.ignore_patterns("node_modules", "__tests__"))
    target = copy / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    open_tag_end = xml.index(">")
    target.write_text(f'<?xml version="1.0" encoding="UTF-8"?>\n{xml[:open_tag_end]} '
                      f'xmlns="http://soap.sforce.com/2006/04/metadata"{xml[open_tag_end:]}')
    problems = validate(copy)
    assert any(expected in problem for problem in problems), problems
