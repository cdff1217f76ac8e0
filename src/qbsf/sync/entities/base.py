"""How a synced entity is declared: one :class:`SyncedEntity` per Salesforce object ↔ QuickBooks entity pair.

A declaration says everything the engines, the mapping loader, the CLI and the dashboard need to know about the
pair — the Salesforce object and the field holding the QuickBooks id, the QuickBooks entity and its id kind
(``ListID`` for lists, ``TxnID`` for transactions), the mapping sheet of each direction it syncs, parents that
must be in QuickBooks first, lines, eligibility, what happens when a record goes away, and the words a bookkeeper
uses for it. The few real business rules (a Contact is a sub-customer named ``Parent:Child``, an item's type and
accounts, an invoice's status and payments) are methods of the entity's :class:`EntityHooks`; shared code calls
the hook and never asks which entity it is holding.

The two views the engines read, :class:`EntitySpec` (Salesforce → QuickBooks) and :class:`InboundSpec`
(QuickBooks → Salesforce), are derived from the declaration (:meth:`SyncedEntity.outbound`,
:meth:`SyncedEntity.inbound`), so nothing about an entity is written twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from qbsf.errors import ConfigError, SyncError

LIST_ID = "ListID"
TXN_ID = "TxnID"
# What a record gone from Salesforce can make qbsf do in QuickBooks (sync.on_sf_gone), per id kind.
LIST_GONE_ACTIONS = ("report", "inactivate")
TXN_GONE_ACTIONS = ("report", "memo", "void")


@dataclass(frozen=True)
class ParentRef:
    """A reference from a record to a parent that must be in QuickBooks first."""

    field: str
    entity: str
    # The parent's QuickBooks id read through the relationship in the same query (e.g. Account.QB_Customer_ID__c).
    qb_id_path: str
    # The QuickBooks reference filled with the parent's id when the mapping leaves it empty (ParentRef, CustomerRef).
    qb_ref: str | None = None


@dataclass(frozen=True)
class ChildSpec:
    """Lines: child records read with their parent through a relationship subquery (Opportunity line items)."""

    relationship: str
    sf_object: str
    sheet: str
    base_fields: tuple[str, ...]
    parents: tuple[ParentRef, ...] = ()
    # The QuickBooks line element the lines become (InvoiceLine) and the words a file name may use for the sheet.
    element: str = ""
    file_words: tuple[str, ...] = ()
    # Standard Salesforce fields only the line object has (a mapping of another object's fields is refused).
    own_fields: frozenset[str] = frozenset()
    # How the lines are ordered when read: Salesforce returns child rows in no set order (OrderItem has no SortOrder).
    order_by: str = "SortOrder, CreatedDate, Id"


Lines = ChildSpec


def _record_classes(names: Iterable[str]) -> tuple[type, ...]:
    """The record classes QuickBooks' declarations give these entities or types (none for one it does not know)."""
    from qbsf.quickbooks import entities as quickbooks

    found: list[type] = []
    for name in names:
        try:
            found.extend(quickbooks.record_classes(name))
        except quickbooks.UnknownEntityError:
            continue
    return tuple(dict.fromkeys(found))


