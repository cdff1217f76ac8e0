"""Transactions that settle or draw on others: bills paid by check, invoices made from sales orders and estimates,
credit memos applied to invoices.

Each function runs inside the simulator's per-request savepoint, like the rules in :mod:`qbsf.sim.quickbooks.company`
and :mod:`qbsf.sim.quickbooks.documents`. What QuickBooks does, from Intuit's qbXML On-Screen Reference (OSR,
developer.intuit.com/app/developer/qbdesktop/docs/api-reference/qbdesktop/<request>):

- BillPaymentCheckAdd (…/billpaymentcheckadd): a check written to a vendor (PayeeEntityRef, a Vendor) from a bank
  account (BankAccountRef) that pays that vendor's bills. Each AppliedToTxnAdd names a bill of that vendor and
  must carry a PaymentAmount (or a credit or discount; the SDK refuses an application with none of them); the amount
  may not exceed what is still open on the bill. The check's Amount is the sum applied; APAccountRef defaults to
  the company's Accounts Payable account and Address to the vendor's address. Each bill paid gains a LinkedTxn to
  the check, its OpenAmount falls and IsPaid turns true when nothing is left (…/billquery, BillRet IsPaid,
  OpenAmount); the vendor's Balance falls by the amount paid. TxnDel of the check reopens its bills.
- InvoiceAdd with LinkToTxnID or an InvoiceLineAdd carrying LinkToTxn (…/invoiceadd; …/salesorderadd: a sales
  order "can be converted into an invoice (by linking the invoice to the sales order)"): the invoice is linked to a
  sales order or estimate of the same customer. LinkToTxnID links the whole transaction: its open lines are copied
  onto the invoice (what is left to invoice on a sales order line, every estimate line). LinkToTxn links one line
  (TxnID + TxnLineID): the item, description and rate come from that line unless the InvoiceLineAdd gives them,
  the quantity is what is left to invoice unless given. Each sales order line's Invoiced grows by the quantity
  invoiced and the order is IsFullyInvoiced when every item line is (…/salesorderquery, SalesOrderRet
  IsFullyInvoiced, SalesOrderLineRet Invoiced); both transactions list each other in LinkedTxn (LinkType
  QUANTYPE). An estimate keeps IsActive: invoicing it changes its balance only under progress invoicing, which a new
  company has off (QuickBooks Desktop help, "Determine whether an estimate has been invoiced",
  support.quickbooks.intuit.com/…/Estimates/task_has_est_been_invoiced.html). A linked line of a closed or fully
  invoiced sales order, or of another customer's transaction, is refused. Deleting the invoice gives the quantities
  back to the order.
- ReceivePaymentAdd with SetCredit inside an AppliedToTxnAdd (…/creditmemoadd: "The CreditMemo doesn't actually
  get applied until it is referenced in a ReceivePayment transaction inside the SetCredit aggregate"; …/
  receivepaymentadd): CreditTxnID names a credit memo of the customer, AppliedAmount how much of its
  CreditRemaining goes to that invoice. The invoice's balance falls by the credit as well as by the payment
  (PaymentAmount may then be 0), the credit memo's CreditRemaining falls, and the invoice, the credit memo and the
  payment's AppliedToTxnRet list the link (LinkType AMTTYPE). More credit than remains on the memo, or payment plus
  credits above the invoice's balance, is 3210. TxnDel of the payment, the invoice or the credit memo undoes the
  application.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsf.sim.quickbooks import documents
from qbsf.sim.quickbooks.company import Company, QbStatus, latin1, money, ordered, parse_decimal, unsupported
from qbsf.sim.quickbooks.doc_schema import DOC_KINDS
from qbsf.sim.quickbooks.schema import SUB_ORDER
from qbsf.sim.quickbooks.store import Row

_LINE_SHAPES = {"SalesOrder": "SalesOrderLineRet", "Estimate": "EstimateLineRet"}
_COPIED = ("ItemRef", "Desc", "Rate", "RatePercent", "ClassRef", "SalesTaxCodeRef", "Other1", "Other2")


# --- bills paid by check ------------------------------------------------------------------------------------------
def bill_payment_add(company: Company, data: dict[str, Any], warnings: list[QbStatus]) -> Row:
    """BillPaymentCheckAdd: a check that pays bills of one vendor (see the module text)."""
    data = latin1(data)
    company.check_limits("BillPaymentCheck", data)
    stamp = company.now()
    body: dict[str, Any] = {}
    uses: list[str] = []
    vendor: Row | None = None
    for key, value in data.items():
        if key == "AppliedToTxnAdd":
            continue
        if key == "PayeeEntityRef":
            vendor = company.find(value, ("Vendor",)) if isinstance(value, dict) else None
            if vendor is None:
                shown = value.get("ListID") or value.get("FullName") if isinstance(value, dict) else value
                raise QbStatus(3140, f'There is an invalid reference to QuickBooks Vendor "{shown}" in the Bill '
                                     "Payment. QuickBooks error message: Invalid argument. The specified record does "
                                     "not exist in the list.")
            body[key] = {"ListID": vendor.id, "FullName": vendor.full_name or ""}
            uses.append(vendor.id)
        elif key in ("APAccountRef", "BankAccountRef"):
            body[key], found = company.resolve("APAccountRef", value, "Bill Payment")
            if found is not None:
                uses.append(found.id)
                wanted = "AccountsPayable" if key == "APAccountRef" else "Bank"
                if found.body.get("AccountType") != wanted:
                    raise QbStatus(3140, f'There is an invalid reference to QuickBooks Account "{found.full_name}" '
                                         f'in the Bill Payment: "{key}" must name an account of type {wanted}.')
        elif key in ("TxnDate", "RefNumber", "Memo", "IsToBePrinted", "ExchangeRate", "ExternalGUID"):
            body[key] = value
        else:
            warnings.append(unsupported(key))
    if vendor is None:
        raise QbStatus(3150, 'There is a missing element: "PayeeEntityRef".')
    if "BankAccountRef" not in body:
        raise QbStatus(3150, 'There is a missing element: "BankAccountRef".')
    if "APAccountRef" not in body:
        body["APAccountRef"] = company._ref_to(company.default_account("AccountsPayable"))
    txn_date = company.parse_date(body["TxnDate"], "TxnDate") if "TxnDate" in body else company.today()
    body["TxnDate"] = txn_date.isoformat()
    if vendor.body.get("VendorAddress"):
        body["Address"] = vendor.body["VendorAddress"]
    body["TxnNumber"] = str(company.store.next_counter("txn_number"))
    txn_id = company.new_txn_id(stamp)
    paid: list[tuple[Row, Decimal]] = []
    for applied in data.get("AppliedToTxnAdd", []):
        bill = company.get(applied.get("TxnID", ""), ("Bill",))
        if bill is None or bill.customer_id != vendor.id:
            raise QbStatus(3140, f'There is an invalid reference to QuickBooks Bill "{applied.get("TxnID")}" in the '
                                 "Bill Payment. QuickBooks error message: The transaction is not an open bill of "
                                 "this vendor.")
        if "PaymentAmount" not in applied:
            raise QbStatus(3150, 'There is a missing element: "PaymentAmount" (a bill payment applies an amount to '
                                 "each bill).")
        for key in applied:
            if key not in ("TxnID", "PaymentAmount"):
                warnings.append(unsupported(f"AppliedToTxnAdd/{key}"))
        amount = parse_decimal(applied["PaymentAmount"], "PaymentAmount")
        open_amount = Decimal(bill.balance_cents) / 100
        if amount <= 0 or amount > open_amount:
            raise QbStatus(3210, f'The "PaymentAmount" field has an invalid value "{money(amount)}". QuickBooks error '
                                 f"message: The amount paid must be above zero and at most what is open "
                                 f"({money(open_amount)}) on bill {bill.ref_number or bill.id}.")
        paid.append((bill, amount))
    if not paid:
        raise QbStatus(3150, 'There is a missing element: "AppliedToTxnAdd".')
    applied_rets = []
    for bill, amount in paid:
        _link_bill(company, bill, txn_id, body, amount)
        uses.append(bill.id)
        applied_rets.append(_applied_ret(bill, "Bill", amount, bill.body["OpenAmount"]))
    body["Amount"] = money(sum((amount for _, amount in paid), Decimal(0)))
    body["AppliedToTxnRet"] = applied_rets
    row = Row(
        id=txn_id, kind="BillPaymentCheck", seq=company.store.next_counter("seq"), namespace=None, name_key=None,
        full_name=None, parent_id=None, sublevel=0, is_active=True, time_created=stamp, time_modified=stamp,
        edit_sequence=company.next_edit_sequence(None, stamp), customer_id=vendor.id,
        ref_number=body.get("RefNumber"), txn_date=body["TxnDate"], balance_cents=0, body=body,
    )
    company.store.insert(row)
    company.store.set_uses(row.id, uses)
    documents._vendor_balance(company, vendor.id)
    return row


def _link_bill(company: Company, bill: Row, payment_id: str, payment: dict[str, Any], amount: Decimal) -> None:
    """Record a check (or, with a negative amount, its removal) on a bill: LinkedTxn, OpenAmount, IsPaid."""
    linked = [link for link in bill.body.get("LinkedTxn", []) if link["TxnID"] != payment_id]
    if amount > 0:
        linked.append(_link(payment_id, "BillPaymentCheck", payment, "AMTTYPE", -amount))
    bill.body["LinkedTxn"] = linked
    documents._totals(company, bill)
    company._touch(bill)  # the bill's paid state changed, as an invoice's does when a payment is applied
    company.store.update(bill)


# --- invoices made from sales orders and estimates -----------------------------------------------------------------
def invoice_add(company: Company, data: dict[str, Any], warnings: list[QbStatus]) -> Row:
    """InvoiceAdd, with LinkToTxnID and InvoiceLineAdd/LinkToTxn (see the module text); SetCredit is not modelled."""
    data = dict(data)
    whole = data.pop("LinkToTxnID", [])
    customer = company.find(data.get("CustomerRef") or {}, ("Customer",))
    links: list[tuple[Row, str, Decimal]] = []  # (source transaction, its line, quantity invoiced)
    copied: list[dict[str, Any]] = []
    for txn_id in whole:
        source = _source(company, txn_id, customer)
        for line in source.body.get(_LINE_SHAPES[source.kind], []):
            if not line.get("ItemRef"):
                continue
            left = _open_quantity(source, line)
            if left <= 0:
                continue
            copied.append({**{key: line[key] for key in _COPIED if key in line}, "Quantity": _number(left)})
            links.append((source, line["TxnLineID"], left))
    lines = []
    linked_positions: list[int] = []  # where, among the invoice's lines, each LinkToTxn line stands
    for line in data.get("InvoiceLineAdd", []):
        link = line.get("LinkToTxn")
        if not isinstance(link, dict):
            lines.append(line)
            continue
        linked_positions.append(len(copied) + len(lines))
        source = _source(company, link.get("TxnID", ""), customer)
        source_line = next((x for x in source.body.get(_LINE_SHAPES[source.kind], [])
                            if x["TxnLineID"] == link.get("TxnLineID")), None)
        if source_line is None:
            raise company.not_found(link.get("TxnLineID", ""))
        given = {key: value for key, value in line.items() if key != "LinkToTxn"}
        left = _open_quantity(source, source_line)
        quantity = parse_decimal(given["Quantity"], "Quantity") if "Quantity" in given else left
        if source.kind == "SalesOrder" and (quantity > left or left <= 0):
            raise QbStatus(3210, f'The "Quantity" field has an invalid value "{_number(quantity)}". QuickBooks error '
                                 f"message: Only {_number(max(left, Decimal(0)))} remain to be invoiced on line "
                                 f"{source_line['TxnLineID']} of sales order {source.ref_number}.")
        lines.append({**{key: source_line[key] for key in _COPIED if key in source_line}, **given,
                      "Quantity": _number(quantity)})
        links.append((source, source_line["TxnLineID"], quantity))
    if copied or links:
        data["InvoiceLineAdd"] = [*copied, *lines]
        if "_line_order" in data:
            data["_line_order"] = ["line"] * len(copied) + data["_line_order"]
    invoice = company.invoice_add(data, warnings)
    if not links:
        return invoice
    line_ids = [line["TxnLineID"] for line in invoice.body["InvoiceLineRet"]]
    own_ids = [*line_ids[:len(copied)], *(line_ids[position] for position in linked_positions)]
    by_line = {line["TxnLineID"]: line for line in invoice.body["InvoiceLineRet"]}
    recorded = []
    amounts: dict[str, Decimal] = {}
    for (source, source_line, quantity), own in zip(links, own_ids, strict=True):
        recorded.append({"txn": source.id, "line": source_line, "qty": _number(quantity), "own": own})
        amount = parse_decimal(by_line[own].get("Amount", "0"), "Amount")
        amounts[source.id] = amounts.get(source.id, Decimal(0)) + amount
    invoice.body["_links"] = recorded
    for source_id, amount in amounts.items():
        source = company.store.get(source_id)
        if source is not None:
            invoice.body.setdefault("LinkedTxn", []).append(
                _link(source.id, source.kind, source.body, "QUANTYPE", amount))
    company.store.update(invoice)
    _move_invoiced(company, invoice, recorded, +1, amounts)
    return invoice


def invoice_mod(company: Company, data: dict[str, Any], warnings: list[QbStatus], *,
                check_sequence: bool = True) -> Row:
    """InvoiceMod of an invoice made from sales orders: a linked line deleted from the invoice gives its quantity back
    to the order, a changed quantity moves the order's Invoiced by the difference (OSR InvoiceMod: the lines sent are
    the invoice's lines)."""
    invoice = company.invoice_mod(data, warnings, check_sequence=check_sequence)
    recorded = invoice.body.get("_links", [])
    if not recorded:
        return invoice
    lines = {line["TxnLineID"]: line for line in invoice.body.get("InvoiceLineRet", [])}
    kept, given_back = [], []
    for link in recorded:
        line = lines.get(link.get("own") or "")
        if line is None:
            given_back.append(link)
            continue
        quantity = parse_decimal(line.get("Quantity", "1"), "Quantity")
        before = parse_decimal(link["qty"], "Quantity")
        if quantity != before:
            given_back.append({**link, "qty": _number(before - quantity)})
            link = {**link, "qty": _number(quantity)}
        kept.append(link)
    if given_back:
        invoice.body["_links"] = kept
        company.store.update(invoice)
        _move_invoiced(company, invoice, given_back, -1, still_linked=frozenset(link["txn"] for link in kept))
        if {link["txn"] for link in recorded} - {link["txn"] for link in kept}:
            gone = {link["txn"] for link in recorded} - {link["txn"] for link in kept}
            invoice.body["LinkedTxn"] = [x for x in invoice.body.get("LinkedTxn", []) if x["TxnID"] not in gone]
            company.store.update(invoice)
    return invoice


