"""Read custom objects and fields from SFDX source-format metadata (``objects/<Object>/…-meta.xml``).

The emulator's custom schema comes only from here, so the metadata package and the emulator cannot drift.
"""

from __future__ import annotations

import logging
from pathlib import Path

from lxml import etree

from qbsf.errors import ConfigError
from qbsf.sim.salesforce.schema import FieldDef, ObjectDef, Schema
from qbsf.sim.salesforce.standard_gen import system_fields
from qbsf.xmlsafe import parse_xml

log = logging.getLogger(__name__)
NS = "http://soap.sforce.com/2006/04/metadata"
_Q = f"{{{NS}}}"
# Metadata field type → describe type.
_TYPES = {"Text": "string", "TextArea": "textarea", "LongTextArea": "textarea", "Html": "textarea",
          "Number": "double", "Currency": "currency", "Percent": "percent", "Checkbox": "boolean", "Date": "date",
          "DateTime": "datetime", "Email": "email", "Phone": "phone", "Url": "url", "Picklist": "picklist",
          "MultiselectPicklist": "multipicklist", "Lookup": "reference", "MasterDetail": "reference",
          "AutoNumber": "string", "Summary": "double", "EncryptedText": "encryptedstring"}
_DEFAULT_LENGTHS = {"Email": 80, "Phone": 40, "Url": 255, "TextArea": 255, "Picklist": 255,
                    "MultiselectPicklist": 4099, "AutoNumber": 30}


def _text(element: etree._Element, tag: str) -> str | None:
    child = element.find(_Q + tag)
    return child.text.strip() if child is not None and child.text else None


def _flag(element: etree._Element, tag: str) -> bool:
    return (_text(element, tag) or "false").lower() == "true"


def _objects_root(path: Path) -> Path:
    """Accept the ``objects`` folder itself or a project root that holds ``force-app/main/default/objects``."""
    nested = path / "force-app" / "main" / "default" / "objects"
    return nested if nested.is_dir() else path


def apply_metadata(schema: Schema, path: Path) -> list[str]:
    """Add every custom object and custom field under ``path`` to ``schema``; returns the object names touched."""
    root = _objects_root(path)
    if not root.is_dir():
        raise ConfigError(f"Salesforce metadata folder not found: {path}",
                          hint="pass the SFDX project's force-app/main/default/objects folder")
    touched: list[str] = []
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    custom_index = sum(1 for o in schema.objects.values() if o.custom)
    for folder in folders:
        name = folder.name
        obj = schema.get(name)
        if obj is None:
            if not name.endswith("__c"):
                log.warning("metadata for %s skipped: the emulator has no such standard object", name)
                continue
            obj = _custom_object(folder, name, custom_index)
            custom_index += 1
            schema.add(obj)
        fields_dir = folder / "fields"
        if fields_dir.is_dir():
            for field_file in sorted(fields_dir.glob("*.field-meta.xml")):
                obj.add_field(read_field(field_file))
        touched.append(obj.name)
    return touched


