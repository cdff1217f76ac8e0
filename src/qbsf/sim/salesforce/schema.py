"""The emulated org's schema: standard objects from a compact JSON, custom objects and fields from SFDX metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

STANDARD_SCHEMA_FILE = "standard_objects.json"
# The describe attributes the compact schema keeps, in describe's own names.
COMPACT_KEYS = ("name", "type", "label", "length", "precision", "scale", "nillable", "createable", "updateable",
                "defaultedOnCreate", "externalId", "unique", "idLookup", "referenceTo", "relationshipName",
                "restrictedPicklist", "picklistValues", "cascadeDelete")
TEXT_TYPES = frozenset({"string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "combobox",
                        "encryptedstring"})
NUMBER_TYPES = frozenset({"double", "currency", "percent", "int", "long"})
_SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "boolean": "xsd:boolean", "double": "xsd:double",
               "currency": "xsd:double", "percent": "xsd:double", "int": "xsd:int", "long": "xsd:long",
               "date": "xsd:date", "datetime": "xsd:dateTime"}


def compact_field(describe: dict[str, Any]) -> dict[str, Any]:
    """The subset of one describe field result that the emulator keeps (picklists reduced to their values)."""
    compact = {key: describe.get(key) for key in COMPACT_KEYS}
    compact["picklistValues"] = [entry["value"] for entry in describe.get("picklistValues") or []]
    compact["referenceTo"] = list(describe.get("referenceTo") or [])
    return compact


@dataclass
class FieldDef:
    """One field of an sObject, with the describe flags the emulator enforces."""

    name: str
    type: str
    label: str = ""
    length: int = 0
    precision: int = 0
    scale: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaultedOnCreate: bool = False
    externalId: bool = False
    unique: bool = False
    idLookup: bool = False
    referenceTo: list[str] = field(default_factory=list)
    relationshipName: str | None = None
    restrictedPicklist: bool = False
    picklistValues: list[str] = field(default_factory=list)
    cascadeDelete: bool = False
    restrictedDelete: bool = False  # deleting the parent fails while children point at it
    custom: bool = False
    caseSensitive: bool = False
    defaultValue: Any = None
    calculated: bool = False
    # Name of the child relationship this lookup creates on its parent (custom lookups: "<relationshipName>__r").
    childRelationshipName: str | None = None

    @property
    def required(self) -> bool:
        """Whether an insert must supply a value (describe: createable, not nillable, not defaulted)."""
        return self.createable and not self.nillable and not self.defaultedOnCreate and self.type != "boolean"

    def describe(self) -> dict[str, Any]:
        """This field as a describe field result."""
        return {
            "aggregatable": self.type not in ("textarea",), "autoNumber": False,
            "byteLength": self.length * 3 if self.type in TEXT_TYPES else (18 if self.type in ("id", "reference")
                                                                             else 0),
            "calculated": self.calculated, "cascadeDelete": self.cascadeDelete, "caseSensitive": self.caseSensitive,
            "createable": self.createable, "custom": self.custom, "defaultValue": self.defaultValue,
            "defaultedOnCreate": self.defaultedOnCreate, "digits": 0, "externalId": self.externalId,
            "filterable": self.type != "textarea" or self.length <= 255, "groupable": self.type not in NUMBER_TYPES,
            "idLookup": self.idLookup, "label": self.label or self.name, "length": self.length, "name": self.name,
            "nameField": self.name == "Name", "nillable": self.nillable,
            "picklistValues": [{"active": True, "defaultValue": False, "label": value, "validFor": None,
                                "value": value} for value in self.picklistValues],
            "precision": self.precision, "referenceTo": self.referenceTo, "relationshipName": self.relationshipName,
            "restrictedDelete": self.restrictedDelete, "restrictedPicklist": self.restrictedPicklist,
            "scale": self.scale,
            "soapType": _SOAP_TYPES.get(self.type, "xsd:string"), "sortable": self.type != "textarea",
            "type": self.type, "unique": self.unique, "updateable": self.updateable,
        }


@dataclass
class ChildRelationship:
    """A child relationship: ``childSObject.field`` points at the parent; queried as ``relationshipName``."""

    childSObject: str
    field: str
    relationshipName: str
    cascadeDelete: bool = False


@dataclass
class ObjectDef:
    """One sObject type: its key prefix, its fields (case-insensitive lookup) and child relationships."""

    name: str
    keyPrefix: str
    label: str = ""
    labelPlural: str = ""
    custom: bool = False
    fields: dict[str, FieldDef] = field(default_factory=dict)
    childRelationships: list[ChildRelationship] = field(default_factory=list)
    # Custom objects whose Name is an auto number: its display format, e.g. "Q-{000000}".
    nameFormat: str | None = None

    def __post_init__(self) -> None:
        self._by_lower = {name.lower(): f for name, f in self.fields.items()}

    def add_field(self, definition: FieldDef) -> None:
        """Add or replace a field."""
        self.fields[definition.name] = definition
        self._by_lower[definition.name.lower()] = definition

    def field(self, name: str) -> FieldDef | None:
        """The field called ``name`` (any case), or None."""
        return self._by_lower.get(name.lower())

    def parent_field(self, relationship: str) -> FieldDef | None:
        """The reference field whose relationship name is ``relationship`` (any case), e.g. ``Account``."""
        wanted = relationship.lower()
        for candidate in self.fields.values():
            if candidate.relationshipName and candidate.relationshipName.lower() == wanted:
                return candidate
        return None

    def child_relationship(self, name: str) -> ChildRelationship | None:
        """The child relationship called ``name`` (any case), e.g. ``OpportunityLineItems``."""
        wanted = name.lower()
        return next((c for c in self.childRelationships if c.relationshipName.lower() == wanted), None)

    def describe_global(self, version: str) -> dict[str, Any]:
        """This object's entry in the global describe."""
        base = f"/services/data/v{version}/sobjects/{self.name}"
        return {
            "activateable": False, "createable": True, "custom": self.custom, "customSetting": False,
            "deletable": True, "deprecatedAndHidden": False, "feedEnabled": False, "hasSubtypes": False,
            "isSubtype": False, "keyPrefix": self.keyPrefix, "label": self.label or self.name,
            "labelPlural": self.labelPlural or self.label or self.name, "layoutable": True, "mergeable": False,
            "mruEnabled": False, "name": self.name, "queryable": True, "replicateable": True,
            "retrieveable": True, "searchable": True, "triggerable": True, "undeletable": True, "updateable": True,
            "urls": {"describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}", "sobject": base},
        }

    def describe(self, version: str) -> dict[str, Any]:
        """This object's full describe result."""
        result = self.describe_global(version)
        result["fields"] = [f.describe() for f in self.fields.values()]
        result["childRelationships"] = [
            {"cascadeDelete": c.cascadeDelete, "childSObject": c.childSObject, "deprecatedAndHidden": False,
             "field": c.field, "relationshipName": c.relationshipName, "restrictedDelete": False}
            for c in self.childRelationships]
        result["recordTypeInfos"] = []
        return result