def _source(company: Company, txn_id: str, customer: Row | None) -> Row:
    source = company.get(txn_id, tuple(_LINE_SHAPES))
    if source is None:
        raise QbStatus(3140, f'There is an invalid reference to QuickBooks transaction "{txn_id}" in the Invoice. '
                             "QuickBooks error message: Only a sales order or an estimate can be linked to an "
                             "invoice.")
    if customer is not None and source.customer_id != customer.id:
        raise QbStatus(3140, f'There is an invalid reference to QuickBooks transaction "{txn_id}" in the Invoice. '
                             "QuickBooks error message: The transaction belongs to another customer.")
    if source.kind == "SalesOrder" and (source.body.get("IsManuallyClosed") == "true"
                                        or source.body.get("IsFullyInvoiced") == "true"):
        raise QbStatus(3210, f'The "LinkToTxnID" field has an invalid value "{txn_id}". QuickBooks error message: '
                             f"Sales order {source.ref_number} is closed or fully invoiced.")
    return source


def _open_quantity(source: Row, line: dict[str, Any]) -> Decimal:
    quantity = parse_decimal(line.get("Quantity", "1"), "Quantity")
    if source.kind != "SalesOrder":
        return quantity
    if line.get("IsManuallyClosed") == "true":
        return Decimal(0)
    return quantity - parse_decimal(line.get("Invoiced", "0"), "Invoiced")


