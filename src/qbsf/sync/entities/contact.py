"""Contact → sub-customer: a Salesforce Contact becomes a QuickBooks sub-customer of its Account's customer.

Salesforce → QuickBooks only (Contact_to_SubCustomer). The sub-customer's full name is ``Customer:Contact``, its
ParentRef the Account's customer; a Contact without an Account has no customer to sit under and does not sync.
"""

from __future__ import annotations

from qbsf.sync.entities.base import LIST_ID, EntityHooks, ParentRef, SyncedEntity


class ContactHooks(EntityHooks):
    """A sub-customer is named under its parent customer."""

    def full_name(self, entity: SyncedEntity, name: str, parent_full_name: str | None) -> str:
        return f"{parent_full_name}:{name}" if parent_full_name else name


CONTACT = SyncedEntity(
    key="Contact", sf_object="Contact", qb_id_field="QB_Customer_ID__c", qb_entity="Customer", qb_id_kind=LIST_ID,
    outbound_sheet="Contact_to_SubCustomer",
    base_fields=("Id", "FirstName", "LastName", "Name", "Email", "Phone", "SystemModstamp", "LastModifiedById",
                 "QB_Customer_ID__c", "AccountId"),
    parents=(ParentRef("AccountId", "Account", "Account.QB_Customer_ID__c", qb_ref="ParentRef"),),
    # A sub-customer needs a parent customer.
    eligibility="AccountId != null",
    qb_types=("Customer",), link_candidates="sub", link_fields=("Email", "Phone"), merges_in_salesforce=True,
    outbound_words=("contact", "subcustomer"),
    own_fields=frozenset({
        "FirstName", "LastName", "Salutation", "Title", "Email", "MobilePhone", "HomePhone", "OtherPhone",
        "AssistantName", "AssistantPhone", "Birthdate", "Department", "MailingStreet", "MailingCity", "MailingState",
        "MailingPostalCode", "MailingCountry", "OtherStreet", "OtherCity", "OtherState", "OtherPostalCode",
        "OtherCountry", "ReportsToId"}),
    hooks=ContactHooks(),
)
