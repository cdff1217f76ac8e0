"""Records → request bodies (dicts in qbXML element names) for Add and Mod requests, and the one query body.

The bodies are turned into XML by :func:`qbsf.quickbooks.messages.build_element`, which emits them in the
schema's declared order; this module only decides *what* goes in (writable fields, item sales/purchase
wrappers, the lines each entity declares in :mod:`qbsf.quickbooks.entities`, ExternalGUID). :func:`query_body` is
every entity's query filter (modified window, inactive, lines, linked, returned elements), for the client's query
and for queries sent together (:mod:`qbsf.quickbooks.together`) alike.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from qbsf.quickbooks import records as rec
from qbsf.quickbooks.entities import LineShape, QbEntity
from qbsf.quickbooks.errors import FieldValueError, UnknownFieldError
from qbsf.quickbooks.schema import ADDRESS_ORDER, ORDER

__all__ = ["add_body", "external_guid", "mod_body", "normalize_salesforce_id", "query_body", "when"]


# Service and non-inventory items carry their sales/purchase side inside a wrapper element.
_WRAPPED_ITEMS = (rec.ItemService, rec.ItemNonInventory)
_ITEM_SIDE = ("SalesDesc", "SalesPrice", "IncomeAccountRef", "PurchaseDesc", "PurchaseCost", "ExpenseAccountRef")
_SALES_OR_PURCHASE = {"SalesDesc": "Desc", "SalesPrice": "Price", "IncomeAccountRef": "AccountRef"}
_PURCHASE_SIDE = ("PurchaseDesc", "PurchaseCost", "ExpenseAccountRef")

# A fixed namespace so the same Salesforce record always yields the same ExternalGUID.
_GUID_NAMESPACE = uuid.UUID("6f1c1a52-8a8e-4f7e-9a51-5b1f0c2d3e4a")
_SF_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def normalize_salesforce_id(sf_id: str) -> str:
    """The 18-character, case-safe form of a Salesforce Id (15-character Ids get their checksum suffix)."""
    sf_id = sf_id.strip()
    if len(sf_id) != 15:
        return sf_id
    suffix = ""
    for chunk in range(3):
        bits = 0
        for position, char in enumerate(sf_id[chunk * 5:chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += _SF_ID_CHARS[bits]
    return sf_id + suffix


def external_guid(salesforce_id: str) -> str:
    """QuickBooks' ``{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`` ExternalGUID derived from a Salesforce Id (uuid5)."""
    value = uuid.uuid5(_GUID_NAMESPACE, normalize_salesforce_id(salesforce_id))
    return "{" + str(value).upper() + "}"


def _ref_body(ref: rec.Ref) -> dict[str, str]:
    body = {}
    if ref.ListID:
        body["ListID"] = ref.ListID
    if ref.FullName is not None and (ref.FullName or not ref.ListID):
        body["FullName"] = ref.FullName
    return body


def _address_body(address: rec.Address, cleared: set[str] | None = None) -> dict[str, str]:
    body = {}
    for name in ADDRESS_ORDER:
        value = getattr(address, name)
        if value:
            body[name] = value
        elif cleared and name in cleared:
            body[name] = ""
    return body


def _value(value: Any, kind: str) -> Any:
    if kind == "ref":
        return _ref_body(value)
    if kind == "address":
        return _address_body(value)
    return value


def _data_body(value: Any) -> Any:
    """An aggregate of its own (SetCredit, LinkToTxn) as its element's body: its non-empty fields; a plain value
    (a LinkToTxnID) as it is."""
    if not dataclasses.is_dataclass(value):
        return value
    kinds = rec.field_kinds(type(value))
    return {name: _value(getattr(value, name), kind) for name, kind in kinds.items()
            if name != "extra" and not _blank(getattr(value, name), kind)}


def _blank(value: Any, kind: str) -> bool:
    """Nothing to say on an Add: None, "", an empty list, or a reference/address whose parts are all empty."""
    if value is None or value == "" or (kind == "list" and not value):
        return True
    if kind == "ref":
        return not value.ListID and not value.FullName
    if kind == "address":
        return not any(getattr(value, name) for name in ADDRESS_ORDER)
    return False


def _line_body(line: Any, element: str, shape: LineShape) -> dict[str, Any]:
    order = ORDER[element]
    kinds = rec.field_kinds(type(line))
    body: dict[str, Any] = {}
    for name, kind in kinds.items():
        sent = shape.write_names.get(name, name)
        if sent not in order or name == "TxnLineID":
            continue
        value = getattr(line, name)
        if _blank(value, kind):
            continue
        if kind == "list":  # the credits a payment line applies (SetCredit)
            body[sent] = [_data_body(item) for item in value]
        elif kind == "data":  # the other transaction's line this one is made from (LinkToTxn)
            body[sent] = _data_body(value)
        else:
            body[sent] = _value(value, kind)
    return body