def _move_invoiced(company: Company, invoice: Row, links: list[dict[str, Any]], sign: int,
                   amounts: dict[str, Decimal] | None = None, still_linked: frozenset[str] = frozenset()) -> None:
    """Add (``sign`` +1) or give back (-1) the quantities an invoice took from its sales orders and estimates; a
    transaction in ``still_linked`` keeps its link to the invoice."""
    touched: dict[str, Row] = {}
    for link in links:
        source = touched.get(link["txn"]) or company.store.get(link["txn"])
        if source is None:
            continue  # the order was deleted since: nothing to give back
        touched[source.id] = source
        if source.kind != "SalesOrder":
            continue
        for line in source.body.get("SalesOrderLineRet", []):
            if line["TxnLineID"] == link["line"]:
                invoiced = parse_decimal(line.get("Invoiced", "0"), "Invoiced") + sign * parse_decimal(link["qty"],
                                                                                                      "Quantity")
                line["Invoiced"] = _number(max(invoiced, Decimal(0)))
    for source in touched.values():
        if source.id in still_linked:
            linked = list(source.body.get("LinkedTxn", []))
        else:
            linked = [link for link in source.body.get("LinkedTxn", []) if link["TxnID"] != invoice.id]
        if sign > 0 and amounts is not None:
            linked.append(_link(invoice.id, "Invoice", invoice.body, "QUANTYPE", amounts.get(source.id, Decimal(0))))
        source.body["LinkedTxn"] = linked
        documents._totals(company, source)
        company._touch(source)
        company.store.update(source)


