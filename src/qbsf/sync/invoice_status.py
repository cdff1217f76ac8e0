"""Invoice Status as Salesforce shows it: Paid, OverDue or Open, derived from the QuickBooks invoice — and from
any record whose declaration asks for it (a bill: ``daily_status`` and its ``balance_field``, OpenAmount).

- **Paid** when ``BalanceRemaining`` is 0 (or less: an overpaid invoice is paid);
- **OverDue** when the due date has passed *in the company's time zone* and a balance remains;
- **Open** otherwise (no due date, or due today or later).

The status depends on the date as well as the invoice, so an Open invoice turns OverDue on the day after its
due date with no change in QuickBooks: :func:`newly_overdue` is what the inbound engine's daily pass asks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

PAID = "Paid"
OVERDUE = "OverDue"
OPEN = "Open"
STATUSES = (PAID, OVERDUE, OPEN)


def as_decimal(value: Any) -> Decimal | None:
    """A balance as a Decimal (None when empty or not a number)."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None


def as_date(value: Any) -> date | None:
    """A due date as a date (accepts a date, a datetime, or ISO ``yyyy-MM-dd`` text)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def derive_status(balance: Any, due_date: Any, today: date) -> str:
    """Paid / OverDue / Open for an invoice with this balance and due date, on ``today`` (the company's date)."""
    remaining = as_decimal(balance)
    if remaining is not None and remaining <= 0:
        return PAID
    due = as_date(due_date)
    if due is not None and due < today:
        return OVERDUE
    return OPEN


def company_today(now: datetime, company_tz: tzinfo) -> date:
    """Today's date in the company's time zone (a due date passes at the company's midnight, not UTC's)."""
    if now.tzinfo is None:
        raise ValueError("company_today needs a time-zone-aware datetime")
    return now.astimezone(company_tz).date()


def tz_from_offset_minutes(minutes: int) -> tzinfo:
    """A fixed-offset time zone from minutes east of UTC (how the company's zone is remembered)."""
    return timezone(timedelta(minutes=minutes))


def offset_minutes(moment: datetime) -> int | None:
    """The UTC offset of an aware datetime in minutes (QuickBooks stamps TimeModified in the company's zone)."""
    offset = moment.utcoffset() if moment.tzinfo is not None else None
    return None if offset is None else int(offset.total_seconds() // 60)


@dataclass(frozen=True)
class OpenInvoice:
    """What the daily pass remembers of an invoice that was not Paid when last synced."""

    txn_id: str
    due_date: date | None
    balance: Decimal | None
    status: str


def newly_overdue(invoices: Iterable[OpenInvoice], today: date) -> list[OpenInvoice]:
    """Invoices last sent as Open whose status is now OverDue (their due date passed since)."""
    return [invoice for invoice in invoices
            if invoice.status != OVERDUE and derive_status(invoice.balance, invoice.due_date, today) == OVERDUE]
