"""Sales receipts: a QuickBooks SalesReceipt → ``QB_Sales_Receipt__c``, QuickBooks → Salesforce only
(SalesReceipt_to_SF).

A sales receipt is a cash sale: paid when it is made, so it has no balance, no status and nothing applied to it
later. It brings the Account of its customer (a receipt may have no customer: a walk-in sale, then no Account),
date, number, amount, payment method and the account the money went to. From Intuit's pages
(developer.intuit.com/app/developer/qbdesktop/docs/develop/tutorials/requests-and-responses-for-sales-receipts;
…/api-reference/qbdesktop/salesreceiptadd): the customer is optional; the money goes to ``DepositToAccountRef``,
Undeposited Funds when the request names none (…/depositadd: "the default is Undeposited Funds"). Read through the
client's one query by entity, headers only.

A sales receipt deleted in QuickBooks keeps its record in Salesforce with ``Deleted_In_QuickBooks__c`` ticked (the
default ``sync.on_qb_delete`` action of this entity), as a payment does.
"""

from __future__ import annotations

from qbsf.sync.entities.base import TXN_ID, SyncedEntity
from qbsf.sync.entities.credit_memo import KeptWhenDeletedHooks

SALES_RECEIPT = SyncedEntity(
    key="QB_Sales_Receipt__c", sf_object="QB_Sales_Receipt__c", qb_id_field="QB_Sales_Receipt_ID__c",
    qb_entity="SalesReceipt", qb_id_kind=TXN_ID, inbound_sheet="SalesReceipt_to_SF", qb_types=("SalesReceipt",),
    sf_label="Sales Receipt", qb_label="Sales Receipt",
    aliases=("sales receipt", "sales receipts", "salesreceipts", "qb_sales_receipt"), inbound_words=("salesreceipt",),
    hooks=KeptWhenDeletedHooks(),
)