# --- credit memos applied to invoices --------------------------------------------------------------------------------
def payment_add(company: Company, data: dict[str, Any], warnings: list[QbStatus]) -> Row:
    """ReceivePaymentAdd, with SetCredit inside AppliedToTxnAdd (see the module text)."""
    data = dict(data)
    credits: list[tuple[str, str, Decimal]] = []  # (invoice, credit memo, amount)
    applied_list = []
    for applied in data.get("AppliedToTxnAdd", []):
        applied = dict(applied)
        for credit in applied.pop("SetCredit", []):
            credits.append((applied.get("TxnID", ""), credit.get("CreditTxnID", ""),
                            parse_decimal(credit.get("AppliedAmount", "0"), "AppliedAmount")))
            applied.setdefault("PaymentAmount", "0.00")
        applied_list.append(applied)
    if not credits:
        return company.payment_add(data, warnings)
    data["AppliedToTxnAdd"] = applied_list
    customer = company.find(data.get("CustomerRef") or {}, ("Customer",))
    remaining: dict[str, Decimal] = {}
    taken: dict[str, Decimal] = {}
    for invoice_id, credit_id, amount in credits:
        memo = company.get(credit_id, ("CreditMemo",))
        if memo is None or customer is None or memo.customer_id != customer.id:
            raise QbStatus(3140, f'There is an invalid reference to QuickBooks Credit Memo "{credit_id}" in the '
                                 "ReceivePayment. QuickBooks error message: The credit is not an available credit of "
                                 "this customer.")
        remaining.setdefault(memo.id, parse_decimal(memo.body["CreditRemaining"], "CreditRemaining"))
        if amount <= 0 or amount > remaining[memo.id]:
            raise QbStatus(3210, f'The "AppliedAmount" field has an invalid value "{money(amount)}". QuickBooks error '
                                 f"message: Credit memo {memo.ref_number} has {money(remaining[memo.id])} left.")
        remaining[memo.id] -= amount
        taken[invoice_id] = taken.get(invoice_id, Decimal(0)) + amount
    for applied in applied_list:
        invoice = company.get(applied.get("TxnID", ""), ("Invoice",))
        if invoice is None:
            continue  # company.payment_add refuses it with QuickBooks' message
        balance = Decimal(invoice.balance_cents) / 100
        wanted = parse_decimal(applied["PaymentAmount"], "PaymentAmount") + taken.get(invoice.id, Decimal(0))
        if wanted > balance:
            raise QbStatus(3210, f'The "AppliedAmount" field has an invalid value "{money(wanted)}". QuickBooks error '
                                 f"message: The payment and credits applied exceed the balance ({money(balance)}) of "
                                 f"invoice {invoice.ref_number}.")
    payment = company.payment_add(data, warnings)
    recorded = []
    for invoice_id, credit_id, amount in credits:
        invoice = company.get(invoice_id, ("Invoice",))
        memo = company.get(credit_id, ("CreditMemo",))
        assert invoice is not None and memo is not None
        _apply_credit(company, invoice, memo, amount)
        recorded.append({"invoice": invoice.id, "credit": memo.id, "amount": money(amount)})
        for applied in payment.body["AppliedToTxnRet"]:
            if applied["TxnID"] == invoice.id:
                applied["BalanceRemaining"] = invoice.body["BalanceRemaining"]
                applied["LinkedTxn"] = [*applied.get("LinkedTxn", []),
                                        _link(memo.id, "CreditMemo", memo.body, "AMTTYPE", -amount)]
                applied_ret = ordered(applied, SUB_ORDER["AppliedToTxnRet"])
                applied.clear()
                applied.update(applied_ret)
    payment.body["_credits"] = recorded
    company.store.update(payment)
    company.store.set_uses(payment.id, [payment.customer_id or "", *company._references(payment),
                                        *(a["TxnID"] for a in payment.body["AppliedToTxnRet"]),
                                        *(c["credit"] for c in recorded)])
    return payment


