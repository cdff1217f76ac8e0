"""The QuickBooks company the simulator keeps: business rules for lists and transactions.

Requests arrive here as plain data (``dict`` of element name → text, nested ``dict``
for aggregates, ``list`` for repeated elements) and leave as ``*Ret`` data in
schema order. Every rule QuickBooks enforces when saving, and the schema cannot,
lives here: unique names across the name lists, no colon in a Name, EditSequence
checks, reference checks, item accounts, invoice totals, payments.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from qbsf.quickbooks.timestamps import base_offset
from qbsf.sim.quickbooks.doc_schema import DOC_KINDS, DOC_LINE_RETS, LINK_KINDS
from qbsf.sim.quickbooks.schema import (
    ACCOUNT_NUMBER_LIMIT,
    FIELD_LIMIT,
    NAME_LIMIT,
    REF_NUMBER_LIMIT,
    RET_ORDER,
    SUB_ORDER,
)
from qbsf.sim.quickbooks.store import Row, Store

log = logging.getLogger(__name__)

ITEM_KINDS = ("ItemService", "ItemNonInventory", "ItemInventory")
# Every item type ItemQuery returns (sales tax items and groups are items too, in the items' name space).
ALL_ITEM_KINDS = (*ITEM_KINDS, "ItemSalesTax", "ItemGroup")
ENTITY_KINDS = ("Customer", "Vendor", "OtherName", "Employee")
TERMS_KINDS = ("StandardTerms", "DateDrivenTerms")
TXN_KINDS = ("Invoice", "ReceivePayment", "SalesReceipt", *DOC_KINDS, *LINK_KINDS)
# The standard lists every QuickBooks company has besides customers, items and accounts (OSR: each has its own
# *Query, and the lists a user can add to their own *Add). A reference to an element not in them is 3140.
STANDARD_LISTS = ("SalesRep", "Class", "CustomerType", "VendorType", "JobType", "Template", "ShipMethod",
                  "CustomerMsg", "PaymentMethod", "SalesTaxCode")
HIERARCHICAL = frozenset({"Customer", "Account", *ITEM_KINDS, "Class", "CustomerType", "VendorType", "JobType"})
MAX_SUBLEVEL = 5
NAMESPACE = {
    **dict.fromkeys(ENTITY_KINDS, "entity"), **dict.fromkeys(ALL_ITEM_KINDS, "item"),
    **dict.fromkeys(TERMS_KINDS, "terms"), "Account": "account",
    **{kind: kind.lower() for kind in STANDARD_LISTS},
}
_ACCOUNT = ("Account",)
REF_KINDS: dict[str, tuple[str, ...]] = {
    "CustomerRef": ("Customer",), "ItemRef": ITEM_KINDS, "TermsRef": TERMS_KINDS, "PrefVendorRef": ("Vendor",),
    "AccountRef": _ACCOUNT, "IncomeAccountRef": _ACCOUNT, "ExpenseAccountRef": _ACCOUNT, "COGSAccountRef": _ACCOUNT,
    "AssetAccountRef": _ACCOUNT, "ARAccountRef": _ACCOUNT, "DepositToAccountRef": _ACCOUNT,
    "SalesTaxCodeRef": ("SalesTaxCode",), "CustomerSalesTaxCodeRef": ("SalesTaxCode",),
    "PurchaseTaxCodeRef": ("SalesTaxCode",), "PaymentMethodRef": ("PaymentMethod",),
    "PreferredPaymentMethodRef": ("PaymentMethod",), "ClassRef": ("Class",), "SalesRepRef": ("SalesRep",),
    "CustomerTypeRef": ("CustomerType",), "VendorTypeRef": ("VendorType",), "JobTypeRef": ("JobType",),
    "TemplateRef": ("Template",), "ShipMethodRef": ("ShipMethod",), "CustomerMsgRef": ("CustomerMsg",),
    "ItemSalesTaxRef": ("ItemSalesTax",), "ItemGroupRef": ("ItemGroup",),
    "SalesRepEntityRef": ("Employee", "OtherName", "Vendor"), "TaxVendorRef": ("Vendor",),
    "VendorRef": ("Vendor",), "APAccountRef": _ACCOUNT,
}
_READABLE = {
    "ItemService": "Item", "ItemNonInventory": "Item", "ItemInventory": "Item", "StandardTerms": "Terms",
    "DateDrivenTerms": "Terms", "OtherName": "Other Name", "SalesTaxCode": "Sales Tax Code",
    "PaymentMethod": "Payment Method", "ReceivePayment": "ReceivePayment", "SalesRep": "Sales Rep",
    "CustomerType": "Customer Type", "VendorType": "Vendor Type", "JobType": "Job Type",
    "ShipMethod": "Ship Method", "CustomerMsg": "Customer Message", "ItemSalesTax": "Item",
    "ItemGroup": "Item", "SalesReceipt": "SalesReceipt", "SalesRepEntityRef": "Employee",
}
# Elements a Mod may carry that instruct QuickBooks rather than describe the record.
_MOD_INSTRUCTIONS = frozenset({
    "ListID", "TxnID", "EditSequence", "ForceUOMChange", "ApplyIncomeAccountRefToExistingTxns",
    "ApplyCOGSAccountRefToExistingTxns", "ApplyExpenseAccountRefToExistingTxns", "ApplyAccountRefToExistingTxns",
})
CENT = Decimal("0.01")
# Add elements QuickBooks folds into other fields (opening balance date, inventory valuation).
_CONSUMED = frozenset({("Account", "OpenBalanceDate"), ("ItemInventory", "TotalValue"),
                       ("ItemInventory", "InventoryDate")})


class QbStatus(Exception):
    """Ends one request with a QuickBooks status (code, severity, message)."""

    def __init__(self, code: int, message: str, severity: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.severity = severity or severity_of(code)


def severity_of(code: int) -> str:
    """QuickBooks' severity for a status code: 0–499 Info, 500–999 Warn, above Error."""
    if code < 500:
        return "Info"
    return "Warn" if code < 1000 else "Error"


def money(value: Decimal | int | str) -> str:
    """An AMTTYPE: two decimals, as QuickBooks writes amounts."""
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def to_cents(value: Decimal) -> int:
    return int((value.quantize(CENT, rounding=ROUND_HALF_UP) * 100).to_integral_value())


def parse_decimal(value: str, field: str) -> Decimal:
    try:
        return Decimal(value.strip() or "0")
    except InvalidOperation:
        raise QbStatus(3020, f'There was an error when converting the number "{value}" in the field "{field}".'
                       ) from None


def latin1(value: Any) -> Any:
    """QuickBooks Desktop stores Latin-1: any other character is saved as '?'."""
    if isinstance(value, str):
        return value.encode("latin-1", "replace").decode("latin-1")
    if isinstance(value, dict):
        return {k: latin1(v) for k, v in value.items()}
    if isinstance(value, list):
        return [latin1(v) for v in value]
    return value


def ordered(value: dict[str, Any], order: Iterable[str]) -> dict[str, Any]:
    """The aggregate with its children in schema order (unknown children keep their place at the end)."""
    order = tuple(order)
    known = {k: value[k] for k in order if k in value}
    known.update({k: v for k, v in value.items() if k not in known})
    return known


def cleared(value: Any) -> Any:
    """An element sent empty in a Mod clears the field: QuickBooks then leaves it out of the *Ret (None here)."""
    if isinstance(value, dict):
        kept = {k: v for k, v in value.items() if v != ""}
        return kept or None
    return None if value == "" else value


def readable(kind: str) -> str:
    return _READABLE.get(kind, kind)


def unsupported(field: str) -> QbStatus:
    return QbStatus(530, f'The field "{field}" is not supported by this implementation.')


