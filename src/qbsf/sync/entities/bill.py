"""Vendors and bills: QuickBooks Vendor → ``QB_Vendor__c`` and QuickBooks Bill → ``QB_Bill__c``, QuickBooks →
Salesforce only (the Vendor_to_SF and Bill_to_SF sheets).

A vendor brings its name, contact, address and Balance (what the company still owes it). A bill brings its vendor
(``Vendor__c``, found by the vendor's ListID), dates, amount and open balance, and a status derived like an
invoice's: Paid when nothing is left to pay, OverDue past its due date, else Open — and, like an invoice's, turned
OverDue by the inbound engine's daily pass on the day after its due date, with no change in QuickBooks
(``daily_status``, its balance read from ``OpenAmount``). A bill paid by check in
QuickBooks (BillPaymentCheck) changes the bill itself (its OpenAmount and IsPaid), so its own read brings the
payment: the bill turns Paid in Salesforce. Both are read through the client's one query by entity.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qbsf.sync.entities.base import LIST_ID, TXN_ID, EntityHooks, SyncedEntity


class BillHooks(EntityHooks):
    """A bill's status, derived from its open balance and due date like an invoice's."""

    def complete_payload(self, entity: SyncedEntity, payload: dict[str, Any], flat: Mapping[str, Any], *,
                         config: Any, today: Any, origin_sf_id: str | None) -> None:
        from qbsf.sync.invoice_status import derive_status

        payload[config.status_field] = derive_status(flat.get(entity.balance_field), flat.get("DueDate"), today)


VENDOR = SyncedEntity(
    key="QB_Vendor__c", sf_object="QB_Vendor__c", qb_id_field="QB_Vendor_ID__c", qb_entity="Vendor",
    qb_id_kind=LIST_ID, inbound_sheet="Vendor_to_SF", qb_types=("Vendor",), links_by_name=False,
    sf_label="Vendor", qb_label="Vendor", aliases=("vendor", "vendors", "qb_vendor"), inbound_words=("vendor",),
    hooks=EntityHooks(),
)

BILL = SyncedEntity(
    key="QB_Bill__c", sf_object="QB_Bill__c", qb_id_field="QB_Bill_ID__c", qb_entity="Bill", qb_id_kind=TXN_ID,
    inbound_sheet="Bill_to_SF", qb_types=("Bill",), daily_status=True, balance_field="OpenAmount",
    sf_label="Bill", qb_label="Bill",
    aliases=("bill", "bills", "qb_bill"), inbound_words=("bill",), hooks=BillHooks(),
)