def _apply_credit(company: Company, invoice: Row, memo: Row, amount: Decimal) -> None:
    """Move ``amount`` of a credit memo onto an invoice (a negative amount takes it back)."""
    applied = parse_decimal(invoice.body.get("AppliedAmount", "0"), "AppliedAmount") - amount
    invoice.body["AppliedAmount"] = money(applied)
    invoice.body["LinkedTxn"] = _relinked(invoice.body.get("LinkedTxn", []), memo, "CreditMemo", -amount)
    company._invoice_totals(invoice)
    company._touch(invoice)
    company.store.update(invoice)
    memo.body["LinkedTxn"] = _relinked(memo.body.get("LinkedTxn", []), invoice, "Invoice", -amount)
    documents._totals(company, memo)
    company._touch(memo)
    company.store.update(memo)


def _relinked(links: list[dict[str, Any]], other: Row, kind: str, delta: Decimal) -> list[dict[str, Any]]:
    """``links`` with the link to ``other`` grown by ``delta`` (and dropped when nothing is left of it)."""
    kept = [link for link in links if link["TxnID"] != other.id]
    before = next((parse_decimal(link["Amount"], "Amount") for link in links if link["TxnID"] == other.id),
                  Decimal(0))
    total = before + delta
    if total != 0:
        kept.append(_link(other.id, kind, other.body, "AMTTYPE", total))
    return kept