def add_body(record: Any, entity: QbEntity) -> tuple[str, dict[str, Any]]:
    """The Add element name and its body for ``record`` (read-only fields such as ListID are left out)."""
    if not entity.can_add:
        raise UnknownFieldError(f"QuickBooks {entity.name} records cannot be added through qbXML",
                                hint=f"add the {entity.name} in QuickBooks itself")
    add = entity.add_element
    _check_choices(record, entity, "Add", None)
    order = ORDER[add]
    kinds = rec.field_kinds(type(record))
    body: dict[str, Any] = {}
    wrapped = isinstance(record, _WRAPPED_ITEMS)
    for name, kind in kinds.items():
        if name in ("extra", "kind") or (wrapped and name in _ITEM_SIDE):
            continue
        value = getattr(record, name)
        if name not in order or _blank(value, kind):
            continue  # lines (record attributes in lower case) are not elements: they follow below
        body[name] = [_data_body(item) for item in value] if kind == "list" else _value(value, kind)
    if wrapped:
        side_tag, side = _item_side(record, kinds, mod=False, changed=None)
        if side:
            body[side_tag] = side
    for shape in entity.lines:
        lines = getattr(record, shape.attr)
        if lines:
            body[shape.add] = [_line_body(line, shape.add, shape) for line in lines]
    return add, body


def _uses_sales_and_purchase(record: Any) -> bool:
    return any(getattr(record, name, None) is not None for name in _PURCHASE_SIDE)


def _item_side(record: Any, kinds: dict[str, str], *, mod: bool, changed: set[str] | None) -> tuple[str, dict]:
    both = _uses_sales_and_purchase(record)
    tag = ("SalesAndPurchase" if both else "SalesOrPurchase") + ("Mod" if mod else "")
    side: dict[str, Any] = {}
    for name in _ITEM_SIDE:
        if changed is not None and name not in changed:
            continue
        if not both and name in _PURCHASE_SIDE:
            continue
        value = getattr(record, name)
        element_name = name if both else _SALES_OR_PURCHASE[name]
        if value is None or (changed is None and _blank(value, kinds[name])):
            if changed is not None:
                side[element_name] = {"FullName": ""} if kinds[name] == "ref" else ""
            continue
        side[element_name] = _value(value, kinds[name])
    return tag, side