class Schema:
    """All sObject types of the emulated org, looked up case-insensitively."""

    def __init__(self, objects: list[ObjectDef]) -> None:
        self.objects: dict[str, ObjectDef] = {}
        self._by_lower: dict[str, ObjectDef] = {}
        self._by_prefix: dict[str, ObjectDef] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: ObjectDef) -> None:
        """Add (or replace) an object type."""
        self.objects[obj.name] = obj
        self._by_lower[obj.name.lower()] = obj
        self._by_prefix[obj.keyPrefix] = obj

    def get(self, name: str) -> ObjectDef | None:
        """The object type called ``name`` (any case), or None."""
        return self._by_lower.get(name.lower())

    def by_prefix(self, key_prefix: str) -> ObjectDef | None:
        """The object type whose ids start with ``key_prefix``."""
        return self._by_prefix.get(key_prefix)

    def link_children(self) -> None:
        """Rebuild every object's child relationships from the reference fields that name one."""
        for obj in self.objects.values():
            obj.childRelationships = [c for c in obj.childRelationships if self.get(c.childSObject) is not None
                                      and not self.get(c.childSObject).custom]
        for child in self.objects.values():
            for ref in child.fields.values():
                if ref.type != "reference" or not ref.childRelationshipName:
                    continue
                for target in ref.referenceTo:
                    parent = self.get(target)
                    if parent is not None and parent.child_relationship(ref.childRelationshipName) is None:
                        parent.childRelationships.append(ChildRelationship(
                            child.name, ref.name, ref.childRelationshipName, ref.cascadeDelete))


def load_standard_objects() -> list[ObjectDef]:
    """The standard objects shipped with the package (compacted from real describe results and the object reference)."""
    text = resources.files(__package__).joinpath(STANDARD_SCHEMA_FILE).read_text(encoding="utf-8")
    return [_object_from_json(entry) for entry in json.loads(text)["objects"]]


def _object_from_json(entry: dict[str, Any]) -> ObjectDef:
    fields = {f["name"]: FieldDef(**f) for f in entry["fields"]}
    children = [ChildRelationship(**c) for c in entry.get("childRelationships", [])]
    return ObjectDef(name=entry["name"], keyPrefix=entry["keyPrefix"], label=entry.get("label", ""),
                     labelPlural=entry.get("labelPlural", ""), fields=fields, childRelationships=children)


def build_schema(metadata_dir: Path | None = None) -> Schema:
    """The org's schema: standard objects, plus every custom object and field found under ``metadata_dir``.

    ``metadata_dir`` is an SFDX ``objects`` folder (``…/force-app/main/default/objects``) or a project root holding
    one; None means standard objects only.
    """
    from qbsf.sim.salesforce.metadata import apply_metadata

    schema = Schema(load_standard_objects())
    if metadata_dir is not None:
        apply_metadata(schema, Path(metadata_dir))
    schema.link_children()
    return schema


def default_metadata_dir() -> Path | None:
    """The Salesforce package's SFDX objects folder: shipped inside an installed qbsf, or the checkout's."""
    from qbsf.resources import salesforce_objects

    return salesforce_objects()