# --- deletion ---------------------------------------------------------------------------------------------------------
def txn_delete(company: Company, kind: str, txn_id: str) -> Row:
    """TxnDel of any transaction, undoing what it settled or drew on before the delete itself."""
    row = company.get(txn_id, (kind,))
    if row is None:
        raise company.not_found(txn_id)
    if kind == "BillPaymentCheck":
        for applied in row.body.get("AppliedToTxnRet", []):
            bill = company.get(applied["TxnID"], ("Bill",))
            if bill is not None:
                _link_bill(company, bill, row.id, row.body, Decimal(0))
        company.store.delete(row.id)
        company.store.record_deletion(row, True, company.now())
        documents._vendor_balance(company, row.customer_id)
        return row
    if kind == "ReceivePayment":
        for credit in row.body.get("_credits", []):
            invoice = company.get(credit["invoice"], ("Invoice",))
            memo = company.get(credit["credit"], ("CreditMemo",))
            if invoice is not None and memo is not None:
                _apply_credit(company, invoice, memo, -parse_decimal(credit["amount"], "Amount"))
    if kind == "Invoice":
        _move_invoiced(company, row, row.body.get("_links", []), -1)
        _take_back_credits(company, row, "CreditMemo")
    if kind == "CreditMemo":
        _take_back_credits(company, row, "Invoice")
        row = company.get(txn_id, (kind,)) or row
    if kind in DOC_KINDS:
        return documents.delete(company, kind, txn_id)
    return company.txn_delete(kind, txn_id)


