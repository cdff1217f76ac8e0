"""The emulated org's data: records, indexes, tokens, API usage and the knobs tests turn.

Every write goes through :meth:`SalesforceState._put`, which keeps the indexes (unique/external-id values, children
by their reference fields, ids case-folded, table positions), the undo log (for ``allOrNone`` rollback) and the
SQLite write-through in step.
"""

from __future__ import annotations

import json
import logging
import random
import re
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qbsf.sim.salesforce import orders
from qbsf.sim.salesforce.ids import ORG_ID, make_id, to18
from qbsf.sim.salesforce.schema import TEXT_TYPES, FieldDef, ObjectDef, Schema, build_schema, default_metadata_dir
from qbsf.sim.salesforce.values import ApiError, coerce, format_datetime

log = logging.getLogger(__name__)

DEMO_USERNAME = "demo@qbsf.example"
DEMO_PASSWORD = "demo"
AUDIT_FIELDS = ("Id", "IsDeleted", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById",
                "SystemModstamp")
# Objects whose changes the package's Apex triggers put on QBSync_Queue__c.
QUEUED_OBJECTS = ("Account", "Contact", "Product2", "Opportunity", "Order", "Quote")
# Lines whose triggers queue their parent as an Update (QBSyncOpportunityLineItemTrigger, QBSyncOrderItemTrigger,
# QBSyncQuoteLineItemTrigger).
QUEUED_PARENTS = {"OpportunityLineItem": ("Opportunity", "OpportunityId"), "OrderItem": ("Order", "OrderId"),
                  "QuoteLineItem": ("Quote", "QuoteId")}
QUEUE_OBJECT = "QBSync_Queue__c"
# The package's QBSyncQueueHandler: fields qbsf writes back (lower case), and audit fields it ignores.
CONNECTOR_FIELDS = {"Account": {"qb_customer_id__c"}, "Contact": {"qb_customer_id__c"},
                    "Product2": {"qb_item_id__c"}, "Opportunity": {"qb_invoice_id__c"},
                    "Order": {"qb_sales_order_id__c", "qb_fully_invoiced__c", "qb_manually_closed__c"},
                    "Quote": {"qb_estimate_id__c", "qb_estimate_active__c"}}
TRIGGER_SYSTEM_FIELDS = {"lastmodifieddate", "lastmodifiedbyid", "systemmodstamp", "lastvieweddate",
                         "lastreferenceddate"}
FAULT_KINDS = ("UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED")


@dataclass
class TokenGrant:
    """An access token the emulator issued."""

    access_token: str
    user_id: str
    client_id: str
    issued_at: float
    scope: str = "api refresh_token"