class EntityHooks:
    """The business rules of one entity; the defaults are what a plain entity needs (override only what differs).

    Hooks get plain values (mapped targets, Salesforce rows, QuickBooks flat records) and return values or raise
    :class:`~qbsf.errors.SyncError`; they never touch the state store or send anything themselves, except where a
    method says it reads QuickBooks through the port it is given.
    """

    # ---- QuickBooks shape --------------------------------------------------------------------------------------
    def record_class(self, entity: SyncedEntity) -> type | None:
        """The QuickBooks record class whose field names the entity's mappings use (one spelling per field): its
        first type's, as QuickBooks' declarations give it (:func:`qbsf.quickbooks.entities.record_classes`)."""
        found = _record_classes(entity.qb_types[:1] or (entity.qb_entity,))
        return found[0] if found else None

    def line_class(self, entity: SyncedEntity) -> type | None:
        """The QuickBooks record class of the entity's lines (None when it has none)."""
        from qbsf.quickbooks import entities as quickbooks

        if entity.lines is None:
            return None
        try:
            return quickbooks.line_record(entity.lines.element)
        except quickbooks.UnknownEntityError:
            return None

    def record_classes(self, entity: SyncedEntity) -> tuple[type, ...]:
        """Every QuickBooks record class the entity can be (an Item is a service, non-inventory or inventory)."""
        return _record_classes(entity.qb_types or (entity.qb_entity,))

    # ---- Salesforce → QuickBooks -------------------------------------------------------------------------------
    def qb_type(self, entity: SyncedEntity, target: dict[str, Any], record: Mapping[str, Any], config: Any) -> str:
        """The QuickBooks type a mapped record is sent as; may take a value out of ``target``. Raises SyncError."""
        return entity.qb_entity

    def keep_qb_type(self, entity: SyncedEntity, *, name: str, sf_id: str, wanted: str, found: str,
                     agreed: str | None, qb_name: str = "") -> str:
        """The type a Mod is sent as, given the type QuickBooks holds (``found``) and the one last agreed.

        Raises SyncError when the record cannot be modified as asked."""
        return wanted

    def full_name(self, entity: SyncedEntity, name: str, parent_full_name: str | None) -> str:
        """The QuickBooks full name a record is created under (a sub-customer is ``Parent:Child``)."""
        return name

    def after_mod(self, entity: SyncedEntity, *, label: str, before: Mapping[str, Any],
                  after: Mapping[str, Any]) -> str | None:
        """A warning to log after a Mod changed the QuickBooks record from ``before`` to ``after`` (None: none)."""
        return None

    def find_written(self, entity: SyncedEntity, qb: Any, names: Sequence[str], since: datetime) -> list[Any]:
        """QuickBooks records an interrupted Add may have created (they carry its ExternalGUID)."""
        if entity.qb_id_kind == LIST_ID:
            return list(qb.find_by_names(entity.qb_entity, names))
        modified = getattr(qb, "modified_since", None)
        if modified is None:
            raise SyncError(f"the QuickBooks connection cannot list {entity.qb_entity} records modified since a time",
                            hint="update qbsf")
        return list(modified(entity.qb_entity, since))

    # ---- QuickBooks → Salesforce -------------------------------------------------------------------------------
    def read(self, entity: SyncedEntity, qb: Any, *, modified_since: datetime | None = None,
             ids: Sequence[str] | None = None, missing_ok: bool = False) -> Iterable[Any]:
        """The entity's QuickBooks records modified since a time (all when None) or listed by id — inactive list
        records included; a transaction's lines and linked transactions as the declaration reads them
        (``reads_lines``, ``reads_linked``) — through the client's one query by entity."""
        query = getattr(qb, "query", None)
        if not callable(query):
            raise ConfigError(f"the QuickBooks connection cannot read {entity.qb_word} records",
                              hint="connect through qbsf's QuickBooks client (it reads every entity by its name)")
        extra: dict[str, Any] = {"missing_ok": True} if missing_ok else {}
        if entity.reads_linked:
            extra["include_linked"] = True
        return query(entity.qb_entity, ids=list(ids) if ids is not None else None,
                     modified_since=modified_since if ids is None else None,
                     include_inactive=not entity.is_txn, include_lines=entity.reads_lines, **extra)

    def write_lines(self, entity: SyncedEntity, written: Sequence[tuple[Any, Mapping[str, Any], str, bool]], *,
                    sf: Any, resolver: Any) -> dict[str, SyncError]:
        """After a batch's records are in Salesforce: write what each carries beyond its own record (a payment's
        lines, one per invoice it pays). ``written`` holds (QuickBooks record, flat values, Salesforce Id, created
        now) of every record of the batch now in Salesforce; returns the errors by QuickBooks id."""
        return {}

    def complete_from_records(self, entity: SyncedEntity, works: Sequence[tuple[Any, dict[str, Any]]], *,
                              resolver: Any) -> dict[str, SyncError]:
        """Add to each mapped record what its QuickBooks record carries beyond the flat fields a mapping reads —
        its lines or the transactions linked to it (a credit memo's lines summarised, the invoice it was applied
        to). ``works`` holds (QuickBooks record, Salesforce values) of a batch's mapped records; ``resolver``
        finds Salesforce Ids by QuickBooks id (the crosswalk first, one query per 200 otherwise). Returns the
        errors by QuickBooks id: that record fails alone (or waits for its parent)."""
        return {}

    def default_deletion(self, entity: SyncedEntity) -> tuple[str, Any] | None:
        """The Salesforce field and value set when a record is deleted in QuickBooks and ``sync.on_qb_delete`` names
        no action for the entity (None: the activity log only)."""
        return None

    def skip_inbound(self, entity: SyncedEntity, flat: Mapping[str, Any]) -> str | None:
        """Why a QuickBooks record is not synced into this Salesforce object at all (None: it is)."""
        return None

    def prepare_inbound(self, entity: SyncedEntity, flats: Sequence[dict[str, Any]], qb: Any) -> None:
        """Adjust a batch of QuickBooks records before they are mapped (may read QuickBooks once per batch)."""

    def complete_payload(self, entity: SyncedEntity, payload: dict[str, Any], flat: Mapping[str, Any], *,
                         config: Any, today: Any, origin_sf_id: str | None) -> None:
        """Add what Salesforce gets beyond the mapping (an invoice's status, the Opportunity it came from)."""

    def label(self, entity: SyncedEntity, flat: Mapping[str, Any]) -> str:
        """How a bookkeeper names one QuickBooks record in a message."""
        if entity.qb_id_kind == TXN_ID:
            return f"{entity.qb_word} {flat.get('RefNumber') or flat.get(TXN_ID)}"
        return str(flat.get("FullName") or flat.get("Name") or flat.get(entity.qb_id_kind))

    # ---- life cycle --------------------------------------------------------------------------------------------
    def gone_advice(self, entity: SyncedEntity, kind: str) -> str:
        """What a user should do when a synced Salesforce record was deleted, merged or became ineligible."""
        return f"check the QuickBooks {entity.qb_entity}"

    def memo(self, entity: SyncedEntity, kind: str) -> str:
        """The memo the ``memo`` action writes on the QuickBooks transaction of a record gone from Salesforce."""
        return {"deleted": f"{entity.sf_object} deleted in Salesforce", "merged": f"{entity.sf_object} merged in "
                "Salesforce", "ineligible": f"{entity.sf_object} no longer eligible in Salesforce"}[kind]