def _take_back_credits(company: Company, row: Row, other_kind: str) -> None:
    """Undo every credit between an invoice and its credit memos (from either side), before one is deleted."""
    for link in list(row.body.get("LinkedTxn", [])):
        if link.get("TxnType") != other_kind:
            continue
        other = company.get(link["TxnID"], (other_kind,))
        if other is None:
            continue
        invoice, memo = (row, other) if row.kind == "Invoice" else (other, row)
        _apply_credit(company, invoice, memo, parse_decimal(link["Amount"], "Amount"))
        for payment in company.store.select("kind = 'ReceivePayment' AND customer_id = ?", (invoice.customer_id,),
                                            "seq"):
            credits = [c for c in payment.body.get("_credits", []) if
                       not (c["invoice"] == invoice.id and c["credit"] == memo.id)]
            if len(credits) != len(payment.body.get("_credits", [])):
                payment.body["_credits"] = credits
                for applied in payment.body.get("AppliedToTxnRet", []):
                    if applied["TxnID"] == invoice.id:
                        applied["LinkedTxn"] = [x for x in applied.get("LinkedTxn", []) if x["TxnID"] != memo.id]
                        if not applied["LinkedTxn"]:
                            del applied["LinkedTxn"]
                company._touch(payment)
                company.store.update(payment)


# --- shared ---------------------------------------------------------------------------------------------------------
def _link(txn_id: str, kind: str, body: dict[str, Any], link_type: str, amount: Decimal) -> dict[str, Any]:
    link = {"TxnID": txn_id, "TxnType": kind, "TxnDate": body.get("TxnDate"), "RefNumber": body.get("RefNumber"),
            "LinkType": link_type, "Amount": money(amount)}
    return ordered({k: v for k, v in link.items() if v is not None}, SUB_ORDER["LinkedTxn"])


def _applied_ret(row: Row, kind: str, amount: Decimal, balance: str) -> dict[str, Any]:
    applied = {"TxnID": row.id, "TxnType": kind, "TxnDate": row.body.get("TxnDate"),
               "RefNumber": row.body.get("RefNumber"), "BalanceRemaining": balance, "Amount": money(amount)}
    return ordered({k: v for k, v in applied.items() if v is not None}, SUB_ORDER["AppliedToTxnRet"])


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


__all__ = ["bill_payment_add", "invoice_add", "payment_add", "txn_delete"]