@dataclass
class Faults:
    """Injected failures: each API call fails with probability ``rate``, with a kind drawn from ``kinds``."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    injected: int = 0
    rng: random.Random = field(default_factory=random.Random)


class SalesforceState:
    """An org in memory (optionally written through to SQLite at ``path``), with a direct Python API for tests.

    Knobs: ``latency`` (seconds added to every API call), :meth:`inject_faults`, ``daily_api_limit``,
    ``token_lifetime`` (seconds; None = tokens never expire), ``package_installed`` (queue triggers on/off).
    """

    def __init__(self, schema: Schema | None = None, *, path: str | Path | None = None,
                 metadata_dir: str | Path | None = None, package_installed: bool = True,
                 daily_api_limit: int = 15_000, clock: Callable[[], datetime] | None = None) -> None:
        if schema is None:
            schema = build_schema(Path(metadata_dir) if metadata_dir else default_metadata_dir())
        self.schema = schema
        self.lock = threading.RLock()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.package_installed = package_installed
        # The url mappings of the package's Apex REST classes (``/qbsf/cycle``); an older package has fewer.
        self.apex_resources: set[str] = _apex_resources(metadata_dir, schema) if package_installed else set()
        self.daily_api_limit = daily_api_limit
        self.api_calls = 0
        self.composite_heavy = 0  # collections and queries sent inside composite calls (5 at most per call)
        self.apex_reads = 0  # reads run by the package's cycle resource (apexrest.py), all in one call each
        self.apex_digest_row_cap = 50_000  # QBSFCycleResource.digestRowCap: rows one digest read may take
        self._api_day_started: float | None = None
        self.latency = 0.0
        self.token_lifetime: float | None = None
        self.faults = Faults()
        self.lock_one_record = False  # set by an injected lock fault: the next collection write fails one record
        # The latest API calls, newest last: {"method", "path", "status", "at"} (for tests and the demo's log).
        self.request_log: deque[dict[str, Any]] = deque(maxlen=1000)
        self.tokens: dict[str, TokenGrant] = {}
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # refresh token → (user id, client id)
        self.auth_codes: dict[str, dict[str, Any]] = {}
        self.cursors: dict[str, Any] = {}  # query locator → rest.QueryCursor
        self._tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in schema.objects}
        self._deleted_at: dict[str, str] = {}
        self._index: dict[tuple[str, str], dict[Any, set[str]]] = {}
        # Per object: its (FieldDef, index) pairs, so a write touches only its own object's indexes.
        self._object_indexes: dict[str, list[tuple[FieldDef, dict[Any, set[str]]]]] = {
            name: [] for name in schema.objects}
        # Live children by reference field: (object, field) → folded parent id → {child id: None} (ordered set).
        self._children: dict[tuple[str, str], dict[str, dict[str, None]]] = {}
        self._object_references: dict[str, list[tuple[str, dict[str, dict[str, None]]]]] = {
            name: [] for name in schema.objects}
        # Every id, deleted or not, by its case-folded form (SOQL compares ids case-insensitively).
        self._folded_ids: dict[str, dict[str, set[str]]] = {name: {} for name in schema.objects}
        # Where each record sits in its table (tables keep creation order; index lookups sort back into it).
        self._positions: dict[str, int] = {}
        self._next_position = 0
        self._sequence = 0
        self._undo: list[tuple[str, str, dict[str, Any] | None, str | None]] = []
        self._depth = 0
        self._dirty: set[tuple[str, str]] = set()
        self._db: sqlite3.Connection | None = None
        self._default_cache: dict[str, dict[str, Any]] = {}
        self._required_cache: dict[str, list[str]] = {}
        for obj in schema.objects.values():
            for definition in obj.fields.values():
                if definition.externalId or definition.unique:
                    index: dict[Any, set[str]] = {}
                    self._index[(obj.name, definition.name)] = index
                    self._object_indexes[obj.name].append((definition, index))
                # Owner and audit lookups may point at deleted users (deletes leave them), so they stay unindexed.
                if definition.type == "reference" and definition.name not in AUDIT_FIELDS \
                        and definition.name != "OwnerId":
                    children: dict[str, dict[str, None]] = {}
                    self._children[(obj.name, definition.name)] = children
                    self._object_references[obj.name].append((definition.name, children))
        if path is not None:
            self._open(Path(path))
        if not self._tables["User"]:
            self.user_id = self.insert("User", {"Username": DEMO_USERNAME, "LastName": "Demo", "FirstName": "Qbsf",
                                                "Email": DEMO_USERNAME, "Alias": "qdemo"}, system=True)
            self.standard_pricebook_id = self.insert(
                "Pricebook2", {"Name": "Standard Price Book", "IsActive": True, "IsStandard": True}, system=True)
        else:
            self.user_id = next(iter(self._tables["User"]))
            self.standard_pricebook_id = next(
                (rid for rid, rec in self._tables["Pricebook2"].items() if rec.get("IsStandard")), "")
        if "Organization" in self._tables and ORG_ID not in self._tables["Organization"]:
            # The org's own record (Object Reference, "Organization"): clients read it after logging in.
            self.insert("Organization", {"Id": ORG_ID, "Name": "qbsf emulated org", "InstanceName": "QBSF1",
                                         "IsSandbox": False, "OrganizationType": "Developer Edition",
                                         "DefaultLocaleSidKey": "en_US", "LanguageLocaleKey": "en_US",
                                         "TimeZoneSidKey": "GMT", "FiscalYearStartMonth": 1,
                                         "PrimaryContact": "Qbsf Demo"}, system=True)

    # ---- persistence -------------------------------------------------------------------------------------------
    def _open(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS records (sobject TEXT, id TEXT PRIMARY KEY, data TEXT, "
                         "deleted_at TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self._db.execute("SELECT value FROM meta WHERE key='sequence'").fetchone()
        self._sequence = int(row[0]) if row else 0
        row = self._db.execute("SELECT value FROM meta WHERE key='refresh_tokens'").fetchone()
        # Refresh tokens outlive a restart, as an org's do; access tokens don't (clients must handle the 401).
        self.refresh_tokens = {token: tuple(owner) for token, owner in json.loads(row[0]).items()} if row else {}
        for sobject, record_id, data, deleted_at in self._db.execute(
                "SELECT sobject, id, data, deleted_at FROM records ORDER BY rowid"):
            if sobject not in self._tables:
                log.warning("record %s of %s ignored: the schema has no such object", record_id, sobject)
                continue
            record = json.loads(data)
            self._tables[sobject][record_id] = record
            self._place(sobject, record_id)
            self._index_add(sobject, record_id, record)
            if deleted_at:
                self._deleted_at[record_id] = deleted_at

    def _flush(self) -> None:
        if self._db is None or not self._dirty:
            self._dirty.clear()
            return
        rows = []
        for sobject, record_id in self._dirty:
            record = self._tables[sobject].get(record_id)
            rows.append((sobject, record_id, json.dumps(record) if record else None,
                         self._deleted_at.get(record_id)))
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO records (sobject, id, data, deleted_at) VALUES (?,?,?,?)",
                                 [r for r in rows if r[2] is not None])
            self._db.executemany("DELETE FROM records WHERE id = ?", [(r[1],) for r in rows if r[2] is None])
            self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('sequence', ?)", (str(self._sequence),))
        self._dirty.clear()

    def close(self) -> None:
        """Flush and close the SQLite file, if any."""
        with self.lock:
            self._flush()
            if self._db is not None:
                self._db.close()
                self._db = None

    # ---- transactions ------------------------------------------------------------------------------------------
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes: nothing is committed (or flushed to SQLite) until the outermost batch ends."""
        with self.lock:
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self.rollback(0)
                raise
            self._depth -= 1
            if self._depth == 0:
                self._undo.clear()
                self._flush()

    def savepoint(self) -> int:
        """A marker :meth:`rollback` can return to (only meaningful inside :meth:`batch`)."""
        return len(self._undo)

    def rollback(self, savepoint: int) -> None:
        """Undo every write made since ``savepoint``."""
        while len(self._undo) > savepoint:
            sobject, record_id, previous, deleted_at = self._undo.pop()
            self._put(sobject, record_id, previous, log_undo=False)
            if deleted_at is None:
                self._deleted_at.pop(record_id, None)
            else:
                self._deleted_at[record_id] = deleted_at

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        with self.batch():
            mark = self.savepoint()
            try:
                yield
            except ApiError:
                self.rollback(mark)
                raise

    def _put(self, sobject: str, record_id: str, record: dict[str, Any] | None, *, log_undo: bool = True) -> None:
        table = self._tables[sobject]
        previous = table.get(record_id)
        if log_undo:
            self._undo.append((sobject, record_id, previous, self._deleted_at.get(record_id)))
        if previous is not None:
            self._index_remove(sobject, record_id, previous)
        if record is None:
            if table.pop(record_id, None) is not None:
                self._unplace(sobject, record_id)
        else:
            if previous is None:
                self._place(sobject, record_id)
            table[record_id] = record
            self._index_add(sobject, record_id, record)
        self._dirty.add((sobject, record_id))

    def _place(self, sobject: str, record_id: str) -> None:
        """Note a record newly added to its table: its position and its case-folded id."""
        self._next_position += 1
        self._positions[record_id] = self._next_position
        self._folded_ids[sobject].setdefault(record_id.lower(), set()).add(record_id)

    def _unplace(self, sobject: str, record_id: str) -> None:
        self._positions.pop(record_id, None)
        folded = self._folded_ids[sobject]
        same = folded.get(record_id.lower())
        if same is not None:
            same.discard(record_id)
            if not same:
                del folded[record_id.lower()]

    # ---- indexes -----------------------------------------------------------------------------------------------
    def _index_key(self, definition: FieldDef, value: Any) -> Any:
        if isinstance(value, str) and definition.type in TEXT_TYPES and not definition.caseSensitive:
            return value.lower()
        return value

    def _index_add(self, sobject: str, record_id: str, record: dict[str, Any]) -> None:
        if record.get("IsDeleted"):
            return
        for definition, index in self._object_indexes[sobject]:
            value = record.get(definition.name)
            if value is not None:
                index.setdefault(self._index_key(definition, value), set()).add(record_id)
        for field_name, children in self._object_references[sobject]:
            parent_id = record.get(field_name)
            if isinstance(parent_id, str):
                children.setdefault(parent_id.lower(), {})[record_id] = None

    def _index_remove(self, sobject: str, record_id: str, record: dict[str, Any]) -> None:
        for definition, index in self._object_indexes[sobject]:
            value = record.get(definition.name)
            if value is not None:
                key = self._index_key(definition, value)
                ids = index.get(key)
                if ids is not None:
                    ids.discard(record_id)
                    if not ids:
                        del index[key]
        for field_name, children in self._object_references[sobject]:
            parent_id = record.get(field_name)
            if isinstance(parent_id, str):
                siblings = children.get(parent_id.lower())
                if siblings is not None:
                    siblings.pop(record_id, None)
                    if not siblings:
                        del children[parent_id.lower()]

    def check_indexes(self) -> list[str]:
        """Differences between the kept indexes and ones rebuilt from the tables (empty when they agree)."""
        unique: dict[tuple[str, str], dict[Any, set[str]]] = {key: {} for key in self._index}
        children: dict[tuple[str, str], dict[str, set[str]]] = {key: {} for key in self._children}
        folded: dict[str, dict[str, set[str]]] = {name: {} for name in self._tables}
        for sobject, table in self._tables.items():
            obj = self.schema.objects[sobject]
            for record_id, record in table.items():
                folded[sobject].setdefault(record_id.lower(), set()).add(record_id)
                if record.get("IsDeleted"):
                    continue
                for definition, _ in self._object_indexes[sobject]:
                    if record.get(definition.name) is not None:
                        unique[(sobject, definition.name)].setdefault(
                            self._index_key(obj.fields[definition.name], record[definition.name]), set()).add(record_id)
                for field_name, _ in self._object_references[sobject]:
                    if isinstance(record.get(field_name), str):
                        children[(sobject, field_name)].setdefault(record[field_name].lower(), set()).add(record_id)
        problems = [f"unique index {key} is out of step" for key, index in unique.items() if index != self._index[key]]
        problems += [f"child index {key} is out of step" for key, index in children.items()
                     if index != {parent: set(ids) for parent, ids in self._children[key].items()}]
        problems += [f"folded ids of {name} are out of step" for name, index in folded.items()
                     if index != self._folded_ids[name]]
        for name, table in self._tables.items():
            if self.in_table_order(table) != list(table):
                problems.append(f"table positions of {name} are out of step")
        if sum(len(table) for table in self._tables.values()) != len(self._positions):
            problems.append("table positions name records no table holds")
        return problems

    def in_table_order(self, record_ids: Any) -> list[str]:
        """``record_ids`` sorted as their records sit in their table (creation order), unknown ids dropped."""
        positions = self._positions
        return sorted((rid for rid in record_ids if rid in positions), key=positions.__getitem__)

    def children_of(self, sobject: str, field_name: str, parent_id: str) -> list[dict[str, Any]] | None:
        """Live ``sobject`` records whose reference ``field_name`` is exactly ``parent_id``, in table order.

        None when that field is not indexed (the caller scans instead); the cost is the number of such children.
        """
        children = self._children.get((sobject, field_name))
        if children is None:
            return None
        siblings = children.get(parent_id.lower()) if isinstance(parent_id, str) else None
        if not siblings:
            return []
        table = self._tables[sobject]
        found = [table[rid] for rid in self.in_table_order(siblings)]
        return [r for r in found if r.get(field_name) == parent_id and not r.get("IsDeleted")]

    def ids_matching(self, sobject: str, field_name: str, folded_values: set[str], *,
                     include_deleted: bool = False) -> list[str] | None:
        """Ids of ``sobject`` records whose id/reference ``field_name`` case-folds to one of ``folded_values``.

        A superset the caller still filters, in table order; None when no index serves (the caller scans).
        Reference fields are indexed for live records only, so ``include_deleted`` then answers None.
        """
        if field_name == "Id":
            folded = self._folded_ids[sobject]
            return self.in_table_order({rid for value in folded_values for rid in folded.get(value, ())})
        children = self._children.get((sobject, field_name))
        if children is None or include_deleted:
            return None
        return self.in_table_order({rid for value in folded_values for rid in children.get(value, ())})

    def ids_by_unique_value(self, sobject: str, field_name: str, keys: set[Any]) -> list[str] | None:
        """Live ids whose external-id/unique ``field_name`` has one of ``keys`` (index keys), or None (no index)."""
        index = self._index.get((sobject, field_name))
        if index is None:
            return None
        return self.in_table_order({rid for key in keys for rid in index.get(key, ())})

    # ---- lookups -----------------------------------------------------------------------------------------------
    def object(self, sobject: str) -> ObjectDef:
        """The object type ``sobject`` or a 404 ``NOT_FOUND`` as the REST API answers for unknown objects."""
        obj = self.schema.get(sobject)
        if obj is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        return obj

    def get(self, sobject: str, record_id: str, *, include_deleted: bool = False) -> dict[str, Any] | None:
        """A copy of one record (15- or 18-char id), or None."""
        obj = self.object(sobject)
        full = to18(record_id)
        record = self._tables[obj.name].get(full or "")
        if record is None or (record.get("IsDeleted") and not include_deleted):
            return None
        return dict(record)

    def raw(self, sobject: str, record_id: str) -> dict[str, Any] | None:
        """The stored record itself (deleted or not) for read-only use by the query engine."""
        return self._tables[sobject].get(record_id)

    def records(self, sobject: str, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Copies of every record of ``sobject``, in creation order."""
        obj = self.object(sobject)
        return [dict(r) for r in self._tables[obj.name].values() if include_deleted or not r.get("IsDeleted")]

    def table(self, sobject: str) -> dict[str, dict[str, Any]]:
        """The live id → record table (read-only use: the query engine scans it)."""
        return self._tables[sobject]

    def find(self, sobject: str, field_name: str, value: Any) -> list[str]:
        """Ids of live records whose ``field_name`` equals ``value`` (indexed for external id / unique fields)."""
        obj = self.object(sobject)
        definition = obj.field(field_name)
        if definition is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{field_name}' on sobject of type {obj.name}")
        index = self._index.get((obj.name, definition.name))
        if index is not None:
            return sorted(index.get(self._index_key(definition, coerce(definition, value)), ()))
        wanted = self._index_key(definition, coerce(definition, value))
        return [rid for rid, rec in self._tables[obj.name].items()
                if not rec.get("IsDeleted") and self._index_key(definition, rec.get(definition.name)) == wanted]

    def which_object(self, record_id: str) -> ObjectDef | None:
        """The object type an id belongs to, by its key prefix."""
        return self.schema.by_prefix(record_id[:3]) if isinstance(record_id, str) else None

    def deleted_at(self, record_id: str) -> str | None:
        """When a record was deleted (Salesforce datetime), or None."""
        return self._deleted_at.get(record_id)

    def now(self) -> str:
        """The current time in Salesforce's datetime format."""
        return format_datetime(self.clock())

    # ---- writes ------------------------------------------------------------------------------------------------
    def insert(self, sobject: str, values: dict[str, Any], *, system: bool = False,
               user_id: str | None = None) -> str:
        """Create a record and return its 18-char id; ``system=True`` also allows read-only fields (for seeding)."""
        with self._atomic():
            return self._insert(self.object(sobject), values, system=system, user_id=user_id)

    def update(self, sobject: str, record_id: str, values: dict[str, Any], *, system: bool = False,
               user_id: str | None = None) -> None:
        """Change fields of an existing record."""
        with self._atomic():
            self._update(self.object(sobject), record_id, values, system=system, user_id=user_id)

    def delete(self, sobject: str, record_id: str) -> None:
        """Delete a record (it stays visible to queryAll with IsDeleted = true), cascading as Salesforce does."""
        with self._atomic():
            self._delete(self.object(sobject), record_id)

    def upsert(self, sobject: str, external_field: str, external_value: Any, values: dict[str, Any], *,
               update_only: bool = False, user_id: str | None = None) -> tuple[str, bool]:
        """Upsert by external id: returns ``(id, created)``; raises 300 on several matches."""
        with self._atomic():
            return self._upsert(self.object(sobject), external_field, external_value, values,
                                update_only=update_only, user_id=user_id)

    def _validate_values(self, obj: ObjectDef, values: dict[str, Any], *, creating: bool,
                         system: bool) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for name, value in values.items():
            if name == "attributes":
                continue
            definition = obj.field(name)
            if definition is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}")
            allowed = definition.createable if creating else definition.updateable
            if not allowed and not system:
                raise ApiError(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                               f"Unable to create/update fields: {definition.name}. Please check the security "
                               f"settings of this field and verify that it is read/write for your profile or "
                               f"permission set.", [definition.name])
            clean[definition.name] = coerce(definition, value)
        return clean

    def _defaults(self, obj: ObjectDef) -> dict[str, Any]:
        """Default values a new record starts with (computed once per object: the schema is fixed)."""
        cached = self._default_cache.get(obj.name)
        if cached is None:
            cached = {f.name: f.defaultValue if f.defaultValue is not None else False for f in obj.fields.values()
                      if f.defaultValue is not None or f.type == "boolean"}
            self._default_cache[obj.name] = cached
        return cached

    def _required(self, obj: ObjectDef) -> list[str]:
        cached = self._required_cache.get(obj.name)
        if cached is None:
            cached = [f.name for f in obj.fields.values() if f.required]
            self._required_cache[obj.name] = cached
        return cached

    def _check_record(self, obj: ObjectDef, record: dict[str, Any], record_id: str) -> None:
        missing = [name for name in self._required(obj) if record.get(name) is None]
        if missing:
            raise ApiError(400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                           missing)
        for name, value in record.items():
            definition = obj.fields.get(name)
            if value is None or definition is None:
                continue
            if definition.type in TEXT_TYPES and definition.length and len(value) > definition.length:
                raise ApiError(400, "STRING_TOO_LONG",
                               f"{definition.label}: data value too large: {value[:60]} (max length="
                               f"{definition.length})", [definition.name])
            if definition.type == "picklist" and definition.restrictedPicklist and value not in \
                    definition.picklistValues:
                raise ApiError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                               f"{definition.label}: bad value for restricted picklist field: {value}",
                               [definition.name])
            if definition.unique:
                clash = [rid for rid in self.find(obj.name, definition.name, value) if rid != record_id]
                if clash:
                    raise ApiError(400, "DUPLICATE_VALUE",
                                   f"duplicate value found: {definition.name} duplicates value on record with id: "
                                   f"{clash[0]}", [])
            if definition.type == "reference" and definition.name not in AUDIT_FIELDS:
                self._check_reference(definition, value)

    def _check_reference(self, definition: FieldDef, value: str) -> None:
        target = self.which_object(value)
        if target is None or target.name not in definition.referenceTo:
            raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                           f"{definition.label}: id value of incorrect type: {value}", [definition.name])
        parent = self._tables[target.name].get(value)
        if parent is None:
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [definition.name])
        if parent.get("IsDeleted"):
            raise ApiError(400, "ENTITY_IS_DELETED", "entity is deleted", [definition.name])

    def _insert(self, obj: ObjectDef, values: dict[str, Any], *, system: bool = False,
                user_id: str | None = None) -> str:
        clean = self._validate_values(obj, values, creating=True, system=system)
        self._sequence += 1
        given_id = clean.pop("Id", None) if system else None  # seeding may fix ids, e.g. for a repeatable demo
        if given_id is not None and (given_id[:3] != obj.keyPrefix or given_id in self._tables[obj.name]):
            raise ApiError(400, "INVALID_ID_FIELD", f"{given_id} is not a free {obj.name} id", ["Id"])
        record_id = given_id or make_id(obj.keyPrefix, self._sequence)
        now = self.now()
        author = user_id or getattr(self, "user_id", None)
        record: dict[str, Any] = dict(self._defaults(obj))
        record.update({"Id": record_id, "IsDeleted": False, "CreatedDate": now, "CreatedById": author,
                       "LastModifiedDate": now, "LastModifiedById": author, "SystemModstamp": now})
        if obj.field("OwnerId") is not None:
            record["OwnerId"] = author
        record.update(clean)
        if obj.custom and record.get("Name") is None:
            record["Name"] = self._auto_name(obj, record_id)
        self._derive(obj, record, creating=True)
        self._check_record(obj, record, record_id)
        self._put(obj.name, record_id, record)
        self._after_write(obj, record, "Insert", None)
        return record_id

    def _auto_name(self, obj: ObjectDef, record_id: str) -> str:
        if not obj.nameFormat:
            return record_id
        number = len(self._tables[obj.name]) + 1  # deleted rows stay in the table, so numbers never repeat
        match = re.search(r"\{(0+)\}", obj.nameFormat)
        if match is None:
            return f"{obj.nameFormat}{number}"
        width = len(match.group(1))
        return obj.nameFormat[:match.start()] + str(number).zfill(width) + obj.nameFormat[match.end():]

    def _existing(self, obj: ObjectDef, record_id: str) -> dict[str, Any]:
        full = to18(record_id)
        if full is None:
            raise ApiError(400, "MALFORMED_ID", f"malformed id {record_id}", [])
        if full[:3] != obj.keyPrefix:
            raise ApiError(400, "MALFORMED_ID", f"{obj.label} ID: id value of incorrect type: {record_id}", ["Id"])
        record = self._tables[obj.name].get(full)
        if record is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if record.get("IsDeleted"):
            # Updating or deleting a record in the recycle bin: 404 with ENTITY_IS_DELETED, as real orgs answer
            # (the status code the REST API gives a resource that is gone; SOAP API StatusCode: ENTITY_IS_DELETED
            # "You can't reference an object that has been deleted").
            raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        return record

    def _update(self, obj: ObjectDef, record_id: str, values: dict[str, Any], *, system: bool = False,
                user_id: str | None = None) -> str:
        current = self._existing(obj, record_id)
        clean = self._validate_values(obj, {k: v for k, v in values.items() if k.lower() != "id"}, creating=False,
                                      system=system)
        record = dict(current)
        record.update(clean)
        now = self.now()
        record.update({"LastModifiedDate": now, "LastModifiedById": user_id or self.user_id, "SystemModstamp": now})
        self._derive(obj, record, creating=False)
        self._check_record(obj, record, record["Id"])
        self._put(obj.name, record["Id"], record)
        self._after_write(obj, record, "Update", current)
        return record["Id"]

    def _upsert(self, obj: ObjectDef, external_field: str, external_value: Any, values: dict[str, Any], *,
                update_only: bool = False, user_id: str | None = None) -> tuple[str, bool]:
        definition = obj.field(external_field)
        if definition is None:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if not (definition.externalId or definition.idLookup):
            raise ApiError(400, "INVALID_FIELD",
                           f"Field {definition.name} is not an external id field on {obj.name}", [definition.name])
        if definition.name != "Id" and any(k.lower() == "id" for k in values):
            raise ApiError(400, "INVALID_FIELD", "Id is not allowed in the request body of an upsert by external "
                           f"id ({definition.name}); remove it", ["Id"])
        if any(k.lower() == definition.name.lower() for k in values) and definition.name != "Id":
            raise ApiError(400, "INVALID_FIELD",
                           f"The field {definition.name} is specified both in the URL and in the request body. "
                           f"Remove it from the request body.", [definition.name])
        if definition.name == "Id":
            matches = [to18(external_value)] if external_value and self.get(obj.name, external_value) else []
        else:
            matches = self.find(obj.name, definition.name, external_value) if external_value not in (None, "") \
                else []
        if len(matches) > 1:
            raise ApiError(300, "MULTIPLE_CHOICES", f"{len(matches)} records match", matches)
        if matches:
            return self._update(obj, matches[0], values, user_id=user_id), False
        if update_only:
            raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
        body = dict(values)
        if definition.name != "Id":
            body[definition.name] = external_value
        return self._insert(obj, body, user_id=user_id), True

    def _delete(self, obj: ObjectDef, record_id: str, *, cascading: bool = False) -> None:
        record = dict(self._existing(obj, record_id))
        if not cascading and obj.name in orders.OBJECTS:
            orders.check_delete(self, obj.name, record)
        rid = record["Id"]
        # Children first: master-detail and Salesforce's own cascades delete, other lookups are cleared.
        for other in self.schema.objects.values():
            for definition in other.fields.values():
                if definition.type != "reference" or obj.name not in definition.referenceTo \
                        or definition.name in AUDIT_FIELDS or definition.name == "OwnerId":
                    continue
                cascade = any(c.childSObject == other.name and c.field == definition.name and c.cascadeDelete
                              for c in obj.childRelationships) or definition.cascadeDelete
                for child in self._children_or_scan(other.name, definition.name, rid):
                    child_id = child["Id"]
                    if definition.restrictedDelete:
                        raise ApiError(400, "DELETE_FAILED",
                                       f"Your attempt to delete {record.get('Name') or rid} could not be completed "
                                       f"because it is associated with the following {other.labelPlural}.: "
                                       f"{child.get('Name') or child_id}", [])
                    if cascade:
                        self._delete(other, child_id, cascading=True)
                    elif definition.nillable:
                        self._put(other.name, child_id, {**child, definition.name: None})
                    else:
                        raise ApiError(400, "DELETE_FAILED",
                                       f"Your attempt to delete {record.get('Name') or rid} could not be completed "
                                       f"because it is associated with {other.label} records", [])
        now = self.now()
        record.update({"IsDeleted": True, "SystemModstamp": now, "LastModifiedDate": now})
        self._undo.append((obj.name, rid, self._tables[obj.name][rid], self._deleted_at.get(rid)))
        self._put(obj.name, rid, record, log_undo=False)
        self._deleted_at[rid] = now
        # Cascade deletes fire no triggers on the children, as in Salesforce.
        self._after_write(obj, record, "Delete", None, fire_triggers=not cascading)

    # ---- business rules ----------------------------------------------------------------------------------------
    def _derive(self, obj: ObjectDef, record: dict[str, Any], *, creating: bool) -> None:
        """Fields Salesforce computes itself (names, closed flags, prices)."""
        if obj.name in ("Contact", "User"):
            record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p) or None
        elif obj.name == "Opportunity":
            stage = record.get("StageName") or ""
            record["IsClosed"] = stage.startswith("Closed")
            record["IsWon"] = stage == "Closed Won"
            record["ForecastCategory"] = "Closed" if record["IsWon"] else ("Omitted" if record["IsClosed"]
                                                                           else "Pipeline")
            orders.check_synced_quote(self, record)
        elif obj.name == "PricebookEntry":
            self._derive_pricebook_entry(record, creating)
        elif obj.name == "OpportunityLineItem":
            self._derive_line_item(record, creating)
        elif obj.name in orders.OBJECTS:
            orders.derive(self, obj.name, record, creating=creating)

    def _children_or_scan(self, sobject: str, field_name: str, parent_id: Any) -> list[dict[str, Any]]:
        """Live ``sobject`` records whose ``field_name`` is ``parent_id``, in table order (a snapshot list)."""
        if not isinstance(parent_id, str):
            return [r for r in self._tables[sobject].values()
                    if not r.get("IsDeleted") and r.get(field_name) == parent_id]
        found = self.children_of(sobject, field_name, parent_id)
        if found is None:
            found = [r for r in self._tables[sobject].values()
                     if not r.get("IsDeleted") and r.get(field_name) == parent_id]
        return found

    def _pricebook_entry(self, pricebook_id: str | None, product_id: str) -> str | None:
        """The live entry for (price book, product): the first created, as a table scan would find it."""
        return next((e["Id"] for e in self._children_or_scan("PricebookEntry", "Product2Id", product_id)
                     if e.get("Pricebook2Id") == pricebook_id), None)

    def _derive_pricebook_entry(self, record: dict[str, Any], creating: bool) -> None:
        product = self._tables["Product2"].get(record.get("Product2Id") or "")
        if product is not None:
            record["Name"] = product.get("Name")
            record["ProductCode"] = product.get("ProductCode")
        if not creating or product is None:
            return
        same = self._children_or_scan("PricebookEntry", "Product2Id", record.get("Product2Id"))
        if any(e.get("Pricebook2Id") == record.get("Pricebook2Id") for e in same):
            raise ApiError(400, "DUPLICATE_VALUE", "This price definition already exists in this price book", [])
        if record.get("Pricebook2Id") != self.standard_pricebook_id and not any(
                e.get("Pricebook2Id") == self.standard_pricebook_id for e in same):
            raise ApiError(400, "STANDARD_PRICE_NOT_DEFINED",
                           "Before creating a custom price, create a standard price.", [])

    def _derive_line_item(self, record: dict[str, Any], creating: bool) -> None:
        entries = self._tables["PricebookEntry"]
        opportunity = self._tables["Opportunity"].get(record.get("OpportunityId") or "")
        if creating:
            entry_id = record.get("PricebookEntryId")
            if entry_id is None and record.get("Product2Id"):
                book = (opportunity or {}).get("Pricebook2Id") or self.standard_pricebook_id
                entry_id = self._pricebook_entry(book, record["Product2Id"])
                if entry_id is None:
                    raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                                   "field integrity exception: unknown (no price book entry for this product in the "
                                   "opportunity's price book)", ["Product2Id"])
            if entry_id is None:
                raise ApiError(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [PricebookEntryId]",
                               ["PricebookEntryId"])
            entry = entries.get(entry_id)
            if entry is None or entry.get("IsDeleted"):
                raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id",
                               ["PricebookEntryId"])
            if opportunity is not None and opportunity.get("Pricebook2Id") not in (None, entry["Pricebook2Id"]):
                raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                               "field integrity exception: PricebookEntryId (pricebook entry is in a different "
                               "pricebook than the one assigned to the opportunity)", ["PricebookEntryId"])
            record["PricebookEntryId"] = entry_id
            record["Product2Id"] = entry["Product2Id"]
            record["ListPrice"] = entry.get("UnitPrice")
            record["ProductCode"] = entry.get("ProductCode")
            record["Name"] = f"{(opportunity or {}).get('Name', '')} {entry.get('Name') or ''}".strip()[:376]
            if record.get("UnitPrice") is None and record.get("TotalPrice") is None:
                raise ApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                               "field integrity exception: unknown (must specify either UnitPrice or TotalPrice)",
                               ["UnitPrice"])
        quantity = record.get("Quantity") or 0
        if record.get("UnitPrice") is not None:
            record["TotalPrice"] = round(quantity * record["UnitPrice"], 2)
        elif record.get("TotalPrice") is not None and quantity:
            record["UnitPrice"] = round(record["TotalPrice"] / quantity, 2)

    def _after_write(self, obj: ObjectDef, record: dict[str, Any], operation: str,
                     previous: dict[str, Any] | None, *, fire_triggers: bool = True) -> None:
        if obj.name == "OpportunityLineItem":
            self._roll_up_opportunity(record.get("OpportunityId"), record)
        elif obj.name in orders.OBJECTS:
            orders.roll_up(self, obj.name, record)
        elif obj.name == "Opportunity":
            orders.sync_quotes(self, record, previous)
        elif obj.name == "Product2" and operation == "Update":
            for entry in self._children_or_scan("PricebookEntry", "Product2Id", record["Id"]):
                self._put("PricebookEntry", entry["Id"], {**entry, "Name": record.get("Name"),
                                                         "ProductCode": record.get("ProductCode")})
        if fire_triggers and self.package_installed and self.schema.get(QUEUE_OBJECT) is not None:
            if obj.name in QUEUED_OBJECTS:
                self._enqueue(obj, record, operation, previous)
            if obj.name == "Opportunity" and operation == "Update":
                # QBSyncQueueHandler: the quotes that start and stop syncing with the Opportunity are queued too.
                for quote_id in {(previous or {}).get("SyncedQuoteId"), record.get("SyncedQuoteId")} - {None}:
                    if (previous or {}).get("SyncedQuoteId") != record.get("SyncedQuoteId"):
                        self._enqueue(self.schema.objects["Quote"], {"Id": quote_id}, "Update", None)
            elif obj.name in QUEUED_PARENTS and record.get(QUEUED_PARENTS[obj.name][1]):
                # QBSyncOpportunityLineItemTrigger, QBSyncOrderItemTrigger: a line change queues its parent (Update).
                parent, field = QUEUED_PARENTS[obj.name]
                self._enqueue(self.schema.objects[parent], {"Id": record[field]}, "Update", None)

    def _roll_up_opportunity(self, opportunity_id: str | None, line: dict[str, Any]) -> None:
        opportunity = self._tables["Opportunity"].get(opportunity_id or "")
        if opportunity is None or opportunity.get("IsDeleted"):
            return
        lines = self._children_or_scan("OpportunityLineItem", "OpportunityId", opportunity_id)
        now = self.now()
        updated = {**opportunity, "HasOpportunityLineItem": bool(lines), "SystemModstamp": now,
                   "LastModifiedDate": now}
        if lines:
            updated["Amount"] = round(sum(x.get("TotalPrice") or 0 for x in lines), 2)
            if updated.get("Pricebook2Id") is None:
                entry = self._tables["PricebookEntry"].get(line.get("PricebookEntryId") or "")
                updated["Pricebook2Id"] = entry.get("Pricebook2Id") if entry else None
        self._put("Opportunity", opportunity_id, updated)
        if updated.get("Amount") != opportunity.get("Amount"):
            self._after_write(self.schema.objects["Opportunity"], updated, "Update", opportunity)

    def _enqueue(self, obj: ObjectDef, record: dict[str, Any], operation: str,
                 previous: dict[str, Any] | None) -> None:
        """What the package's QBSyncQueueHandler does: one Pending QBSync_Queue__c row (object, record id,
        operation — no copy of the record) per changed record, except updates that change only connector-owned QB id
        fields (qbsf's own write-back) and audit fields, and records that already have a Pending row of the same
        kind (a Delete is its own kind; Insert, Update and undelete all mean "read it again")."""
        if operation == "Update" and previous is not None and self._only_connector_fields_changed(
                obj, record, previous):
            return
        queue = self.schema.objects[QUEUE_OBJECT]
        deleting = operation == "Delete"
        pending = self.ids_by_unique_value(QUEUE_OBJECT, "Record_Id__c", {record["Id"].lower()}) or []
        for row_id in pending:
            row = self._tables[QUEUE_OBJECT][row_id]
            if row.get("Status__c") == "Pending" and row.get("Object__c") == obj.name \
                    and (row.get("Operation__c") == "Delete") == deleting:
                return
        row: dict[str, Any] = {"Object__c": obj.name, "Record_Id__c": record["Id"], "Operation__c": operation,
                               "Status__c": "Pending", "Attempts__c": 0}
        values = {}
        for name, value in row.items():
            definition = queue.field(name)
            if definition is None or not definition.createable:
                continue
            if definition.type in TEXT_TYPES and isinstance(value, str) and definition.length:
                value = value[:definition.length]
            values[definition.name] = value
        self._insert(queue, values)

    @staticmethod
    def _only_connector_fields_changed(obj: ObjectDef, record: dict[str, Any], previous: dict[str, Any]) -> bool:
        ignored = CONNECTOR_FIELDS.get(obj.name, set())
        changed = {name.lower() for name in set(record) | set(previous)
                   if record.get(name) != previous.get(name)} - TRIGGER_SYSTEM_FIELDS
        return bool(changed) and changed <= ignored

    # ---- API usage, faults, tokens -----------------------------------------------------------------------------
    def inject_faults(self, rate: float, kinds: tuple[str, ...] = FAULT_KINDS, seed: int = 0) -> None:
        """Fail each API call with probability ``rate`` (0 turns faults off), reproducibly for a given seed."""
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; choose from {FAULT_KINDS}")
        self.faults = Faults(rate=rate, kinds=tuple(kinds), seed=seed, rng=random.Random(seed))

    def draw_fault(self, *, write: bool) -> str | None:
        """The fault this call suffers, if any (lock errors only on writes)."""
        faults = self.faults
        if faults.rate <= 0 or faults.rng.random() >= faults.rate:
            return None
        kinds = [k for k in faults.kinds if write or k != "UNABLE_TO_LOCK_ROW"]
        if not kinds:
            return None
        faults.injected += 1
        return faults.rng.choice(kinds)

    def take_locked_index(self, size: int) -> int | None:
        """Which record of a ``size``-record collection write suffers the pending lock fault, if one is pending."""
        if not self.lock_one_record or size == 0:
            return None
        self.lock_one_record = False
        return self.faults.rng.randrange(size)

    def grant_refresh_token(self, token: str, user_id: str, client_id: str) -> None:
        """Remember a refresh token (kept in the SQLite file, if any)."""
        self.refresh_tokens[token] = (user_id, client_id)
        self._save_refresh_tokens()

    def revoke_refresh_token(self, token: str) -> bool:
        """Forget a refresh token; False when it was unknown."""
        known = self.refresh_tokens.pop(token, None) is not None
        if known:
            self._save_refresh_tokens()
        return known

    def _save_refresh_tokens(self) -> None:
        if self._db is not None:
            with self._db:
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('refresh_tokens', ?)",
                                 (json.dumps(self.refresh_tokens),))

    def reset_api_usage(self) -> None:
        """Start a new day: the API call counter goes back to zero."""
        self.api_calls = 0
        self._api_day_started = self.clock().timestamp()

    def count_api_call(self) -> bool:
        """Count one API call against the daily allocation; False (not counted) when the allocation is used up.

        The allocation renews 24 hours after the first call of the current window.
        """
        now = self.clock().timestamp()
        started = self._api_day_started
        if started is None or now - started >= 86_400:
            self.api_calls = 0
            self._api_day_started = now
        if self.api_calls >= self.daily_api_limit:
            return False
        self.api_calls += 1
        return True

    def expire_tokens(self) -> None:
        """Invalidate every access token (refresh tokens stay valid), as a session timeout does."""
        with self.lock:
            self.tokens.clear()

    def token_user(self, access_token: str) -> TokenGrant | None:
        """The grant behind a bearer token, or None when unknown or expired."""
        grant = self.tokens.get(access_token)
        if grant is None:
            return None
        if self.token_lifetime is not None and self.clock().timestamp() - grant.issued_at > self.token_lifetime:
            self.tokens.pop(access_token, None)
            return None
        return grant


def _apex_resources(metadata_dir: str | Path | None, schema: Schema) -> set[str]:
    """The package's Apex REST url mappings, when the org has the package (its classes deploy with its objects)."""
    from qbsf.sim.salesforce.apexrest import classes_dir, deployed_resources
    from qbsf.sim.salesforce.metadata import _objects_root

    objects = _objects_root(Path(metadata_dir)) if metadata_dir else default_metadata_dir()
    if objects is None or not any(schema.get(folder.name) is not None for folder in objects.glob("*__c")):
        return set()
    return set(deployed_resources(classes_dir(objects)))