def _custom_prefix(index: int) -> str:
    """Custom objects get ``a00``, ``a01`` … ``a0Z``, ``a10`` … in folder order, like an org's a0X prefixes."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "a" + alphabet[index // 36] + alphabet[index % 36]


def _custom_object(folder: Path, name: str, index: int) -> ObjectDef:
    meta = folder / f"{name}.object-meta.xml"
    label, plural, name_type, name_label = name.removesuffix("__c").replace("_", " "), "", "Text", "Name"
    name_format = None
    if meta.is_file():
        document = parse_xml(meta.read_bytes(), source=str(meta))
        label = _text(document, "label") or label
        plural = _text(document, "pluralLabel") or ""
        name_field = document.find(_Q + "nameField")
        if name_field is not None:
            name_type = _text(name_field, "type") or "Text"
            name_label = _text(name_field, "label") or name_label
            name_format = _text(name_field, "displayFormat")
    obj = ObjectDef(name=name, keyPrefix=_custom_prefix(index), label=label, labelPlural=plural or label,
                    custom=True, nameFormat=name_format if name_type == "AutoNumber" else None)
    for entry in system_fields(label):
        obj.add_field(FieldDef(**entry))
    auto = name_type == "AutoNumber"
    # A Text name left empty becomes the record's Id; an auto number is assigned: both are defaulted on create.
    obj.add_field(FieldDef(name="Name", type="string", label=name_label, length=80, nillable=True,
                           createable=not auto, updateable=not auto, defaultedOnCreate=True, idLookup=True))
    obj.add_field(FieldDef(name="OwnerId", type="reference", label="Owner ID", length=18, nillable=False,
                           defaultedOnCreate=True, referenceTo=["User"], relationshipName="Owner"))
    return obj


def read_field(path: Path) -> FieldDef:
    """One ``<CustomField>`` file as a field definition."""
    document = parse_xml(path.read_bytes(), source=str(path))
    full_name = _text(document, "fullName") or path.name.removesuffix(".field-meta.xml")
    meta_type = _text(document, "type")
    formula = _text(document, "formula")
    if meta_type is None and formula is None:
        raise ConfigError(f"{path}: <type> missing in CustomField {full_name}", hint="add the field's <type>")
    describe_type = _TYPES.get(meta_type or "Text")
    if describe_type is None:
        raise ConfigError(f"{path}: field type {meta_type!r} is not emulated",
                          hint=f"use one of {', '.join(sorted(_TYPES))}")
    length = int(_text(document, "length") or _DEFAULT_LENGTHS.get(meta_type or "", 0))
    if meta_type == "LongTextArea" or meta_type == "Html":
        length = int(_text(document, "length") or 32768)
    required = _flag(document, "required") or meta_type == "MasterDetail"
    read_only = formula is not None or meta_type in ("AutoNumber", "Summary")
    definition = FieldDef(
        name=full_name, type=describe_type, label=_text(document, "label") or full_name, length=length,
        precision=int(_text(document, "precision") or 0), scale=int(_text(document, "scale") or 0),
        nillable=not required and describe_type != "boolean", createable=not read_only, updateable=not read_only,
        defaultedOnCreate=describe_type == "boolean" or meta_type == "AutoNumber",
        externalId=_flag(document, "externalId"), unique=_flag(document, "unique"),
        idLookup=_flag(document, "externalId") or _flag(document, "unique"), custom=True,
        caseSensitive=_flag(document, "caseSensitive"), calculated=formula is not None,
        cascadeDelete=meta_type == "MasterDetail")
    default = _text(document, "defaultValue")
    if describe_type == "boolean":
        definition.defaultValue = (default or "false").lower() == "true"
    elif default is not None and default.startswith('"') and default.endswith('"'):
        definition.defaultValue = default[1:-1]
    if describe_type == "reference":
        target = _text(document, "referenceTo")
        if target is None:
            raise ConfigError(f"{path}: lookup {full_name} has no <referenceTo>", hint="name the parent object")
        definition.referenceTo = [target]
        definition.relationshipName = full_name.removesuffix("__c") + "__r"
        child = _text(document, "relationshipName")
        definition.childRelationshipName = f"{child}__r" if child else None
        definition.updateable = meta_type != "MasterDetail" or _flag(document, "reparentableMasterDetail")
        constraint = _text(document, "deleteConstraint")
        definition.cascadeDelete = meta_type == "MasterDetail" or constraint == "Cascade"
        definition.restrictedDelete = constraint == "Restrict"
    if describe_type in ("picklist", "multipicklist"):
        value_set = document.find(f"{_Q}valueSet")
        if value_set is not None:
            definition.restrictedPicklist = _flag(value_set, "restricted")
            values = value_set.findall(f"{_Q}valueSetDefinition/{_Q}value")
            definition.picklistValues = [_text(v, "fullName") or "" for v in values]
            defaults = [_text(v, "fullName") for v in values if _flag(v, "default")]
            if defaults:
                definition.defaultValue = defaults[0]
                definition.defaultedOnCreate = True
    return definition