def mod_body(base: Any, updated: Any, changed_paths: list[str], entity: QbEntity,
             lines: Sequence[Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The Mod element and body: id + EditSequence, then only the changed fields (None clears a field).

    Addresses are sent whole (base merged with the change) so QuickBooks never keeps a stale line. ``lines``
    replace the lines of every shape they hold (a bill's expense lines and item lines are two shapes): kept ones by
    their key (TxnLineID; a payment's TxnID), new ones as TxnLineID -1, the rest of that shape are deleted.
    """
    if not entity.can_mod:
        raise UnknownFieldError(f"QuickBooks {entity.name} records cannot be modified through qbXML",
                                hint=f"change the {entity.name} in QuickBooks itself")
    mod = entity.mod_element
    order = ORDER[mod]
    kinds = rec.field_kinds(type(base))
    ident = getattr(base, entity.id_kind)
    if not ident or not base.EditSequence:
        raise FieldValueError(f"{rec.label(base)} has no {entity.id_kind}/EditSequence to modify",
                              hint="read the record from QuickBooks before changing it")
    body: dict[str, Any] = {entity.id_kind: ident, "EditSequence": base.EditSequence}
    _check_choices(updated, entity, "Mod", {path.partition(".")[0] for path in changed_paths}
                   | ({entity.line_shape(line).attr for line in lines} if lines else set()))
    wrapped = isinstance(base, _WRAPPED_ITEMS)
    tops: dict[str, set[str]] = {}
    for path in changed_paths:
        top, _, sub = path.partition(".")
        tops.setdefault(top, set())
        if sub:
            tops[top].add(sub)
    side_changes: set[str] = set()
    for top, subs in tops.items():
        if wrapped and top in _ITEM_SIDE:
            side_changes.add(top)
            continue
        if top not in order:
            raise UnknownFieldError(
                f"{entity.name}.{top} cannot be changed with {mod} (QuickBooks computes it or fixes it "
                "at creation)", hint=f"remove {top} from the Salesforce → QuickBooks mapping")
        value = getattr(updated, top)
        kind = kinds[top]
        if kind == "address":
            cleared = {sub for sub in subs if value is None or not getattr(value, sub)}
            body[top] = _address_body(value or rec.Address(), cleared)
        elif kind == "ref":
            body[top] = _ref_body(value) if value is not None else {"FullName": ""}
        else:
            body[top] = "" if value is None else value
    if side_changes:
        side_tag, side = _item_side(updated, kinds, mod=True, changed=side_changes)
        body[side_tag] = side
    if lines is not None:
        by_shape: dict[LineShape, list[Any]] = {}
        for line in lines:
            by_shape.setdefault(entity.line_shape(line), []).append(line)
        for shape, wanted in by_shape.items():
            body[shape.mod] = _line_mods(base, shape, wanted)
    return mod, body


def _line_mods(base: Any, shape: LineShape, wanted: list[Any]) -> list[Any]:
    """The ``<Line>Mod`` elements that make ``wanted`` the lines of ``shape`` (item groups kept where they stand)."""
    known = {getattr(line, shape.key) for line in getattr(base, shape.attr) if getattr(line, shape.key)}
    mods: list[Any] = []
    for position, line in enumerate(wanted, start=1):
        key = getattr(line, shape.key)
        if shape.key == "TxnLineID":
            if key and key != "-1" and key not in known:
                raise FieldValueError(
                    f"{rec.label(base)}: line {position} keeps TxnLineID {key}, which is not on the "
                    f"{type(base).__name__}", hint=f"re-read the {type(base).__name__}; send new lines without a "
                    "TxnLineID")
            key = key or "-1"
        elif not key:
            raise FieldValueError(f"{rec.label(base)}: line {position} has no {shape.key}",
                                  hint=f"give each {shape.element} line the {shape.key} it applies to")
        mods.append({shape.key: key, **_line_body(line, shape.mod, shape)})
    if shape.group_tags is not None:
        # QuickBooks deletes every line and item group a Mod leaves out: send each group back by its TxnLineID
        # alone (unchanged), where it stood, so a group a QuickBooks user added is never lost.
        group_mod = shape.group_tags[1]
        for group in sorted(getattr(base, shape.group_attr), key=lambda g: g.position, reverse=True):
            if group.TxnLineID:
                mods.insert(min(group.position, len(mods)), (group_mod, {"TxnLineID": group.TxnLineID}))
    return mods


def _check_choices(record: Any, entity: QbEntity, request: str, sent: set[str] | None) -> None:
    """One record's fields that QuickBooks takes one at a time (``sent``: the fields a Mod sends) fail that record
    alone, with what to do, before the message is built."""
    for choice in entity.choices:
        if request not in choice.on:
            continue
        given = [name for name in choice.fields if (sent is None or name in sent)
                 and getattr(record, name) not in (None, "", [])]
        if len(given) > 1 or (choice.required and not given and sent is None):
            shown = {shape.attr: shape.element for shape in entity.lines}  # lines by their QuickBooks element
            what = " and ".join(shown.get(n, n) for n in given) if given else " or ".join(
                shown.get(n, n) for n in choice.fields)
            problem = "are both given" if given else "is missing"
            raise FieldValueError(f"{rec.label(record)}: {what} {problem} (QuickBooks takes one of them)",
                                  hint=choice.hint or f"give one of {', '.join(choice.fields)}")


def when(moment: datetime | date) -> str:
    """A DATETIMETYPE/DATETYPE value: aware datetimes keep their offset; naive ones are QuickBooks' local time."""
    if isinstance(moment, datetime):
        return moment.replace(microsecond=0).isoformat()
    return moment.isoformat()


def query_body(entity: QbEntity, *, since: datetime | None = None, until: datetime | None = None,
               include_lines: bool = False, include_linked: bool = False, include_inactive: bool = False,
               only: Sequence[str] = ()) -> dict[str, Any]:
    """The filter of ``entity``'s query (by id or name, the caller adds ``ListID``/``FullName``/…).

    ``since``/``until``: modified in that window (a transaction's ``ModifiedDateRangeFilter``, a list's
    ``FromModifiedDate``/``ToModifiedDate``); ``include_inactive``: inactive list elements too; a transaction's
    lines (``IncludeLineItems``) and linked transactions (``IncludeLinkedTxns``) when asked; ``only``: the only
    elements each record comes with (``IncludeRetElement``).
    """
    body: dict[str, Any] = {}
    if entity.is_txn:
        window = {}
        if since is not None:
            window["FromModifiedDate"] = when(since)
        if until is not None:
            window["ToModifiedDate"] = when(until)
        if window:
            body["ModifiedDateRangeFilter"] = window
        body["IncludeLineItems"] = include_lines
        if include_linked:
            body["IncludeLinkedTxns"] = True
    else:
        body["ActiveStatus"] = "All" if include_inactive else "ActiveOnly"
        if since is not None:
            body["FromModifiedDate"] = when(since)
        if until is not None:
            body["ToModifiedDate"] = when(until)
    if only:
        body["IncludeRetElement"] = list(only)
    return body