@dataclass(frozen=True, eq=False)
class SyncedEntity:
    """One Salesforce object ↔ QuickBooks entity pair, declared once (see the module docstring)."""

    key: str                          # the registry key; also the crosswalk and state key of the pair
    sf_object: str
    qb_id_field: str                  # the Salesforce (external id) field holding the ListID/TxnID
    qb_entity: str
    qb_id_kind: str                   # ListID or TxnID
    outbound_sheet: str | None = None  # Salesforce → QuickBooks mapping sheet (None: not synced that way)
    inbound_sheet: str | None = None   # QuickBooks → Salesforce mapping sheet (None: not synced that way)
    base_fields: tuple[str, ...] = ()  # what the Salesforce → QuickBooks read needs beyond the mapping
    parents: tuple[ParentRef, ...] = ()
    lines: ChildSpec | None = None
    eligibility: str | None = None     # default SOQL condition a Salesforce record must meet to sync
    name_field: str = "Name"
    # QuickBooks types the entity's records can be (Item: ItemService, …), as deletion queries report them.
    qb_types: tuple[str, ...] = ()
    # Whether an unlinked record is matched to a same-named one on the other side before creating (lists).
    links_by_name: bool | None = None
    # Whether `qbsf link` proposes links for it, and which QuickBooks records are candidates: "top" (top-level
    # customers), "sub" (sub-customers), "any"; None: not linkable by hand.
    link_candidates: str | None = None
    link_fields: tuple[str, ...] = ()  # Salesforce fields `qbsf link` also matches on (Email, Phone)
    merges_in_salesforce: bool = False  # Salesforce can merge its records (the loser names MasterRecordId)
    create_inactive: bool = True       # an inactive QuickBooks record never synced still creates a record
    # Whether the QuickBooks → Salesforce sheet may create Salesforce records. False: it only writes QuickBooks'
    # values back to the records Salesforce sent (a sales order's IsFullyInvoiced back to its Order); a QuickBooks
    # record no Salesforce record wrote stays in QuickBooks.
    inbound_creates: bool = True
    gone_actions: tuple[str, ...] = ()  # default: report/inactivate for lists, report/memo for transactions
    daily_status: bool = False         # the inbound daily pass turns Open records OverDue (invoices, bills)
    # The QuickBooks field holding what is still owed: the status (Paid / OverDue / Open) is derived from it and the
    # due date, on each sync and by the daily pass (an invoice's BalanceRemaining, a bill's OpenAmount).
    balance_field: str = "BalanceRemaining"
    # What the QuickBooks → Salesforce read asks beside the header: the lines (IncludeLineItems) and the transactions
    # linked to the record (IncludeLinkedTxns: the invoice a credit memo was applied to).
    reads_lines: bool = False
    reads_linked: bool = False
    # The entity whose Salesforce record wrote this QuickBooks record (a mirrored invoice's Opportunity).
    origin: str | None = None
    sf_label: str = ""                 # a bookkeeper's word for the Salesforce record (Product for Product2)
    qb_label: str = ""                 # a bookkeeper's word for the QuickBooks record (Invoice)
    aliases: tuple[str, ...] = ()      # other names a user may type for it (acct, oppty, invoices)
    outbound_words: tuple[str, ...] = ()  # words a mapping file name may use for the outbound sheet
    inbound_words: tuple[str, ...] = ()   # … and for the inbound sheet
    own_fields: frozenset[str] = frozenset()  # standard Salesforce fields only this object has
    hooks: EntityHooks = field(default_factory=EntityHooks)

    def __post_init__(self) -> None:
        if self.qb_id_kind not in (LIST_ID, TXN_ID):
            raise ValueError(f"{self.key}: the QuickBooks id kind is ListID or TxnID, not {self.qb_id_kind!r}")
        if self.outbound_sheet is None and self.inbound_sheet is None:
            raise ValueError(f"{self.key}: declare the mapping sheet of at least one direction")
        if self.lines is not None and self.outbound_sheet is None:
            raise ValueError(f"{self.key}: lines are read with an outbound sheet")

    # ---- words -------------------------------------------------------------------------------------------------
    @property
    def sf_word(self) -> str:
        """The Salesforce record in a bookkeeper's words."""
        return self.sf_label or self.sf_object

    @property
    def qb_word(self) -> str:
        """The QuickBooks record in a bookkeeper's words."""
        return self.qb_label or self.qb_entity

    @property
    def is_txn(self) -> bool:
        return self.qb_id_kind == TXN_ID

    @property
    def matches_by_name(self) -> bool:
        """Whether an unlinked record is linked to a same-named one on the other side instead of being created."""
        return self.links_by_name if self.links_by_name is not None else self.qb_id_kind == LIST_ID

    @property
    def sf_gone_actions(self) -> tuple[str, ...]:
        """The ``sync.on_sf_gone`` actions that mean something for this entity."""
        return self.gone_actions or (TXN_GONE_ACTIONS if self.is_txn else LIST_GONE_ACTIONS)

    @property
    def directions(self) -> tuple[str, ...]:
        """``sf_to_qb`` and/or ``qb_to_sf`` (the values of :class:`qbsf.sync.state.Direction`)."""
        return tuple(name for name, sheet in (("sf_to_qb", self.outbound_sheet), ("qb_to_sf", self.inbound_sheet))
                     if sheet)

    @property
    def sheets(self) -> tuple[str, ...]:
        """Every mapping sheet of the entity (outbound, its lines, inbound)."""
        found = [self.outbound_sheet, self.lines.sheet if self.lines else None, self.inbound_sheet]
        return tuple(sheet for sheet in found if sheet)

    # ---- the engines' views ------------------------------------------------------------------------------------
    @cached_property
    def outbound(self) -> EntitySpec | None:
        """The Salesforce → QuickBooks view (None when the entity does not sync that way)."""
        if self.outbound_sheet is None:
            return None
        return EntitySpec(name=self.key, sf_object=self.sf_object, qb_entity=self.qb_entity,
                          sheet=self.outbound_sheet, qb_id_field=self.qb_id_field, qb_id_kind=self.qb_id_kind,
                          base_fields=self.base_fields, parents=self.parents, eligibility=self.eligibility,
                          child=self.lines, name_field=self.name_field, entity=self)

    @cached_property
    def inbound(self) -> InboundSpec | None:
        """The QuickBooks → Salesforce view (None when the entity does not sync that way)."""
        if self.inbound_sheet is None:
            return None
        return InboundSpec(name=self.qb_entity, sf_object=self.sf_object, sheet=self.inbound_sheet,
                           external_id=self.qb_id_field, id_field=self.qb_id_kind, crosswalk=self.key,
                           deleted_types=self.qb_types or (self.qb_entity,), is_txn=self.is_txn,
                           outbound_sheet=self.outbound_sheet, sf_label=self.sf_label, entity=self)

    def __repr__(self) -> str:
        return f"SyncedEntity({self.key}: {self.sf_object} ↔ {self.qb_entity})"