class Company:
    """Business rules over the store; every method runs inside the simulator's per-request savepoint."""

    def __init__(self, store: Store, tz: tzinfo, now: Callable[[], int]) -> None:
        self.store = store
        self.tz = tz
        self.now = now

    # --- ids, times -------------------------------------------------------------------------------------------
    def new_list_id(self, stamp: int) -> str:
        return f"{0x80000000 + self.store.next_counter('list'):X}-{stamp}"

    def new_txn_id(self, stamp: int) -> str:
        return f"{self.store.next_counter('txn'):X}-{stamp}"

    def new_line_id(self, stamp: int) -> str:
        return f"{self.store.next_counter('line'):X}-{stamp}"

    @staticmethod
    def next_edit_sequence(previous: str | None, stamp: int) -> str:
        # QuickBooks' EditSequence is the modification time in seconds; it must change on every save.
        if previous is None:
            return str(stamp)
        return str(max(stamp, int(previous) + 1))

    def format_time(self, epoch: int) -> str:
        """A DATETIMETYPE as QuickBooks writes it: local wall-clock time with the zone's *base* offset (the
        offset does not follow daylight saving time; quickbooks-sync pull request 28)."""
        local = datetime.fromtimestamp(epoch, self.tz)
        return local.replace(tzinfo=timezone(base_offset(local))).isoformat()

    def local_epoch(self, wall: datetime) -> int:
        """Epoch seconds of a local wall time; a wall time clocks show twice (fall back) is read as its second
        (standard-time) moment, the reading that hides the first one from a client filtering on it."""
        return int(wall.replace(tzinfo=self.tz, fold=1).timestamp())

    def today(self) -> date:
        return datetime.fromtimestamp(self.now(), self.tz).date()

    def parse_time(self, text: str, *, end_of_day: bool = False) -> int:
        """A DATETIMETYPE filter value as epoch seconds; no offset means the company's time zone."""
        text = text.strip()
        try:
            if "T" not in text:
                day = date.fromisoformat(text)
                if end_of_day:
                    return self.local_epoch(datetime.combine(day + timedelta(days=1), datetime.min.time())) - 1
                return self.local_epoch(datetime.combine(day, datetime.min.time()))
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise QbStatus(3020, f'There was an error when converting the date value "{text}".') from None
        if moment.tzinfo is not None:
            # An offset is read as QuickBooks writes one: the clock time in the zone's base offset, taken as
            # local wall time (so a stamp sent back as received selects from that stamp on).
            instant = moment.astimezone(UTC)
            base = base_offset(instant.astimezone(self.tz))
            moment = (instant + base).replace(tzinfo=None)
        return self.local_epoch(moment)

    @staticmethod
    def parse_date(text: str, field: str) -> date:
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            raise QbStatus(3020, f'There was an error when converting the date value "{text}" in the field '
                                 f'"{field}".') from None

    def next_ref_number(self, kind: str) -> str:
        """The RefNumber QuickBooks fills in when none is sent: the last number used on this kind of transaction,
        typed or automatic, plus one, keeping its prefix and zero padding ("INV-0099" → "INV-0100"); "1" in a new
        company. Like QuickBooks' own forms, it continues the user's sequence rather than a counter of its own."""
        last = self.store.meta(f"last_ref:{kind}")
        match = re.search(r"(\d+)(\D*)$", last or "")
        if match is None:
            return "1"
        digits, suffix = match.groups()
        number = str(int(digits) + 1).zfill(len(digits))
        return (last or "")[:match.start(1)] + number + suffix

    # --- lookups ----------------------------------------------------------------------------------------------
    def get(self, record_id: str, kinds: Iterable[str]) -> Row | None:
        row = self.store.get(record_id)
        return row if row is not None and row.kind in tuple(kinds) else None

    def find(self, ref: dict[str, Any], kinds: tuple[str, ...]) -> Row | None:
        """Resolve a *Ref aggregate: ListID wins over FullName, as QuickBooks documents."""
        if ref.get("ListID"):
            return self.get(ref["ListID"], kinds)
        if ref.get("FullName"):
            row = self.store.by_name(NAMESPACE[kinds[0]], ref["FullName"])
            return row if row is not None and row.kind in kinds else None
        return None

    def resolve(self, field: str, ref: Any, owner: str, *, line: bool = False) -> tuple[dict[str, str], Row | None]:
        """The ref as QuickBooks returns it (ListID + FullName); 3140 when it points at nothing."""
        kinds = REF_KINDS.get(field)
        if kinds is None or not isinstance(ref, dict):
            return ref, None
        row = self.find(ref, kinds)
        if row is None:
            shown = ref.get("ListID") or ref.get("FullName") or ""
            where = f"{owner} line" if line else owner
            raise QbStatus(3140, f'There is an invalid reference to QuickBooks {readable(kinds[0])} "{shown}" in the '
                                 f"{where}. QuickBooks error message: Invalid argument. The specified record does "
                                 "not exist in the list.")
        return {"ListID": row.id, "FullName": row.full_name or ""}, row

    def resolve_all(self, value: dict[str, Any], owner: str, uses: list[str], *, line: bool = False
                    ) -> dict[str, Any]:
        """Resolve every known *Ref inside an aggregate (items nest their account refs)."""
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in REF_KINDS:
                out[key], row = self.resolve(key, item, owner, line=line)
                if row is not None:
                    uses.append(row.id)
            elif isinstance(item, dict) and key in SUB_ORDER:
                out[key] = ordered(self.resolve_all(item, owner, uses, line=line), SUB_ORDER[key])
            else:
                out[key] = item
        return out

    def default_account(self, special: str) -> Row:
        """The company's special account (AccountsReceivable, UndepositedFunds) QuickBooks uses by default."""
        known = self.store.meta(f"special:{special}")
        row = self.store.get(known) if known else None
        if row is not None:
            return row
        for row in self.store.select("kind = 'Account'", (), "seq"):
            if row.body.get("SpecialAccountType") == special:
                self.store.set_meta(f"special:{special}", row.id)
                return row
        raise QbStatus(3140, f"There is an invalid reference to QuickBooks Account of type {special}. QuickBooks "
                             "error message: Invalid argument. The specified record does not exist in the list.")

    # --- checks -----------------------------------------------------------------------------------------------
    @staticmethod
    def check_limits(kind: str, data: dict[str, Any]) -> None:
        """QuickBooks' field lengths (3070), for clients that skip the schema's maxLength."""

        def check(field: str, value: Any, limit: int | None) -> None:
            if limit is not None and isinstance(value, str) and len(value) > limit:
                raise QbStatus(3070, f'The string "{value}" in the field "{field}" is too long.')

        for field, value in data.items():
            if field == "Name":
                check(field, value, NAME_LIMIT.get(kind))
            elif field == "RefNumber":
                check(field, value, REF_NUMBER_LIMIT.get(kind))
            elif field == "AccountNumber":
                check(field, value, ACCOUNT_NUMBER_LIMIT.get(kind))
            elif isinstance(value, dict) and not field.endswith("Ref"):
                for sub, subvalue in value.items():
                    check(sub, subvalue, FIELD_LIMIT.get(sub))
            else:
                check(field, value, FIELD_LIMIT.get(field))

    @staticmethod
    def check_name(name: str) -> None:
        if ":" in name:
            # The colon separates the levels of a FullName, so QuickBooks refuses it inside a Name.
            raise QbStatus(3090, f'There was an error when storing "{name}" in the field "Name". QuickBooks error '
                                 "message: A name cannot contain a colon (:).")
        if not name.strip():
            raise QbStatus(3150, 'There is a missing element: "Name".')

    def check_unique(self, kind: str, full_name: str, own_id: str | None = None) -> None:
        existing = self.store.by_name(NAMESPACE[kind], full_name)
        if existing is not None and existing.id != own_id:
            raise QbStatus(3100, f'The name "{full_name}" of the list element is already in use.')

    def check_edit_sequence(self, row: Row, given: str | None) -> None:
        if given != row.edit_sequence:
            raise QbStatus(3200, f'The provided edit sequence "{given}" is out-of-date.')

    def not_found(self, record_id: str) -> QbStatus:
        return QbStatus(3120, f'Object "{record_id}" specified in the request cannot be found.')

    # --- list elements ----------------------------------------------------------------------------------------
    def list_add(self, kind: str, data: dict[str, Any], warnings: list[QbStatus]) -> Row:
        """CustomerAdd, VendorAdd, AccountAdd, Item*Add, StandardTermsAdd, …"""
        data = latin1(data)
        if kind == "Employee" and not data.get("Name"):
            # QuickBooks names an employee from the person's name when no Name is sent.
            parts = (data.get("FirstName"), data.get("MiddleName"), data.get("LastName"))
            data = {"Name": " ".join(p for p in parts if p), **data}
        if kind == "SalesRep":
            data = {"Name": data.get("Initial", ""), **data}  # a sales rep is named by its initials
        self.check_limits(kind, data)
        name = data.get("Name", "")
        self.check_name(name)
        parent = self._parent(kind, data.get("ParentRef"), None)
        full_name = f"{parent.full_name}:{name}" if parent else name
        self.check_unique(kind, full_name)
        uses: list[str] = []
        body = self._list_body(kind, data, {}, warnings, uses, adding=True)
        self.tax_defaults(kind, body)
        stamp = self.now()
        row = Row(
            id=self.new_list_id(stamp), kind=kind, seq=self.store.next_counter("seq"), namespace=NAMESPACE[kind],
            name_key=full_name.upper(), full_name=full_name, parent_id=parent.id if parent else None,
            sublevel=parent.sublevel + 1 if parent else 0, is_active=data.get("IsActive", "true") != "false",
            time_created=stamp, time_modified=stamp, edit_sequence=self.next_edit_sequence(None, stamp),
            customer_id=None, ref_number=None, txn_date=None, balance_cents=0, body=body,
        )
        self.store.insert(row)
        if uses:
            self.store.set_uses(row.id, uses)
        return row

    def list_mod(self, kind: str, data: dict[str, Any], warnings: list[QbStatus], *, check_sequence: bool = True
                 ) -> Row:
        """CustomerMod, AccountMod, Item*Mod, VendorMod: only the elements sent change."""
        data = latin1(data)
        row = self.get(data.get("ListID", ""), (kind,))
        if row is None:
            raise self.not_found(data.get("ListID", ""))
        if check_sequence:
            self.check_edit_sequence(row, data.get("EditSequence"))
        self.check_limits(kind, data)
        name_field = "Initial" if kind == "SalesRep" else "Name"
        name = data.get(name_field, row.body.get(name_field, ""))
        self.check_name(name)
        parent_id = row.parent_id
        if "ParentRef" in data:
            parent = self._parent(kind, data["ParentRef"], row)
            parent_id = parent.id if parent else None
        parent_row = self.store.get(parent_id) if parent_id else None
        full_name = f"{parent_row.full_name}:{name}" if parent_row else name
        renamed = full_name != row.full_name
        if renamed:
            self.check_unique(kind, full_name, row.id)
        uses: list[str] = []
        row.body = self._list_body(kind, {k: v for k, v in data.items() if k not in _MOD_INSTRUCTIONS}, row.body,
                                   warnings, uses, adding=False)
        row.body["Name"] = name
        row.full_name, row.name_key, row.parent_id = full_name, full_name.upper(), parent_id
        row.sublevel = parent_row.sublevel + 1 if parent_row else 0
        if "IsActive" in data:
            row.is_active = data["IsActive"] != "false"
        self._touch(row)
        self.store.update(row)
        self.store.set_uses(row.id, self._references(row))  # the whole body: a Mod names only what changes
        if renamed or "ParentRef" in data:
            self._cascade_names(row)
        return row

    def _touch(self, row: Row) -> None:
        stamp = self.now()
        row.time_modified = stamp
        row.edit_sequence = self.next_edit_sequence(row.edit_sequence, stamp)

    def _parent(self, kind: str, ref: Any, row: Row | None) -> Row | None:
        if kind not in HIERARCHICAL or not isinstance(ref, dict) or not (ref.get("ListID") or ref.get("FullName")):
            return None
        kinds = ITEM_KINDS if kind in ITEM_KINDS else (kind,)
        parent = self.find(ref, kinds)
        if parent is None:
            # OSR status codes: 3130 "There is an invalid reference to a parent "fieldValue" in the objectName
            # list." (not 3140, which QuickBooks keeps for the other references).
            shown = ref.get("ListID") or ref.get("FullName")
            raise QbStatus(3130, f'There is an invalid reference to a parent "{shown}" in the {readable(kind)} '
                                 "list.")
        if row is not None and (parent.id == row.id or any(d.id == parent.id for d in self.store.descendants(row.id))):
            raise QbStatus(3090, f'There was an error when storing "{parent.full_name}" in the field "ParentRef". '
                                 "QuickBooks error message: An element cannot be its own parent.")
        depth_below = max((d.sublevel - row.sublevel for d in self.store.descendants(row.id)), default=0) if row else 0
        if parent.sublevel + 1 + depth_below > MAX_SUBLEVEL:
            raise QbStatus(3090, f'There was an error when storing "{parent.full_name}" in the field "ParentRef". '
                                 f"QuickBooks error message: A list can have at most {MAX_SUBLEVEL} sublevels.")
        return parent

    def _cascade_names(self, row: Row) -> None:
        """A renamed or moved parent renames its whole subtree (FullName is derived)."""
        for child in self.store.children(row.id):
            child.full_name = f"{row.full_name}:{child.body.get('Name', '')}"
            child.name_key = child.full_name.upper()
            child.sublevel = row.sublevel + 1
            existing = self.store.by_name(child.namespace or "", child.full_name)
            if existing is not None and existing.id != child.id:
                raise QbStatus(3100, f'The name "{child.full_name}" of the list element is already in use.')
            self.store.update(child)
            self._cascade_names(child)

    def _list_body(self, kind: str, data: dict[str, Any], body: dict[str, Any], warnings: list[QbStatus],
                   uses: list[str], *, adding: bool) -> dict[str, Any]:
        """Merge request elements into the stored body, in *Ret naming, refusing what QuickBooks refuses."""
        order = RET_ORDER[kind]
        body = dict(body)
        stamp = self.now()
        for key, value in data.items():
            if key in ("ParentRef", "IsActive") or (kind == "SalesRep" and key == "Name"):
                continue
            if key == "ItemGroupLine" and kind == "ItemGroup":
                body[key] = [ordered(self.resolve_all(line, "ItemGroup", uses), SUB_ORDER[key]) for line in value]
            elif key == "BarCode" and isinstance(value, dict):
                if value.get("BarCodeValue"):
                    body["BarCodeValue"] = value["BarCodeValue"]
            elif key in ("SalesOrPurchaseMod", "SalesAndPurchaseMod", "SalesOrPurchase", "SalesAndPurchase"):
                target = key.removesuffix("Mod")
                other = "SalesAndPurchase" if target == "SalesOrPurchase" else "SalesOrPurchase"
                base = {} if (adding or key == target) else dict(body.get(target, {}))
                base.update(value)
                body.pop(other, None)
                body[target] = ordered(self.resolve_all(base, readable(kind), uses), SUB_ORDER[target])
            elif key == "Contacts" and kind in ("Customer", "Vendor"):
                body["ContactsRet"] = [
                    ordered({"ListID": self.new_list_id(stamp), "TimeCreated": self.format_time(stamp),
                             "TimeModified": self.format_time(stamp), "EditSequence": str(stamp), **contact},
                            SUB_ORDER["ContactsRet"])
                    for contact in value]
            elif key == "AdditionalNotes" and kind in ("Customer", "Vendor", "Employee"):
                notes = list(body.get("AdditionalNotesRet", []))
                for note in value:
                    notes.append({"NoteID": str(len(notes) + 1), "Date": self.today().isoformat(),
                                  "Note": note.get("Note", "")})
                body["AdditionalNotesRet"] = notes
            elif key == "TaxLineID" and kind == "Account":
                body["TaxLineInfoRet"] = {"TaxLineID": value}
            elif key == "OpenBalance" and kind == "Account":
                body["Balance"] = body["TotalBalance"] = money(parse_decimal(value, key))
            elif (kind, key) in _CONSUMED:
                continue
            elif key in REF_KINDS:
                body[key], found = self.resolve(key, value, readable(kind))
                if found is not None:
                    uses.append(found.id)
            elif key in order and key not in ("ListID", "TimeCreated", "TimeModified", "EditSequence", "FullName"):
                if isinstance(value, dict) and key in SUB_ORDER and not adding and isinstance(body.get(key), dict):
                    merged = dict(body[key])
                    merged.update(value)
                    value = merged
                value = cleared(value)
                if value is None:
                    body.pop(key, None)
                    continue
                body[key] = ordered(value, SUB_ORDER[key]) if isinstance(value, dict) and key in SUB_ORDER else value
            else:
                warnings.append(unsupported(key))
        self._item_rules(kind, body)
        if kind == "Account":
            body.setdefault("Balance", "0.00")
            body.setdefault("TotalBalance", body["Balance"])
        if kind == "ItemInventory":
            body.setdefault("QuantityOnHand", "0")
            if adding and data.get("TotalValue") and parse_decimal(body["QuantityOnHand"], "QuantityOnHand"):
                average = parse_decimal(data["TotalValue"], "TotalValue") / parse_decimal(
                    body["QuantityOnHand"], "QuantityOnHand")
                body["AverageCost"] = format(average.quantize(Decimal("0.00001")).normalize(), "f")
            body.setdefault("AverageCost", body.get("PurchaseCost", "0"))
            body.setdefault("QuantityOnOrder", "0")
            body.setdefault("QuantityOnSalesOrder", "0")
        return body

    def _item_rules(self, kind: str, body: dict[str, Any]) -> None:
        """QuickBooks refuses an item without its accounts, though the schema marks them optional."""
        if kind in ("ItemService", "ItemNonInventory"):
            if "SalesOrPurchase" in body and not body["SalesOrPurchase"].get("AccountRef"):
                raise QbStatus(3150, 'There is a missing element: "AccountRef" (an income account is required).')
            if "SalesAndPurchase" in body:
                for needed in ("IncomeAccountRef", "ExpenseAccountRef"):
                    if not body["SalesAndPurchase"].get(needed):
                        raise QbStatus(3150, f'There is a missing element: "{needed}".')
            if "SalesOrPurchase" not in body and "SalesAndPurchase" not in body:
                raise QbStatus(3150, 'There is a missing element: "SalesOrPurchase".')
        elif kind == "ItemInventory":
            for needed, what in (("IncomeAccountRef", "an income account"), ("COGSAccountRef", "a COGS account"),
                                 ("AssetAccountRef", "an asset account")):
                if not body.get(needed):
                    raise QbStatus(3150, f'There is a missing element: "{needed}" ({what} is required for an '
                                         "inventory item).")
            if self.store.get(body["COGSAccountRef"]["ListID"]).body.get("AccountType") != "CostOfGoodsSold":
                raise QbStatus(3140, "There is an invalid reference to QuickBooks Account "
                                     f'"{body["COGSAccountRef"]["FullName"]}" in the field COGSAccountRef. QuickBooks '
                                     "error message: The account must be a Cost of Goods Sold account.")
            if self.store.get(body["AssetAccountRef"]["ListID"]).body.get("AccountType") != "OtherCurrentAsset":
                asset = body["AssetAccountRef"]["FullName"]
                raise QbStatus(3140, f'There is an invalid reference to QuickBooks Account "{asset}" in the field '
                                     "AssetAccountRef. QuickBooks error message: The account must be an Other "
                                     "Current Asset account.")

    def list_delete(self, kind: str, record_id: str) -> Row:
        """ListDel: QuickBooks refuses to delete an element that transactions or sub-elements still use."""
        row = self.get(record_id, (kind,))
        if row is None:
            raise self.not_found(record_id)
        if self.store.children(row.id) or self.store.is_used(row.id):
            raise QbStatus(3170, f'There was an error when deleting {readable(kind)} "{row.full_name}". QuickBooks '
                                 "error message: This object cannot be deleted because it is in use.")
        self.store.delete(row.id)
        self.store.record_deletion(row, False, self.now())
        return row

    # --- invoices ---------------------------------------------------------------------------------------------
    def _due_date(self, txn_date: date, terms: Row | None) -> date:
        if terms is None:
            return txn_date
        if terms.kind == "StandardTerms":
            return txn_date + timedelta(days=int(terms.body.get("StdDueDays", "0") or 0))
        day = int(terms.body.get("DayOfMonthDue", "1") or 1)
        month_start = txn_date.replace(day=1)
        if txn_date.day >= day or (day - txn_date.day) < int(terms.body.get("DueNextMonthDays", "0") or 0):
            month_start = (month_start + timedelta(days=32)).replace(day=1)
        last = calendar.monthrange(month_start.year, month_start.month)[1]
        return month_start.replace(day=min(day, last))

    def _line(self, data: dict[str, Any], warnings: list[QbStatus], uses: list[str], stamp: int,
              line_id: str | None = None, existing: dict[str, Any] | None = None, *,
              shape: str = "InvoiceLineRet") -> dict[str, Any]:
        """One InvoiceLineRet (or SalesReceiptLineRet) from its *LineAdd, or an existing line merged with its
        InvoiceLineMod."""
        line: dict[str, Any] = dict(existing or {})
        line["TxnLineID"] = line_id or self.new_line_id(stamp)
        item: Row | None = None
        for key, value in data.items():
            if key == "TxnLineID":
                continue
            if key in REF_KINDS:
                line[key], found = self.resolve(key, value, "Invoice", line=True)
                if found is not None:
                    uses.append(found.id)
                    if key == "ItemRef":
                        item = found
            elif key in SUB_ORDER[shape]:
                line[key] = value
            else:
                warnings.append(unsupported(key))
        if item is not None and "SalesTaxCodeRef" not in line and self.sales_tax_on() \
                and item.body.get("SalesTaxCodeRef"):
            line["SalesTaxCodeRef"] = item.body["SalesTaxCodeRef"]  # the item's tax code, as QuickBooks fills in
        if "Rate" in data:
            line.pop("RatePercent", None)
        elif "RatePercent" in data:
            line.pop("Rate", None)
        if item is not None:
            prices = item.body.get("SalesOrPurchase") or item.body.get("SalesAndPurchase") or item.body
            if "Desc" not in line:
                description = prices.get("Desc") or prices.get("SalesDesc")
                if description:
                    line["Desc"] = description
            if "Rate" not in line and "RatePercent" not in line and "Amount" not in data:
                price = prices.get("Price") or prices.get("SalesPrice")
                if price:
                    line["Rate"] = price
        priced = "Rate" in line or "Quantity" in line or "ItemRef" in line
        # A description-only line carries no amount; a priced line's Amount is Quantity × Rate unless given.
        if "Amount" not in data and priced and ("Rate" in data or "Quantity" in data or existing is None):
            quantity = parse_decimal(line.get("Quantity", "1"), "Quantity")
            rate = parse_decimal(line.get("Rate", "0"), "Rate")
            line["Amount"] = money(quantity * rate)
        elif "Amount" in data:
            line["Amount"] = money(parse_decimal(data["Amount"], "Amount"))
        return ordered(line, SUB_ORDER[shape])

    def _group(self, data: dict[str, Any], warnings: list[QbStatus], uses: list[str], stamp: int
               ) -> dict[str, Any]:
        """An InvoiceLineGroupRet from an InvoiceLineGroupAdd: the group item's lines, times the group quantity,
        priced from their items (OSR InvoiceAdd: "InvoiceLineGroupAdd … the lines of the item group")."""
        ref, group = self.resolve("ItemGroupRef", data.get("ItemGroupRef"), "Invoice", line=True)
        if group is None:
            raise QbStatus(3150, 'There is a missing element: "ItemGroupRef".')
        uses.append(group.id)
        times = parse_decimal(data.get("Quantity", "1"), "Quantity")
        lines = []
        for member in group.body.get("ItemGroupLine", []):
            if not member.get("ItemRef"):
                continue
            quantity = parse_decimal(member.get("Quantity", "1"), "Quantity") * times
            lines.append(self._line({"ItemRef": {"ListID": member["ItemRef"]["ListID"]},
                                     "Quantity": format(quantity.normalize(), "f")}, warnings, uses, stamp))
        out: dict[str, Any] = {"TxnLineID": self.new_line_id(stamp), "ItemGroupRef": ref,
                               "Desc": data.get("Desc") or group.body.get("ItemDesc"),
                               "Quantity": data.get("Quantity", "1"),
                               "IsPrintItemsInGroup": group.body.get("IsPrintItemsInGroup", "false"),
                               "TotalAmount": money(sum((parse_decimal(line.get("Amount", "0"), "Amount")
                                                         for line in lines), Decimal(0))),
                               "ServiceDate": data.get("ServiceDate"), "InvoiceLineRet": lines}
        return ordered({k: v for k, v in out.items() if v not in (None, "")}, SUB_ORDER["InvoiceLineGroupRet"])

    @staticmethod
    def all_lines(body: dict[str, Any]) -> list[dict[str, Any]]:
        """Every priced line of a sales transaction: its own lines and the lines inside its item groups."""
        lines = list(body.get("InvoiceLineRet", [])) + list(body.get("SalesReceiptLineRet", []))
        for group in body.get("InvoiceLineGroupRet", []):
            lines.extend(group.get("InvoiceLineRet", []))
        return lines

    # --- sales tax --------------------------------------------------------------------------------------------
    def sales_tax_on(self) -> bool:
        """The company preference "Do you charge sales tax?" (Edit → Preferences → Sales Tax)."""
        return self.store.meta("pref:sales_tax") == "true"

    def _ref_to(self, row: Row | None) -> dict[str, str] | None:
        return {"ListID": row.id, "FullName": row.full_name or ""} if row is not None else None

    def tax_code(self, name: str) -> Row | None:
        return self.store.by_name("salestaxcode", name)

    def default_tax_item(self) -> Row | None:
        for row in self.store.select("kind = 'ItemSalesTax' AND is_active = 1", (), "seq", limit=1):
            return row
        return None

    def tax_defaults(self, kind: str, body: dict[str, Any]) -> None:
        """With sales tax on, a new customer gets the taxable code and the company's sales tax item (QuickBooks'
        defaults for a new customer); a new part is taxable and a new service is not (QuickBooks' item form
        defaults, chosen here: the preference that sets them is not in qbXML)."""
        if not self.sales_tax_on():
            return
        if kind == "Customer":
            body.setdefault("SalesTaxCodeRef", self._ref_to(self.tax_code("Tax")))
            item = self.default_tax_item()
            if item is not None:
                body.setdefault("ItemSalesTaxRef", self._ref_to(item))
        elif kind in ITEM_KINDS:
            body.setdefault("SalesTaxCodeRef", self._ref_to(self.tax_code("Non" if kind == "ItemService" else "Tax")))
        for key in ("SalesTaxCodeRef", "ItemSalesTaxRef"):
            if body.get(key) is None:
                body.pop(key, None)

    def _sales_tax(self, body: dict[str, Any], customer: Row | None) -> None:
        """Header tax fields of a new invoice or sales receipt: the customer's tax code and sales tax item."""
        if not self.sales_tax_on():
            return
        if "CustomerSalesTaxCodeRef" not in body and customer is not None and customer.body.get("SalesTaxCodeRef"):
            body["CustomerSalesTaxCodeRef"] = customer.body["SalesTaxCodeRef"]
        if "ItemSalesTaxRef" not in body:
            chosen = customer.body.get("ItemSalesTaxRef") if customer is not None else None
            body["ItemSalesTaxRef"] = chosen or self._ref_to(self.default_tax_item())
            if body["ItemSalesTaxRef"] is None:
                del body["ItemSalesTaxRef"]

    def _tax_total(self, body: dict[str, Any]) -> tuple[Decimal, Decimal]:
        """(rate %, tax) for a sales transaction: the sales tax item's rate on the lines whose tax code is
        taxable, nothing when the customer's code is not taxable (OSR: SalesTaxTotal, SalesTaxPercentage)."""
        if not self.sales_tax_on() or not body.get("ItemSalesTaxRef"):
            return Decimal(0), Decimal(0)
        item = self.store.get(body["ItemSalesTaxRef"]["ListID"])
        rate = parse_decimal(item.body.get("TaxRate", "0"), "TaxRate") if item is not None else Decimal(0)
        customer_code = body.get("CustomerSalesTaxCodeRef")
        if customer_code and not self._taxable(customer_code):
            return rate, Decimal(0)
        taxable = sum((parse_decimal(line.get("Amount", "0"), "Amount") for line in self.all_lines(body)
                       if line.get("SalesTaxCodeRef") and self._taxable(line["SalesTaxCodeRef"])), Decimal(0))
        return rate, (taxable * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)

    def _taxable(self, ref: dict[str, Any]) -> bool:
        code = self.store.get(ref.get("ListID", ""))
        return code is not None and code.body.get("IsTaxable") == "true"

    def _adjust_inventory(self, lines: list[dict[str, Any]], sign: int) -> None:
        """Selling an inventory item lowers its QuantityOnHand (sign -1); undoing the sale restores it (+1)."""
        moved: dict[str, Decimal] = {}
        for line in lines:
            item_id = (line.get("ItemRef") or {}).get("ListID")
            if item_id and "Quantity" in line:
                moved[item_id] = moved.get(item_id, Decimal(0)) + parse_decimal(line["Quantity"], "Quantity")
        for item_id, quantity in moved.items():
            item = self.get(item_id, ("ItemInventory",))
            if item is None:
                continue
            on_hand = parse_decimal(item.body.get("QuantityOnHand", "0"), "QuantityOnHand") + sign * quantity
            item.body["QuantityOnHand"] = format(on_hand.normalize(), "f")
            self.store.update(item)  # a stock movement is not an edit of the item: TimeModified stays

    def _invoice_totals(self, row: Row) -> None:
        body = row.body
        subtotal = sum((parse_decimal(line.get("Amount", "0"), "Amount") for line in self.all_lines(body)),
                       Decimal(0))
        applied = parse_decimal(body.get("AppliedAmount", "0"), "AppliedAmount")
        rate, tax = self._tax_total(body)
        balance = subtotal + tax + applied  # BalanceRemaining includes the sales tax
        body["Subtotal"] = money(subtotal)
        body["SalesTaxPercentage"] = money(rate)
        body["SalesTaxTotal"] = money(tax)
        body["AppliedAmount"] = money(applied)
        body["BalanceRemaining"] = money(balance)
        body["IsPaid"] = "true" if balance <= 0 else "false"
        row.balance_cents = to_cents(balance)

    def invoice_add(self, data: dict[str, Any], warnings: list[QbStatus]) -> Row:
        """InvoiceAdd: lines priced from their items, DueDate from Terms, totals and balance computed."""
        data = latin1(data)
        self.check_limits("Invoice", data)
        stamp = self.now()
        uses: list[str] = []
        body: dict[str, Any] = {}
        customer: Row | None = None
        terms: Row | None = None
        lines: list[dict[str, Any]] = []
        groups: list[dict[str, Any]] = []
        for key, value in data.items():
            if key == "InvoiceLineAdd":
                lines.extend(self._line(line, warnings, uses, stamp) for line in value)
            elif key == "InvoiceLineGroupAdd":
                groups.extend(self._group(group, warnings, uses, stamp) for group in value)
            elif key == "_line_order":
                continue
            elif key in REF_KINDS:
                body[key], found = self.resolve(key, value, "Invoice")
                if found is not None:
                    uses.append(found.id)
                    customer = found if key == "CustomerRef" else customer
                    terms = found if key == "TermsRef" else terms
            elif key in RET_ORDER["Invoice"]:
                body[key] = ordered(value, SUB_ORDER[key]) if isinstance(value, dict) and key in SUB_ORDER else value
            else:
                warnings.append(unsupported(key))
        if customer is None:
            raise QbStatus(3150, 'There is a missing element: "CustomerRef".')
        if "ARAccountRef" not in body:
            account = self.default_account("AccountsReceivable")
            body["ARAccountRef"] = {"ListID": account.id, "FullName": account.full_name}
        if terms is None and customer.body.get("TermsRef"):
            terms = self.get(customer.body["TermsRef"]["ListID"], TERMS_KINDS)
            if terms is not None:
                body["TermsRef"] = {"ListID": terms.id, "FullName": terms.full_name}
        for address in ("BillAddress", "ShipAddress"):
            if address not in body and customer.body.get(address):
                body[address] = customer.body[address]
        txn_date = self.parse_date(body["TxnDate"], "TxnDate") if "TxnDate" in body else self.today()
        body["TxnDate"] = txn_date.isoformat()
        if "DueDate" not in body:
            body["DueDate"] = self._due_date(txn_date, terms).isoformat()
        if "RefNumber" not in body:
            body["RefNumber"] = self.next_ref_number("Invoice")
        self.store.set_meta("last_ref:Invoice", body["RefNumber"])
        body["TxnNumber"] = str(self.store.next_counter("txn_number"))
        body.setdefault("IsPending", "false")
        body.setdefault("IsFinanceCharge", "false")
        body.setdefault("IsToBePrinted", "false")
        body.setdefault("IsToBeEmailed", "false")
        body["InvoiceLineRet"] = lines
        if groups:
            body["InvoiceLineGroupRet"] = groups
        body["_order"] = self._order(data, lines, groups)
        self._sales_tax(body, customer)
        row = Row(
            id=self.new_txn_id(stamp), kind="Invoice", seq=self.store.next_counter("seq"), namespace=None,
            name_key=None, full_name=None, parent_id=None, sublevel=0, is_active=True, time_created=stamp,
            time_modified=stamp, edit_sequence=self.next_edit_sequence(None, stamp), customer_id=customer.id,
            ref_number=body["RefNumber"], txn_date=body["TxnDate"], balance_cents=0, body=body,
        )
        self._invoice_totals(row)
        self.store.insert(row)
        self.store.set_uses(row.id, uses)
        self._adjust_inventory(self.all_lines(body), -1)
        return row

    @staticmethod
    def _order(data: dict[str, Any], lines: list[dict[str, Any]], groups: list[dict[str, Any]]) -> list[str]:
        """TxnLineIDs of lines and groups in the order the request gave them (qbXML lets them interleave)."""
        sequence = data.get("_line_order")
        if not sequence:
            return [item["TxnLineID"] for item in (*lines, *groups)]
        pools = {"line": iter(lines), "group": iter(groups)}
        return [next(pools[which])["TxnLineID"] for which in sequence]

    def invoice_mod(self, data: dict[str, Any], warnings: list[QbStatus], *, check_sequence: bool = True) -> Row:
        """InvoiceMod: header elements replace; lines follow QuickBooks' replacement rules."""
        data = latin1(data)
        row = self.get(data.get("TxnID", ""), ("Invoice",))
        if row is None:
            raise self.not_found(data.get("TxnID", ""))
        if check_sequence:
            self.check_edit_sequence(row, data.get("EditSequence"))
        self.check_limits("Invoice", data)
        stamp = self.now()
        uses: list[str] = []
        body = dict(row.body)
        terms_changed = False
        for key, value in data.items():
            if key in _MOD_INSTRUCTIONS or key in ("InvoiceLineMod", "InvoiceLineGroupMod", "_line_order"):
                continue
            if key in REF_KINDS:
                body[key], found = self.resolve(key, value, "Invoice")
                if key == "CustomerRef" and found is not None:
                    row.customer_id = found.id
                terms_changed = terms_changed or key == "TermsRef"
            elif key in RET_ORDER["Invoice"]:
                if isinstance(value, dict) and key in SUB_ORDER:
                    value = ordered({**body.get(key, {}), **value}, SUB_ORDER[key])
                value = cleared(value)
                if value is None:
                    body.pop(key, None)
                else:
                    body[key] = value
                terms_changed = terms_changed or key == "TxnDate"
            else:
                warnings.append(unsupported(key))
        if "InvoiceLineMod" in data or "InvoiceLineGroupMod" in data:
            # OSR InvoiceMod: the lines and groups sent are the invoice's lines; any line or group left out of the
            # request is deleted. A group sent with its TxnLineID alone is kept as it is.
            self._adjust_inventory(self.all_lines(body), +1)
            existing = {line["TxnLineID"]: line for line in body.get("InvoiceLineRet", [])}
            existing_groups = {group["TxnLineID"]: group for group in body.get("InvoiceLineGroupRet", [])}
            lines = []
            for mod in data.get("InvoiceLineMod", []):
                line_id = mod.get("TxnLineID", "-1")
                if line_id == "-1":
                    lines.append(self._line(mod, warnings, uses, stamp))
                elif line_id in existing:
                    lines.append(self._line(mod, warnings, uses, stamp, line_id, existing[line_id]))
                else:
                    raise self.not_found(line_id)
            groups = []
            for mod in data.get("InvoiceLineGroupMod", []):
                group_id = mod.get("TxnLineID", "-1")
                if group_id == "-1":
                    groups.append(self._group(mod, warnings, uses, stamp))
                elif group_id in existing_groups:
                    if set(mod) - {"TxnLineID"}:
                        warnings.append(unsupported("InvoiceLineGroupMod (a change inside a group)"))
                    groups.append(existing_groups[group_id])
                else:
                    raise self.not_found(group_id)
            body["InvoiceLineRet"] = lines
            body["InvoiceLineGroupRet"] = groups
            body["_order"] = self._order(data, lines, groups)
            self._adjust_inventory(self.all_lines(body), -1)
        if terms_changed and "DueDate" not in data:
            terms = self.get(body["TermsRef"]["ListID"], TERMS_KINDS) if body.get("TermsRef") else None
            body["DueDate"] = self._due_date(self.parse_date(body["TxnDate"], "TxnDate"), terms).isoformat()
        row.body = body
        row.ref_number = body.get("RefNumber")
        row.txn_date = body.get("TxnDate")
        self._invoice_totals(row)
        self._touch(row)
        self.store.update(row)
        self.store.set_uses(row.id, self._references(row))
        return row

    @staticmethod
    def _references(row: Row) -> list[str]:
        """Every ListID the record's references point at (payments and links excluded: they are not uses)."""
        found: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                if "ListID" in value and len(value) <= 2:
                    found.append(value["ListID"])
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk({k: v for k, v in row.body.items() if k not in ("LinkedTxn", "AppliedToTxnRet")})
        return found

    # --- sales receipts ---------------------------------------------------------------------------------------
    def sales_receipt_add(self, data: dict[str, Any], warnings: list[QbStatus]) -> Row:
        """SalesReceiptAdd: a sale paid on the spot; lines priced as on invoices, tax as on invoices, the money
        deposited to Undeposited Funds unless DepositToAccountRef says otherwise (OSR SalesReceiptAdd)."""
        data = latin1(data)
        self.check_limits("SalesReceipt", data)
        stamp = self.now()
        uses: list[str] = []
        body: dict[str, Any] = {}
        customer: Row | None = None
        lines: list[dict[str, Any]] = []
        for key, value in data.items():
            if key == "SalesReceiptLineAdd":
                lines.extend(self._line(line, warnings, uses, stamp, shape="SalesReceiptLineRet") for line in value)
            elif key == "_line_order":
                continue
            elif key in REF_KINDS:
                body[key], found = self.resolve(key, value, "SalesReceipt")
                if found is not None:
                    uses.append(found.id)
                    customer = found if key == "CustomerRef" else customer
            elif key in RET_ORDER["SalesReceipt"]:
                body[key] = ordered(value, SUB_ORDER[key]) if isinstance(value, dict) and key in SUB_ORDER else value
            else:
                warnings.append(unsupported(key))
        if "DepositToAccountRef" not in body:
            body["DepositToAccountRef"] = self._ref_to(self.default_account("UndepositedFunds"))
        if customer is not None and "BillAddress" not in body and customer.body.get("BillAddress"):
            body["BillAddress"] = customer.body["BillAddress"]
        txn_date = self.parse_date(body["TxnDate"], "TxnDate") if "TxnDate" in body else self.today()
        body["TxnDate"] = txn_date.isoformat()
        if "RefNumber" not in body:
            body["RefNumber"] = self.next_ref_number("SalesReceipt")
        self.store.set_meta("last_ref:SalesReceipt", body["RefNumber"])
        body["TxnNumber"] = str(self.store.next_counter("txn_number"))
        body.setdefault("IsPending", "false")
        body.setdefault("IsToBePrinted", "false")
        body.setdefault("IsToBeEmailed", "false")
        body["SalesReceiptLineRet"] = lines
        self._sales_tax(body, customer)
        subtotal = sum((parse_decimal(line.get("Amount", "0"), "Amount") for line in lines), Decimal(0))
        rate, tax = self._tax_total(body)
        body["Subtotal"] = money(subtotal)
        body["SalesTaxPercentage"] = money(rate)
        body["SalesTaxTotal"] = money(tax)
        body["TotalAmount"] = money(subtotal + tax)
        row = Row(
            id=self.new_txn_id(stamp), kind="SalesReceipt", seq=self.store.next_counter("seq"), namespace=None,
            name_key=None, full_name=None, parent_id=None, sublevel=0, is_active=True, time_created=stamp,
            time_modified=stamp, edit_sequence=self.next_edit_sequence(None, stamp),
            customer_id=customer.id if customer is not None else None, ref_number=body["RefNumber"],
            txn_date=body["TxnDate"], balance_cents=0, body=body,
        )
        self.store.insert(row)
        self.store.set_uses(row.id, uses)
        self._adjust_inventory(lines, -1)
        return row

    # --- payments ---------------------------------------------------------------------------------------------
    def payment_add(self, data: dict[str, Any], warnings: list[QbStatus]) -> Row:
        """ReceivePaymentAdd: applies the payment to invoices (explicitly or oldest first), updating their balance."""
        data = latin1(data)
        self.check_limits("ReceivePayment", data)
        stamp = self.now()
        uses: list[str] = []
        body: dict[str, Any] = {}
        customer: Row | None = None
        for key, value in data.items():
            if key in ("AppliedToTxnAdd", "IsAutoApply"):
                continue
            if key in REF_KINDS:
                body[key], found = self.resolve(key, value, "ReceivePayment")
                if found is not None:
                    uses.append(found.id)
                    customer = found if key == "CustomerRef" else customer
            elif key in RET_ORDER["ReceivePayment"]:
                body[key] = value
            else:
                warnings.append(unsupported(key))
        if customer is None:
            raise QbStatus(3150, 'There is a missing element: "CustomerRef".')
        for field, special in (("ARAccountRef", "AccountsReceivable"), ("DepositToAccountRef", "UndepositedFunds")):
            if field not in body:
                account = self.default_account(special)
                body[field] = {"ListID": account.id, "FullName": account.full_name}
        txn_date = self.parse_date(body["TxnDate"], "TxnDate") if "TxnDate" in body else self.today()
        body["TxnDate"] = txn_date.isoformat()
        txn_id = self.new_txn_id(stamp)
        applications: list[tuple[Row, Decimal]] = []
        if data.get("AppliedToTxnAdd"):
            for applied in data["AppliedToTxnAdd"]:
                invoice = self.get(applied.get("TxnID", ""), ("Invoice",))
                if invoice is None or invoice.customer_id != customer.id:
                    raise QbStatus(3140, f'There is an invalid reference to QuickBooks Invoice "{applied.get("TxnID")}"'
                                         " in the ReceivePayment. QuickBooks error message: The transaction is not "
                                         "an open invoice of this customer.")
                balance = Decimal(invoice.balance_cents) / 100
                amount = parse_decimal(applied["PaymentAmount"], "PaymentAmount") if "PaymentAmount" in applied \
                    else balance
                if amount > balance:
                    raise QbStatus(3210, f'The "PaymentAmount" field has an invalid value "{money(amount)}". '
                                         "QuickBooks error message: The amount applied exceeds the balance "
                                         f"({money(balance)}) of invoice {invoice.ref_number}.")
                applications.append((invoice, amount))
            applied_total = sum((a for _, a in applications), Decimal(0))
            total = parse_decimal(body["TotalAmount"], "TotalAmount") if "TotalAmount" in body else applied_total
            if applied_total > total:
                raise QbStatus(3210, f'The "TotalAmount" field has an invalid value "{money(total)}". QuickBooks '
                                     f"error message: The amounts applied ({money(applied_total)}) exceed the payment.")
        else:
            total = parse_decimal(body.get("TotalAmount", "0"), "TotalAmount")
            left = total
            for invoice in self.store.select("kind = 'Invoice' AND customer_id = ? AND balance_cents > 0",
                                             (customer.id,), "txn_date, seq"):
                if left <= 0:
                    break
                amount = min(left, Decimal(invoice.balance_cents) / 100)
                applications.append((invoice, amount))
                left -= amount
        applied_rets = []
        for invoice, amount in applications:
            self._apply(invoice, txn_id, body, amount)
            uses.append(invoice.id)
            applied_rets.append(ordered({
                "TxnID": invoice.id, "TxnType": "Invoice", "TxnDate": invoice.body["TxnDate"],
                "RefNumber": invoice.body.get("RefNumber"), "BalanceRemaining": invoice.body["BalanceRemaining"],
                "Amount": money(amount)}, SUB_ORDER["AppliedToTxnRet"]))
            if applied_rets[-1]["RefNumber"] is None:
                del applied_rets[-1]["RefNumber"]
        body["TotalAmount"] = money(total)
        body["UnusedPayment"] = money(total - sum((a for _, a in applications), Decimal(0)))
        body["UnusedCredits"] = "0.00"
        body["TxnNumber"] = str(self.store.next_counter("txn_number"))
        body["AppliedToTxnRet"] = applied_rets
        row = Row(
            id=txn_id, kind="ReceivePayment", seq=self.store.next_counter("seq"), namespace=None, name_key=None,
            full_name=None, parent_id=None, sublevel=0, is_active=True, time_created=stamp, time_modified=stamp,
            edit_sequence=self.next_edit_sequence(None, stamp), customer_id=customer.id,
            ref_number=body.get("RefNumber"), txn_date=body["TxnDate"],
            balance_cents=-to_cents(parse_decimal(body["UnusedPayment"], "UnusedPayment")), body=body,
        )
        self.store.insert(row)
        self.store.set_uses(row.id, uses)
        return row

    def _apply(self, invoice: Row, payment_id: str, payment: dict[str, Any], amount: Decimal) -> None:
        """Record a payment (or, with a negative amount, its removal) on an invoice."""
        applied = parse_decimal(invoice.body.get("AppliedAmount", "0"), "AppliedAmount") - amount
        invoice.body["AppliedAmount"] = money(applied)
        linked = [link for link in invoice.body.get("LinkedTxn", []) if link["TxnID"] != payment_id]
        if amount > 0:
            link = {"TxnID": payment_id, "TxnType": "ReceivePayment", "TxnDate": payment["TxnDate"],
                    "RefNumber": payment.get("RefNumber"), "LinkType": "AMTTYPE", "Amount": money(-amount)}
            linked.append({k: v for k, v in link.items() if v is not None})
        invoice.body["LinkedTxn"] = linked
        self._invoice_totals(invoice)
        self._touch(invoice)
        self.store.update(invoice)

    def txn_delete(self, kind: str, txn_id: str) -> Row:
        """TxnDel: deleting a payment reopens its invoices; deleting an invoice frees the payments applied to it."""
        row = self.get(txn_id, (kind,))
        if row is None:
            raise self.not_found(txn_id)
        if kind == "ReceivePayment":
            for applied in row.body.get("AppliedToTxnRet", []):
                invoice = self.get(applied["TxnID"], ("Invoice",))
                if invoice is not None:
                    self._apply(invoice, row.id, row.body, -parse_decimal(applied["Amount"], "Amount"))
        elif kind == "SalesReceipt":
            self._adjust_inventory(self.all_lines(row.body), +1)
        else:
            self._adjust_inventory(self.all_lines(row.body), +1)
            for link in row.body.get("LinkedTxn", []):
                payment = self.get(link["TxnID"], ("ReceivePayment",))
                if payment is None:
                    continue
                kept = [a for a in payment.body.get("AppliedToTxnRet", []) if a["TxnID"] != row.id]
                freed = -parse_decimal(link["Amount"], "Amount")
                payment.body["AppliedToTxnRet"] = kept
                unused = parse_decimal(payment.body["UnusedPayment"], "UnusedPayment") + freed
                payment.body["UnusedPayment"] = money(unused)
                payment.balance_cents = -to_cents(unused)
                self._touch(payment)
                self.store.update(payment)
                self.store.set_uses(payment.id, [payment.customer_id or "", *(a["TxnID"] for a in kept)])
        self.store.delete(row.id)
        self.store.record_deletion(row, True, self.now())
        return row

    # --- rendering --------------------------------------------------------------------------------------------
    def ret(self, row: Row, *, include_lines: bool = True, include_linked: bool = True,
            names: dict[str, str | None] | None = None) -> dict[str, Any]:
        """The record as its *Ret, in schema order, with references showing current FullNames."""
        names = {} if names is None else names
        body = self._fresh_refs(row.body, names)
        head: dict[str, Any]
        if row.kind in TXN_KINDS:
            head = {"TxnID": row.id, "TimeCreated": self.format_time(row.time_created),
                    "TimeModified": self.format_time(row.time_modified), "EditSequence": row.edit_sequence}
        else:
            head = {"ListID": row.id, "TimeCreated": self.format_time(row.time_created),
                    "TimeModified": self.format_time(row.time_modified), "EditSequence": row.edit_sequence,
                    "Name": body.get("Name", ""), "IsActive": "true" if row.is_active else "false"}
            if row.kind in HIERARCHICAL:
                head["FullName"] = row.full_name
                head["Sublevel"] = str(row.sublevel)
                if row.parent_id:
                    head["ParentRef"] = {"ListID": row.parent_id, "FullName": self._name(row.parent_id, names)}
        if row.kind == "Customer":
            own = self.store.balance_cents([row.id])
            total = self.store.balance_cents([row.id, *(d.id for d in self.store.descendants(row.id))])
            head["Balance"] = money(Decimal(own) / 100)
            head["TotalBalance"] = money(Decimal(total) / 100)
        merged = {**body, **head}
        if not include_lines:
            for key in ("InvoiceLineRet", "InvoiceLineGroupRet", "SalesReceiptLineRet", *DOC_LINE_RETS):
                merged.pop(key, None)
        if not include_linked:
            merged.pop("LinkedTxn", None)
        return {key: merged[key] for key in RET_ORDER[row.kind] if key in merged and merged[key] not in (None, [])}

    def _name(self, record_id: str, names: dict[str, str | None]) -> str | None:
        if record_id not in names:
            row = self.store.get(record_id)
            names[record_id] = row.full_name if row is not None else None
        return names[record_id]

    def _fresh_refs(self, value: Any, names: dict[str, str | None]) -> Any:
        if isinstance(value, list):
            return [self._fresh_refs(v, names) for v in value]
        if not isinstance(value, dict):
            return value
        out = {}
        for key, item in value.items():
            if key in REF_KINDS and isinstance(item, dict) and item.get("ListID"):
                current = self._name(item["ListID"], names)
                out[key] = {"ListID": item["ListID"], "FullName": current if current is not None
                            else item.get("FullName", "")}
            else:
                out[key] = self._fresh_refs(item, names) if isinstance(item, dict | list) else item
        return out


