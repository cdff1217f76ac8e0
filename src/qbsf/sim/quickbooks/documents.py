"""Sales orders, estimates, credit memos, bills and changes to received payments, as QuickBooks keeps them.

Each function runs inside the simulator's per-request savepoint, like the rules in
:mod:`qbsf.sim.quickbooks.company`, and reuses its reference, line-pricing and sales-tax rules. What QuickBooks
does, from Intuit's qbXML On-Screen Reference (OSR, developer.intuit.com/app/developer/qbdesktop/docs/api-reference/
qbdesktop/<request>, e.g. …/salesorderadd, …/billadd, …/receivepaymentmod):

- SalesOrder, Estimate, CreditMemo (…/salesorderadd, …/estimateadd, …/creditmemoadd): a customer is required
  (3150); lines are priced from their items (Quantity × Rate, the item's price and description by default); terms
  and the billing address come from the customer; DueDate follows the terms; Subtotal, SalesTaxTotal and
  TotalAmount are computed as on an invoice. A sales order and an estimate are non-posting: they leave the
  customer's balance alone and do not move inventory. A sales order starts with IsManuallyClosed and
  IsFullyInvoiced false and each line with Invoiced 0; closing the order (IsManuallyClosed true) closes every
  line. An estimate starts active (IsActive). A credit memo lowers the customer's balance by its CreditRemaining
  (its total until it is applied) and returns inventory parts to stock.
- *Mod (…/salesordermod, …/estimatemod, …/creditmemomod, …/billmod): header elements replace; when lines are sent,
  the lines sent are the document's lines: a line sent with its TxnLineID is changed, one sent with TxnLineID -1
  is added, and a line left out is deleted (the rule InvoiceMod follows). A TxnLineID that is not on the document
  is 3120.
- Bill (…/billadd): a vendor is required (3150), the Accounts Payable account is the default APAccountRef, terms
  and address come from the vendor and DueDate follows the terms. ExpenseLineAdd charges an account (AccountRef is
  required, 3150); ItemLineAdd buys an item at Cost (the item's purchase cost by default), Amount = Quantity × Cost,
  and raises an inventory part's QuantityOnHand. AmountDue is the sum of the lines, OpenAmount what is left to pay,
  IsPaid whether nothing is; the open amount counts in the vendor's Balance. (Paying a bill, BillPaymentCheckAdd, is
  not modelled: a bill here stays open until it is deleted.)
- ReceivePaymentMod (…/receivepaymentmod): header elements replace; AppliedToTxnMod lists the invoices the payment
  is applied to after the change (an invoice left out is no longer paid by it; PaymentAmount defaults to what was
  applied before, or to the open balance for a newly listed invoice), each invoice's balance is updated, and an
  amount larger than an invoice's balance or a total below what is applied is 3210. The OSR: a change of
  ARAccountRef without AppliedToTxnMod fails.
- TxnDel of any of these records the deletion for TxnDeletedQuery and undoes its effect on stock and balances.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsf.sim.quickbooks.company import (
    _MOD_INSTRUCTIONS,
    ITEM_KINDS,
    REF_KINDS,
    TERMS_KINDS,
    Company,
    QbStatus,
    cleared,
    latin1,
    money,
    ordered,
    parse_decimal,
    to_cents,
    unsupported,
)
from qbsf.sim.quickbooks.doc_schema import DOC_LINES
from qbsf.sim.quickbooks.schema import RET_ORDER, SUB_ORDER
from qbsf.sim.quickbooks.store import Row

SALES_DOCUMENTS = ("SalesOrder", "Estimate", "CreditMemo")
# A sales receipt is added by company.sales_receipt_add (as an invoice is); only its Mod is served here.
_LINES = {**DOC_LINES, "SalesReceipt": (("SalesReceiptLineAdd", "SalesReceiptLineMod", "SalesReceiptLineRet"),)}
_LINE_TAGS = {tag for shapes in _LINES.values() for add, mod, _ in shapes for tag in (add, mod)}
_READABLE = {"SalesOrder": "Sales Order", "Estimate": "Estimate", "CreditMemo": "Credit Memo", "Bill": "Bill",
             "SalesReceipt": "Sales Receipt"}


def add(company: Company, kind: str, data: dict[str, Any], warnings: list[QbStatus]) -> Row:
    """SalesOrderAdd, EstimateAdd, CreditMemoAdd, BillAdd."""
    data = latin1(data)
    company.check_limits(kind, data)
    stamp = company.now()
    uses: list[str] = []
    body, party, terms = _header(company, kind, data, {}, warnings, uses)
    party_ref = "VendorRef" if kind == "Bill" else "CustomerRef"
    if party is None:
        raise QbStatus(3150, f'There is a missing element: "{party_ref}".')
    if terms is None and party.body.get("TermsRef"):
        body["TermsRef"] = party.body["TermsRef"]
        terms = company.get(party.body["TermsRef"]["ListID"], TERMS_KINDS)
    address = "VendorAddress" if kind == "Bill" else "BillAddress"
    if address not in body and party.body.get(address):
        body[address] = party.body[address]
    if kind == "Bill" and "APAccountRef" not in body:
        account = company.default_account("AccountsPayable")
        body["APAccountRef"] = {"ListID": account.id, "FullName": account.full_name or ""}
    if kind == "CreditMemo" and "ARAccountRef" not in body:
        account = company.default_account("AccountsReceivable")
        body["ARAccountRef"] = {"ListID": account.id, "FullName": account.full_name or ""}
    txn_date = company.parse_date(body["TxnDate"], "TxnDate") if "TxnDate" in body else company.today()
    body["TxnDate"] = txn_date.isoformat()
    if "DueDate" not in body:
        body["DueDate"] = company._due_date(txn_date, terms).isoformat()
    if "RefNumber" not in body and kind != "Bill":
        # A bill's RefNumber is the vendor's invoice number: QuickBooks leaves it empty unless it is typed.
        body["RefNumber"] = company.next_ref_number(kind)
    if body.get("RefNumber"):
        company.store.set_meta(f"last_ref:{kind}", body["RefNumber"])
    body["TxnNumber"] = str(company.store.next_counter("txn_number"))
    if kind == "SalesOrder":
        body.setdefault("IsManuallyClosed", "false")
        body["IsFullyInvoiced"] = "false"
    if kind == "Estimate":
        body.setdefault("IsActive", "true")
    if kind in ("SalesOrder", "CreditMemo"):
        body.setdefault("IsToBePrinted", "false")
    if kind in SALES_DOCUMENTS:
        body.setdefault("IsToBeEmailed", "false")
        company._sales_tax(body, party)
    if kind == "CreditMemo":
        body.setdefault("IsPending", "false")
    for add_tag, _, ret_tag in DOC_LINES[kind]:
        body[ret_tag] = [_line(company, kind, ret_tag, line, warnings, uses, stamp) for line in data.get(add_tag, [])]
    if body.get("IsManuallyClosed") == "true":
        for line in body.get("SalesOrderLineRet", []):
            line["IsManuallyClosed"] = "true"  # an order saved closed has every line closed
    row = Row(
        id=company.new_txn_id(stamp), kind=kind, seq=company.store.next_counter("seq"), namespace=None,
        name_key=None, full_name=None, parent_id=None, sublevel=0, is_active=True, time_created=stamp,
        time_modified=stamp, edit_sequence=company.next_edit_sequence(None, stamp), customer_id=party.id,
        ref_number=body.get("RefNumber"), txn_date=body["TxnDate"], balance_cents=0, body=body,
    )
    _totals(company, row)
    company.store.insert(row)
    company.store.set_uses(row.id, uses)
    _stock(company, row, +1)
    _vendor_balance(company, row.customer_id if kind == "Bill" else None)
    return row


def mod(company: Company, kind: str, data: dict[str, Any], warnings: list[QbStatus], *,
        check_sequence: bool = True) -> Row:
    """SalesOrderMod, EstimateMod, CreditMemoMod, BillMod, SalesReceiptMod (…/salesreceiptmod: a sales receipt
    can be modified since qbXML 5.0; its lines follow InvoiceMod's rule and its money stays in its deposit
    account)."""
    data = latin1(data)
    row = company.get(data.get("TxnID", ""), (kind,))
    if row is None:
        raise company.not_found(data.get("TxnID", ""))
    if check_sequence:
        company.check_edit_sequence(row, data.get("EditSequence"))
    company.check_limits(kind, data)
    stamp = company.now()
    uses: list[str] = []
    _stock(company, row, -1)
    old_party = row.customer_id
    body, party, _ = _header(company, kind, data, dict(row.body), warnings, uses)
    if party is not None:
        row.customer_id = party.id
    for _, mod_tag, ret_tag in _LINES[kind]:
        if mod_tag not in data:
            continue
        existing = {line["TxnLineID"]: line for line in body.get(ret_tag, [])}
        lines = []
        for line_mod in data[mod_tag]:
            line_id = line_mod.get("TxnLineID", "-1")
            if line_id != "-1" and line_id not in existing:
                raise company.not_found(line_id)
            lines.append(_line(company, kind, ret_tag, line_mod, warnings, uses, stamp,
                               None if line_id == "-1" else line_id, existing.get(line_id)))
        body[ret_tag] = lines
    if kind == "SalesOrder" and data.get("IsManuallyClosed") in ("true", "false"):
        # Closing (or reopening) the order closes (or reopens) every line (OSR SalesOrderMod IsManuallyClosed).
        for line in body.get("SalesOrderLineRet", []):
            line["IsManuallyClosed"] = data["IsManuallyClosed"]
    if ("TermsRef" in data or "TxnDate" in data) and "DueDate" not in data and body.get("TermsRef"):
        terms = company.get(body["TermsRef"]["ListID"], TERMS_KINDS)
        body["DueDate"] = company._due_date(company.parse_date(body["TxnDate"], "TxnDate"), terms).isoformat()
    row.body = body
    row.ref_number = body.get("RefNumber")
    row.txn_date = body.get("TxnDate")
    _totals(company, row)
    company._touch(row)
    company.store.update(row)
    company.store.set_uses(row.id, company._references(row))
    _stock(company, row, +1)
    if kind == "Bill":
        _vendor_balance(company, old_party)
        _vendor_balance(company, row.customer_id)
    return row


def delete(company: Company, kind: str, txn_id: str) -> Row:
    """TxnDel of a sales order, estimate, credit memo or bill: recorded for TxnDeletedQuery."""
    row = company.get(txn_id, (kind,))
    if row is None:
        raise company.not_found(txn_id)
    _stock(company, row, -1)
    company.store.delete(row.id)
    company.store.record_deletion(row, True, company.now())
    _vendor_balance(company, row.customer_id if kind == "Bill" else None)
    return row


def payment_mod(company: Company, data: dict[str, Any], warnings: list[QbStatus], *,
                check_sequence: bool = True) -> Row:
    """ReceivePaymentMod: header elements replace; AppliedToTxnMod re-applies the payment (see the module text)."""
    data = latin1(data)
    row = company.get(data.get("TxnID", ""), ("ReceivePayment",))
    if row is None:
        raise company.not_found(data.get("TxnID", ""))
    if check_sequence:
        company.check_edit_sequence(row, data.get("EditSequence"))
    company.check_limits("ReceivePayment", data)
    if "ARAccountRef" in data and "AppliedToTxnMod" not in data:
        # OSR ReceivePaymentMod, "Changing the A/R account": without AppliedToTxnMod the request fails.
        raise QbStatus(3210, 'The "ARAccountRef" field has an invalid value. QuickBooks error message: The A/R '
                             "account of a payment can change only together with AppliedToTxnMod.")
    body = dict(row.body)
    customer = company.store.get(row.customer_id or "")
    for key, value in data.items():
        if key in _MOD_INSTRUCTIONS or key == "AppliedToTxnMod":
            continue
        if key in REF_KINDS:
            body[key], found = company.resolve(key, value, "ReceivePayment")
            if key == "CustomerRef" and found is not None:
                customer = found
        elif key in RET_ORDER["ReceivePayment"]:
            value = cleared(value)
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        else:
            warnings.append(unsupported(key))
    if customer is None:
        raise QbStatus(3150, 'There is a missing element: "CustomerRef".')
    before = {applied["TxnID"]: parse_decimal(applied["Amount"], "Amount")
              for applied in row.body.get("AppliedToTxnRet", [])}
    if "AppliedToTxnMod" in data:
        wanted = [(applied.get("TxnID", ""), applied.get("PaymentAmount")) for applied in data["AppliedToTxnMod"]]
        # A credit applied by a Mod (SetCredit) or a discount is not modelled here: said, never silently dropped.
        warnings.extend(unsupported(f"AppliedToTxnMod/{key}") for applied in data["AppliedToTxnMod"]
                        for key in applied if key not in ("TxnID", "PaymentAmount"))
    elif customer.id != row.customer_id:
        wanted = []  # another customer's payment no longer pays this customer's invoices
    else:
        wanted = [(txn_id, None) for txn_id in before]
    # Undo the applications, then apply the payment as the request now describes it.
    for txn_id, amount in before.items():
        invoice = company.get(txn_id, ("Invoice",))
        if invoice is not None:
            company._apply(invoice, row.id, body, -amount)
    applied_rets = []
    applied_total = Decimal(0)
    uses = [customer.id]
    for txn_id, given in wanted:
        invoice = company.get(txn_id, ("Invoice",))
        if invoice is None or invoice.customer_id != customer.id:
            raise QbStatus(3140, f'There is an invalid reference to QuickBooks Invoice "{txn_id}" in the '
                                 "ReceivePayment. QuickBooks error message: The transaction is not an open invoice "
                                 "of this customer.")
        balance = Decimal(invoice.balance_cents) / 100
        amount = parse_decimal(given, "PaymentAmount") if given is not None else before.get(txn_id, balance)
        if amount > balance:
            raise QbStatus(3210, f'The "PaymentAmount" field has an invalid value "{money(amount)}". QuickBooks '
                                 f"error message: The amount applied exceeds the balance ({money(balance)}) of "
                                 f"invoice {invoice.ref_number}.")
        company._apply(invoice, row.id, body, amount)
        uses.append(invoice.id)
        applied_total += amount
        applied = {"TxnID": invoice.id, "TxnType": "Invoice", "TxnDate": invoice.body["TxnDate"],
                   "RefNumber": invoice.body.get("RefNumber"), "BalanceRemaining": invoice.body["BalanceRemaining"],
                   "Amount": money(amount)}
        applied_rets.append(ordered({k: v for k, v in applied.items() if v is not None}, SUB_ORDER["AppliedToTxnRet"]))
    total = parse_decimal(body.get("TotalAmount", "0"), "TotalAmount")
    if applied_total > total:
        raise QbStatus(3210, f'The "TotalAmount" field has an invalid value "{money(total)}". QuickBooks error '
                             f"message: The amounts applied ({money(applied_total)}) exceed the payment.")
    body["TotalAmount"] = money(total)
    body["UnusedPayment"] = money(total - applied_total)
    body["AppliedToTxnRet"] = applied_rets
    row.body = body
    row.customer_id = customer.id
    row.ref_number = body.get("RefNumber")
    row.txn_date = body.get("TxnDate")
    row.balance_cents = -to_cents(total - applied_total)
    company._touch(row)
    company.store.update(row)
    company.store.set_uses(row.id, [*uses, *company._references(row)])
    return row


# --- rules shared by the documents -----------------------------------------------------------------------------
def _header(company: Company, kind: str, data: dict[str, Any], body: dict[str, Any], warnings: list[QbStatus],
            uses: list[str]) -> tuple[dict[str, Any], Row | None, Row | None]:
    """The header elements of an Add or Mod merged into ``body``: (body, customer or vendor, terms)."""
    party: Row | None = None
    terms: Row | None = None
    party_ref = "VendorRef" if kind == "Bill" else "CustomerRef"
    for key, value in data.items():
        if key in _MOD_INSTRUCTIONS or key in _LINE_TAGS:
            continue
        if key in REF_KINDS:
            body[key], found = company.resolve(key, value, _READABLE[kind])
            if found is not None:
                uses.append(found.id)
                party = found if key == party_ref else party
                terms = found if key == "TermsRef" else terms
        elif key in RET_ORDER[kind] and key not in ("TxnID", "TxnNumber", "TimeCreated", "TimeModified",
                                                   "EditSequence"):
            if isinstance(value, dict) and key in SUB_ORDER:
                value = ordered({**body.get(key, {}), **value}, SUB_ORDER[key])
            value = cleared(value)
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        else:
            warnings.append(unsupported(key))
    return body, party, terms


def _line(company: Company, kind: str, shape: str, data: dict[str, Any], warnings: list[QbStatus],
          uses: list[str], stamp: int, line_id: str | None = None, existing: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    if shape == "ExpenseLineRet":
        line = _expense_line(company, data, warnings, uses, stamp, line_id, existing)
    elif shape == "ItemLineRet":
        line = _item_line(company, data, warnings, uses, stamp, line_id, existing)
    else:
        line = company._line(data, warnings, uses, stamp, line_id, existing, shape=shape)
    if shape == "SalesOrderLineRet":
        line.setdefault("Invoiced", "0")
        line.setdefault("IsManuallyClosed", "false")
    return ordered(line, SUB_ORDER[shape])


def _expense_line(company: Company, data: dict[str, Any], warnings: list[QbStatus], uses: list[str], stamp: int,
                  line_id: str | None, existing: dict[str, Any] | None) -> dict[str, Any]:
    """An ExpenseLineRet: an amount charged to an account (the account is required, as on QuickBooks' form)."""
    line: dict[str, Any] = dict(existing or {})
    line["TxnLineID"] = line_id or company.new_line_id(stamp)
    for key, value in data.items():
        if key == "TxnLineID":
            continue
        if key in REF_KINDS:
            line[key], found = company.resolve(key, value, "Bill", line=True)
            if found is not None:
                uses.append(found.id)
        elif key == "Amount":
            line[key] = money(parse_decimal(value, key))
        elif key in SUB_ORDER["ExpenseLineRet"]:
            line[key] = value
        else:
            warnings.append(unsupported(key))
    if not line.get("AccountRef"):
        raise QbStatus(3150, 'There is a missing element: "AccountRef" (an expense line charges an account).')
    line.setdefault("Amount", "0.00")
    return line


def _item_line(company: Company, data: dict[str, Any], warnings: list[QbStatus], uses: list[str], stamp: int,
               line_id: str | None, existing: dict[str, Any] | None) -> dict[str, Any]:
    """An ItemLineRet: an item bought at Cost (the item's purchase cost unless given), Amount = Quantity × Cost."""
    line: dict[str, Any] = dict(existing or {})
    line["TxnLineID"] = line_id or company.new_line_id(stamp)
    item: Row | None = None
    for key, value in data.items():
        if key == "TxnLineID":
            continue
        if key in REF_KINDS:
            line[key], found = company.resolve(key, value, "Bill", line=True)
            if found is not None:
                uses.append(found.id)
                item = found if key == "ItemRef" else item
        elif key in SUB_ORDER["ItemLineRet"]:
            line[key] = value
        else:
            warnings.append(unsupported(key))
    if item is None and line.get("ItemRef"):
        item = company.get(line["ItemRef"]["ListID"], ITEM_KINDS)
    if item is not None:
        prices = item.body.get("SalesAndPurchase") or item.body.get("SalesOrPurchase") or item.body
        if "Desc" not in line and (prices.get("PurchaseDesc") or prices.get("Desc")):
            line["Desc"] = prices.get("PurchaseDesc") or prices.get("Desc")
        if "Cost" not in line and (prices.get("PurchaseCost") or prices.get("Price")):
            line["Cost"] = prices.get("PurchaseCost") or prices.get("Price")
    if "Amount" in data:
        line["Amount"] = money(parse_decimal(data["Amount"], "Amount"))
    elif "Cost" in data or "Quantity" in data or existing is None:
        quantity = parse_decimal(line.get("Quantity", "1"), "Quantity")
        line["Amount"] = money(quantity * parse_decimal(line.get("Cost", "0"), "Cost"))
    return line


def _totals(company: Company, row: Row) -> None:
    body = row.body
    if row.kind == "Bill":
        due = sum((parse_decimal(line.get("Amount", "0"), "Amount")
                   for shape in ("ExpenseLineRet", "ItemLineRet") for line in body.get(shape, [])), Decimal(0))
        paid = sum((-parse_decimal(link.get("Amount", "0"), "Amount") for link in body.get("LinkedTxn", [])),
                   Decimal(0))
        body["AmountDue"] = money(due)
        body["OpenAmount"] = money(due - paid)
        body["IsPaid"] = "true" if due - paid <= 0 else "false"
        row.balance_cents = to_cents(due - paid)
        return
    shape = _LINES[row.kind][0][2]
    lines = body.get(shape, [])
    subtotal = sum((parse_decimal(line.get("Amount", "0"), "Amount") for line in lines), Decimal(0))
    # The invoice's tax rule, over this document's lines (a sales receipt's lines are taxed as they stand).
    rate, tax = company._tax_total(body if shape == "SalesReceiptLineRet" else {**body, "InvoiceLineRet": lines})
    body["Subtotal"] = money(subtotal)
    body["SalesTaxPercentage"] = money(rate)
    body["SalesTaxTotal"] = money(tax)
    body["TotalAmount"] = money(subtotal + tax)
    if row.kind == "CreditMemo":
        used = sum((-parse_decimal(link.get("Amount", "0"), "Amount") for link in body.get("LinkedTxn", [])),
                   Decimal(0))
        body["CreditRemaining"] = money(subtotal + tax - used)
        row.balance_cents = -to_cents(subtotal + tax - used)  # a credit lowers what the customer owes
    if row.kind == "SalesOrder":
        if lines:  # the order is closed when every line is (OSR SalesOrderRet IsManuallyClosed)
            closed = all(line.get("IsManuallyClosed") == "true" for line in lines)
            body["IsManuallyClosed"] = "true" if closed else "false"
        body["IsFullyInvoiced"] = "true" if lines and all(
            parse_decimal(line.get("Invoiced", "0"), "Invoiced") >= parse_decimal(line.get("Quantity", "1"),
                                                                                   "Quantity")
            for line in lines if line.get("ItemRef")) and any(line.get("ItemRef") for line in lines) else "false"
    if row.kind == "Estimate":
        row.is_active = body.get("IsActive", "true") != "false"


def _stock(company: Company, row: Row, sign: int) -> None:
    """A credit memo returns parts to stock and a bill's item lines buy them (``sign`` -1 undoes that)."""
    if row.kind == "CreditMemo":
        company._adjust_inventory(row.body.get("CreditMemoLineRet", []), sign)
    elif row.kind == "Bill":
        company._adjust_inventory(row.body.get("ItemLineRet", []), sign)
    elif row.kind == "SalesReceipt":  # a sale takes parts out of stock
        company._adjust_inventory(row.body.get("SalesReceiptLineRet", []), -sign)


def _vendor_balance(company: Company, vendor_id: str | None) -> None:
    """A vendor's Balance is what its open bills still owe (a bill does not change the vendor's TimeModified)."""
    vendor = company.get(vendor_id or "", ("Vendor",))
    if vendor is None:
        return
    vendor.body["Balance"] = money(Decimal(company.store.balance_cents([vendor.id])) / 100)
    company.store.update(vendor)