@dataclass(frozen=True)
class EntitySpec:
    """The Salesforce → QuickBooks view of a :class:`SyncedEntity` (what the outbound engine reads)."""

    name: str
    sf_object: str
    qb_entity: str
    sheet: str
    qb_id_field: str
    qb_id_kind: str  # "ListID" for list objects, "TxnID" for transactions
    base_fields: tuple[str, ...]
    parents: tuple[ParentRef, ...] = ()
    eligibility: str | None = None
    child: ChildSpec | None = None
    name_field: str = "Name"
    entity: SyncedEntity | None = field(default=None, compare=False, repr=False)

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Entities whose records must be in QuickBooks before this entity's records can be sent."""
        found = [parent.entity for parent in self.parents]
        if self.child is not None:
            found.extend(parent.entity for parent in self.child.parents)
        return tuple(dict.fromkeys(found))

    @property
    def watermark_source(self) -> str:
        """The watermark key of this entity's SystemModstamp poll."""
        return f"sf:{self.sf_object}"

    @property
    def hooks(self) -> EntityHooks:
        return self.entity.hooks if self.entity is not None else EntityHooks()

    @property
    def declared(self) -> SyncedEntity:
        """The declaration this view comes from."""
        if self.entity is None:
            raise ValueError(f"{self.name} is not a declared entity")
        return self.entity