def _period(unit: str, day: date, shift: int) -> tuple[date, date]:
    """The calendar week (from Monday), month, quarter or year containing ``day``, moved by ``shift`` periods."""
    if unit == "Week":
        start = day - timedelta(days=day.weekday()) + timedelta(weeks=shift)
        return start, start + timedelta(days=6)
    months = {"Month": 1, "Quarter": 3, "Year": 12}[unit]
    index = (day.year * 12 + day.month - 1) // months * months + shift * months
    start = date(index // 12, index % 12 + 1, 1)
    end_index = index + months
    return start, date(end_index // 12, end_index % 12 + 1, 1) - timedelta(days=1)


def date_macro(macro: str, today: date) -> tuple[date | None, date | None]:
    """The TxnDate range a DateMacro names (the fiscal year is the calendar year: FirstMonthFiscalYear is January)."""
    if macro == "All":
        return None, None
    if macro == "Today":
        return today, today
    if macro == "Yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if macro == "NextFourWeeks":
        start = _period("Week", today, 1)[0]
        return start, start + timedelta(days=27)
    match = re.fullmatch(r"(This|Last|Next)(Week|Month|CalendarQuarter|FiscalQuarter|CalendarYear|FiscalYear)"
                         r"(ToDate)?", macro)
    if match is None:
        raise QbStatus(531, f'The enum value "{macro}" in the field "DateMacro" is not supported by this '
                            "implementation.")
    which, unit, to_date = match.groups()
    unit = unit.removeprefix("Calendar").removeprefix("Fiscal")
    start, end = _period(unit, today, {"This": 0, "Last": -1, "Next": 1}[which])
    return start, today if to_date else end
