"""Account ↔ Customer: a Salesforce Account is a top-level QuickBooks customer, both ways.

Salesforce → QuickBooks by the Acct_to_Customer sheet, QuickBooks → Salesforce by Customer_to_Acct. A QuickBooks
sub-customer (``Parent:Child``) is a Contact or a job in Salesforce, never an Account; an inactive customer that
never synced creates no Account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qbsf.sync.entities.base import LIST_ID, EntityHooks, SyncedEntity


class AccountHooks(EntityHooks):
    """A customer's rules: sub-customers are not Accounts; advice when an Account goes away."""

    def skip_inbound(self, entity: SyncedEntity, flat: Mapping[str, Any]) -> str | None:
        # A sub-customer is a Contact or a job in Salesforce, not an Account: the Account mapping does not apply.
        return "sub-customer: not an Account" if flat.get("ParentRef.ListID") else None

    def gone_advice(self, entity: SyncedEntity, kind: str) -> str:
        return {
            "deleted": "restore it from the Recycle Bin (it relinks to the customer), or make the QuickBooks customer "
                       "inactive",
            "merged": "merge the two customers in QuickBooks (rename this one to the survivor's name), or make it "
                      "inactive",
        }.get(kind) or super().gone_advice(entity, kind)


ACCOUNT = SyncedEntity(
    key="Account", sf_object="Account", qb_id_field="QB_Customer_ID__c", qb_entity="Customer", qb_id_kind=LIST_ID,
    outbound_sheet="Acct_to_Customer", inbound_sheet="Customer_to_Acct",
    base_fields=("Id", "Name", "SystemModstamp", "LastModifiedById", "QB_Customer_ID__c", "Phone"),
    qb_types=("Customer",), link_candidates="top", link_fields=("Phone",), merges_in_salesforce=True,
    create_inactive=False,
    aliases=("acct", "customers"), outbound_words=("acct", "account"),
    own_fields=frozenset({
        "BillingStreet", "BillingCity", "BillingState", "BillingPostalCode", "BillingCountry", "ShippingStreet",
        "ShippingCity", "ShippingState", "ShippingPostalCode", "ShippingCountry", "AccountNumber", "Industry",
        "AnnualRevenue", "NumberOfEmployees", "Website", "Sic", "TickerSymbol", "Ownership", "Rating", "Site"}),
    hooks=AccountHooks(),
)