@dataclass(frozen=True)
class InboundSpec:
    """The QuickBooks → Salesforce view of a :class:`SyncedEntity` (what the inbound engine reads)."""

    name: str                 # QuickBooks entity: Customer, Item, Invoice (its watermark and report key)
    sf_object: str
    sheet: str
    external_id: str          # the Salesforce external id field holding the ListID/TxnID
    id_field: str             # ListID or TxnID
    crosswalk: str            # crosswalk entity the Salesforce Id is linked under
    deleted_types: tuple[str, ...]
    is_txn: bool = False
    # The outbound sheet writing this QuickBooks entity from the same Salesforce object (what QuickBooks would
    # hold of a Salesforce value: a value QuickBooks holds only in that form never replaces Salesforce's).
    outbound_sheet: str | None = None
    # What a bookkeeper calls the Salesforce record (Product, not Product2); the object's name when not given.
    sf_label: str = ""
    entity: SyncedEntity | None = field(default=None, compare=False, repr=False)

    @property
    def sf_word(self) -> str:
        """The Salesforce record in a bookkeeper's words."""
        return self.sf_label or self.sf_object

    @property
    def source(self) -> str:
        """The watermark (and de-duplication) key of this entity."""
        return f"qb:{self.name}"

    @property
    def hooks(self) -> EntityHooks:
        return self.entity.hooks if self.entity is not None else EntityHooks()

    @property
    def declared(self) -> SyncedEntity:
        """The declaration this view comes from."""
        if self.entity is None:
            raise ValueError(f"{self.name} is not a declared entity")
        return self.entity
