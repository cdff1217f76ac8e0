"""QuickBooks entities as data: what each entity is called, how it is identified, which lines it carries.

Every request and response tag comes from the entity's name by qbXML's own convention — ``<Entity>AddRq`` wrapping
``<Entity>Add``, ``<Entity>ModRq``/``<Entity>Mod``, ``<Entity>QueryRq``, answers in ``<Entity>Ret``; lines as
``<Line>Add``/``<Line>Mod``/``<Line>Ret``; deletions through ``ListDelRq``/``TxnDelRq`` with the entity's name as
``ListDelType``/``TxnDelType``. The few real exceptions are written once, in the declaration that has them: items
and terms are *queried* as one list (``ItemQueryRq``, ``TermsQueryRq``) that answers in their members' tags; a
payment's lines are keyed by the paid transaction's TxnID and send their amount as ``PaymentAmount``; a bill's item
groups are ``ItemGroupLine`` (not ``ItemLineGroup``); terms cannot be modified; accounts and terms have no
iterator. tests/quickbooks/test_entities.py walks every declaration and finds each derived tag in Intuit's 13.0
and 16.0 schemas.

Code that needs an entity asks :func:`entity` (by name), :func:`for_record` (by record) or :func:`for_ret` (by
``*Ret`` tag); an entity qbsf does not know is a clear :class:`UnknownEntityError`, never another entity's shape.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from qbsf.errors import ConfigError
from qbsf.quickbooks import records as rec

__all__ = [
    "ENTITIES",
    "Choice",
    "LineShape",
    "QbEntity",
    "UnknownEntityError",
    "entity",
    "for_record",
    "for_ret",
    "line_record",
    "line_shapes",
    "record_classes",
    "ret_classes",
]

IdKind = Literal["ListID", "TxnID"]


class UnknownEntityError(ConfigError):
    """A QuickBooks entity name (or record type) qbsf has no declaration for."""


@dataclass(frozen=True, slots=True, eq=False)
class LineShape:
    """One kind of line a transaction carries: the line element's stem and the record class of one line.

    ``attr`` is the record attribute holding these lines; ``key`` what names a kept line in a Mod (``TxnLineID``,
    or ``TxnID`` for the transactions a payment is applied to); ``group`` the item-group element among these lines
    (kept by TxnLineID on a Mod, never changed), held in the record attribute ``group_attr``; ``write_names``
    renames a record field in Add/Mod bodies (a payment line's ``Amount`` is sent as ``PaymentAmount``);
    ``computed`` are the fields QuickBooks works out from the others (a sales line's Amount = Quantity × Rate),
    left out when deciding whether two lines say the same.
    """

    element: str
    record: type
    attr: str = "lines"
    key: str = "TxnLineID"
    group: str | None = None
    group_attr: str = "groups"
    write_names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    computed: tuple[str, ...] = ("Amount",)

    @property
    def add(self) -> str:
        """The element of one new line (``InvoiceLineAdd``)."""
        return f"{self.element}Add"

    @property
    def mod(self) -> str:
        """The element of one line in a Mod (``InvoiceLineMod``)."""
        return f"{self.element}Mod"

    @property
    def ret(self) -> str:
        """The element of one line in an answer (``InvoiceLineRet``)."""
        return f"{self.element}Ret"

    @property
    def group_tags(self) -> tuple[str, str, str] | None:
        """The group's Add, Mod and Ret elements, when these lines can stand in item groups."""
        return None if self.group is None else (f"{self.group}Add", f"{self.group}Mod", f"{self.group}Ret")


@dataclass(frozen=True, slots=True)
class Choice:
    """Fields of which a request may carry only one (the schema's ``xsd:choice``): ``required`` when it must carry
    one, ``on`` the requests it applies to (``Add``, ``Mod``). A line shape's ``attr`` stands for its lines."""

    fields: tuple[str, ...]
    required: bool = False
    on: tuple[str, ...] = ("Add",)
    hint: str = ""


@dataclass(frozen=True, slots=True, eq=False)
class QbEntity:
    """One QuickBooks entity: its name (the stem of every tag), id kind, record class, name field and lines.

    ``linked``: its query can return the transactions linked to it (IncludeLinkedTxns: payments and credits applied
    to an invoice, the invoice made from a sales order, the check that paid a bill).
    ``choices`` are the fields of which a request carries one at most (a payment is applied to the invoices listed
    or automatically, never both), checked before a record is sent so one record's mistake never makes QuickBooks
    refuse the whole message.
    ``members`` makes it a list queried as one (``Item`` answers ItemServiceRet, ItemInventoryRet, …); such an entity
    is read only. ``record_kind`` tells entities that share a record class apart by the record's ``kind``
    (StandardTerms and DateDrivenTerms are both :class:`~qbsf.quickbooks.records.Terms`).
    """

    name: str
    id_kind: IdKind
    record: type | None = None
    lines: tuple[LineShape, ...] = ()
    can_add: bool = True
    can_mod: bool = True
    can_delete: bool = True
    can_void: bool = False
    paged: bool = True
    linked: bool = False
    members: tuple[str, ...] = ()
    record_kind: str | None = None
    choices: tuple[Choice, ...] = ()

    # --- tags by convention ------------------------------------------------------------------------------------
    @property
    def add_rq(self) -> str:
        return f"{self.name}AddRq"

    @property
    def add_element(self) -> str:
        return f"{self.name}Add"

    @property
    def mod_rq(self) -> str:
        return f"{self.name}ModRq"

    @property
    def mod_element(self) -> str:
        return f"{self.name}Mod"

    @property
    def query_rq(self) -> str:
        return f"{self.name}QueryRq"

    @property
    def ret(self) -> str:
        """The answer element (a members-list has none of its own: see :attr:`rets`)."""
        return f"{self.name}Ret"

    @property
    def rets(self) -> tuple[str, ...]:
        """Every ``*Ret`` this entity's query answers with."""
        return tuple(entity(name).ret for name in self.members) if self.members else (self.ret,)

    @property
    def is_txn(self) -> bool:
        return self.id_kind == "TxnID"

    @property
    def del_rq(self) -> str:
        return "TxnDelRq" if self.is_txn else "ListDelRq"

    @property
    def del_type_element(self) -> str:
        """``TxnDelType`` or ``ListDelType``: the element naming the entity in Del and deleted queries."""
        return "TxnDelType" if self.is_txn else "ListDelType"

    @property
    def deleted_query_rq(self) -> str:
        return "TxnDeletedQueryRq" if self.is_txn else "ListDeletedQueryRq"

    @property
    def deleted_types(self) -> tuple[str, ...]:
        """The ListDelType/TxnDelType values of this entity (its members' for a list queried as one)."""
        return self.members or (self.name,)

    @property
    def void_rq(self) -> str | None:
        return "TxnVoidRq" if self.can_void else None

    @property
    def name_key(self) -> str:
        """The query element that finds records by what a person calls them: FullName, or a transaction's
        RefNumber."""
        return "RefNumber" if self.is_txn else "FullName"

    @property
    def modified_filter(self) -> str:
        """How a query asks for records changed in a window: lists take FromModifiedDate/ToModifiedDate directly,
        transactions inside ModifiedDateRangeFilter."""
        return "ModifiedDateRangeFilter" if self.is_txn else "FromModifiedDate"

    def line_shape(self, line: Any) -> LineShape:
        """The shape a line record belongs to (by its class); a line this entity cannot carry is an error."""
        for shape in self.lines:
            if isinstance(line, shape.record):
                return shape
        raise UnknownEntityError(f"a QuickBooks {self.name} has no {type(line).__name__} lines",
                                 hint=f"give it {' or '.join(s.record.__name__ for s in self.lines) or 'no'} lines")

    @property
    def primary_lines(self) -> LineShape | None:
        """The lines a mapping's ``lines`` stand for (the first declared shape)."""
        return self.lines[0] if self.lines else None

    def tags(self) -> Iterator[str]:
        """Every request and answer element this entity's declaration implies (what the schema test checks)."""
        if self.members:
            yield self.query_rq
            return
        yield self.query_rq
        yield self.ret
        if self.can_add:
            yield from (self.add_rq, self.add_element)
        if self.can_mod:
            yield from (self.mod_rq, self.mod_element)
        if self.can_delete:
            yield self.del_rq
        if self.can_void:
            yield "TxnVoidRq"
        for shape in self.lines:
            yield shape.ret
            if self.can_add:
                yield shape.add
            if self.can_mod:
                yield shape.mod
            if shape.group_tags is not None:
                add, mod, ret = shape.group_tags
                yield ret
                if self.can_add:
                    yield add
                if self.can_mod:
                    yield mod


def _sales(name: str, record: type, line: type, *, void: bool = True, linked: bool = True) -> QbEntity:
    """A sales transaction: one kind of line, item groups among them."""
    return QbEntity(name, "TxnID", record, lines=(LineShape(f"{name}Line", line, group=f"{name}LineGroup"),),
                    can_void=void, linked=linked)


_PAID = MappingProxyType({"Amount": "PaymentAmount"})
_CHECK_NUMBER = Choice(("IsToBePrinted", "RefNumber"), required=True,
                       hint="give the check number (RefNumber) or mark the check to be printed, not both")

_DECLARED: tuple[QbEntity, ...] = (
    QbEntity("Customer", "ListID", rec.Customer),
    QbEntity("Vendor", "ListID", rec.Vendor),
    QbEntity("ItemService", "ListID", rec.ItemService),
    QbEntity("ItemNonInventory", "ListID", rec.ItemNonInventory),
    QbEntity("ItemInventory", "ListID", rec.ItemInventory),
    QbEntity("Item", "ListID", members=("ItemService", "ItemNonInventory", "ItemInventory"), can_add=False,
             can_mod=False, can_delete=False),
    QbEntity("Account", "ListID", rec.Account, paged=False),
    QbEntity("StandardTerms", "ListID", rec.Terms, can_mod=False, paged=False, record_kind="StandardTerms"),
    QbEntity("DateDrivenTerms", "ListID", rec.Terms, can_mod=False, paged=False, record_kind="DateDrivenTerms"),
    QbEntity("Terms", "ListID", members=("StandardTerms", "DateDrivenTerms"), can_add=False, can_mod=False,
             can_delete=False, paged=False),
    _sales("Invoice", rec.Invoice, rec.InvoiceLine),
    _sales("SalesOrder", rec.SalesOrder, rec.SalesOrderLine, void=False),  # non-posting: deleted, never voided
    _sales("Estimate", rec.Estimate, rec.EstimateLine, void=False),
    _sales("CreditMemo", rec.CreditMemo, rec.CreditMemoLine),
    _sales("SalesReceipt", rec.SalesReceipt, rec.SalesReceiptLine, linked=False),
    QbEntity("ReceivePayment", "TxnID", rec.ReceivePayment,
             lines=(LineShape("AppliedToTxn", rec.AppliedToTxn, key="TxnID", write_names=_PAID, computed=()),),
             choices=(Choice(("IsAutoApply", "lines"), required=True,
                             hint="list the invoices the payment pays, or set IsAutoApply to let QuickBooks choose"),)),
    QbEntity("Bill", "TxnID", rec.Bill, can_void=True, linked=True, lines=(
        LineShape("ExpenseLine", rec.ExpenseLine, attr="expense_lines", computed=()),
        LineShape("ItemLine", rec.ItemLine, attr="item_lines", group="ItemGroupLine", group_attr="item_groups"),
    )),
    QbEntity("BillPaymentCheck", "TxnID", rec.BillPaymentCheck, can_void=True,
             lines=(LineShape("AppliedToTxn", rec.AppliedToTxn, key="TxnID", write_names=_PAID, computed=()),),
             choices=(_CHECK_NUMBER, Choice(_CHECK_NUMBER.fields, on=("Mod",), hint=_CHECK_NUMBER.hint))),
)

ENTITIES: Mapping[str, QbEntity] = MappingProxyType({e.name: e for e in _DECLARED})
_BY_RECORD: dict[type, tuple[QbEntity, ...]] = {}
for _entity in _DECLARED:
    if _entity.record is not None:
        _BY_RECORD[_entity.record] = (*_BY_RECORD.get(_entity.record, ()), _entity)
_BY_RET: dict[str, QbEntity] = {e.ret: e for e in _DECLARED if e.record is not None}


def entity(name: str | QbEntity) -> QbEntity:
    """The declaration of QuickBooks entity ``name`` (Customer, Item, Invoice, ReceivePayment …)."""
    if isinstance(name, QbEntity):
        return name
    found = ENTITIES.get(name)
    if found is None:
        raise UnknownEntityError(f"qbsf does not know the QuickBooks entity {name!r}",
                                 hint="use one of " + ", ".join(ENTITIES))
    return found


def for_record(record: Any) -> QbEntity:
    """The entity a record (Customer, Invoice, Terms of a kind …) belongs to."""
    candidates = _BY_RECORD.get(type(record), ())
    if len(candidates) > 1:
        kind = getattr(record, "kind", None)
        candidates = tuple(c for c in candidates if c.record_kind == kind)
    if len(candidates) != 1:
        raise UnknownEntityError(f"qbsf cannot write {type(record).__name__} records to QuickBooks",
                                 hint="use one of the record classes of qbsf.quickbooks.records")
    return candidates[0]


def for_ret(tag: str) -> QbEntity | None:
    """The entity answering in ``tag`` (``InvoiceRet`` → Invoice), None for an answer qbsf does not read."""
    return _BY_RET.get(tag)


def ret_classes() -> dict[str, type]:
    """``*Ret`` tag → the record class it parses into, for every declared entity."""
    return {tag: e.record for tag, e in _BY_RET.items() if e.record is not None}


def line_shapes(record_cls: type) -> tuple[LineShape, ...]:
    """The line shapes of the entity (or entities) whose records are ``record_cls``; () for a record without
    lines."""
    entities = _BY_RECORD.get(record_cls, ())
    return entities[0].lines if entities else ()


def record_classes(name: str | QbEntity) -> tuple[type, ...]:
    """Every record class an entity's records can be (an Item is a service, non-inventory or inventory item)."""
    declared = entity(name)
    if declared.members:
        return tuple(dict.fromkeys(cls for member in declared.members for cls in record_classes(member)))
    return (declared.record,) if declared.record is not None else ()


def line_record(element: str) -> type:
    """The record class of a line element (``InvoiceLine`` → InvoiceLine, ``AppliedToTxn`` → AppliedToTxn)."""
    for declared in _DECLARED:
        for shape in declared.lines:
            if shape.element == element:
                return shape.record
    known = sorted({shape.element for declared in _DECLARED for shape in declared.lines})
    raise UnknownEntityError(f"qbsf does not know the QuickBooks line {element!r}",
                             hint="use one of " + ", ".join(known))
