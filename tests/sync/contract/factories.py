"""Sample records for the contract test: for each synced entity and direction, how to make a valid record of it on
its source side, how to change it, how to remove it, and how to find what the sync made of it on the other side.

A declared entity without a factory here fails ``test_every_declared_entity_has_a_sample_record_factory``: a new
entity brings one (a subclass of :class:`OutboundFactory` or :class:`InboundFactory`, added to ``FACTORIES``).

Records are made through the emulators' own Python APIs (``SalesforceState.insert``, ``QuickBooksSimulator.add``),
never through qbsf's clients, so the sync under test is the only thing that crosses between the two systems.
"""

from __future__ import annotations

from typing import Any, ClassVar

from tests.sync.contract.support import QB_TO_SF, SF_TO_QB, Case, ContractWorld

from qbsf.quickbooks.bodies import external_guid


class Factory:
    """What the contract needs to know about one entity in one direction."""

    direction: ClassVar[str]
    sf_object: ClassVar[str]
    qb_entity: ClassVar[str]
    # Which simulator list holds the QuickBooks records (``QuickBooksSimulator.customers`` …).
    qb_list: ClassVar[str]
    # A sync.on_qb_delete action the contract runs beside the default ``record`` (QB → SF only: ``set:Field=value``,
    # a field of the Salesforce object that can say the record is gone). SF → QB runs the declared on_sf_gone ones.
    removal_action: ClassVar[str | None] = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.direction, self.sf_object, self.qb_entity)

    # ---- to be given by each entity ----------------------------------------------------------------------------
    def prepare(self, w: ContractWorld) -> None:
        """Make (and sync) what a record of this entity needs first: its parents. Nothing by default."""

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        """A new valid record on the source side; returns its id there (Salesforce Id, or ListID/TxnID)."""
        raise AssertionError(f"{type(self).__name__} makes no record")

    def change(self, w: ContractWorld, source_id: str) -> None:
        """Change a mapped value of the record on its source side."""
        raise AssertionError(f"{type(self).__name__} changes no record")

    def changed(self, w: ContractWorld, source_id: str, target: dict[str, Any]) -> bool:
        """Whether the other side's record shows the change :meth:`change` made."""
        raise AssertionError(f"{type(self).__name__} checks no change")

    def remove(self, w: ContractWorld, source_id: str) -> None:
        """Remove the record on its source side (delete it, as a user would)."""
        raise AssertionError(f"{type(self).__name__} removes no record")

    def twin(self, w: ContractWorld, name: str) -> tuple[str, str]:
        """The same-named record made in each system, not linked: (Salesforce Id, QuickBooks id). Needed when
        the entity declares that it links by name (the pass-order contract then starts from such a pair)."""
        raise AssertionError(f"{type(self).__name__} has no name the other side can share")

    def retire(self, w: ContractWorld, source_id: str) -> None:
        """Take the record out of the sync without deleting it: no longer eligible (SF → QB, for an entity that
        declares an eligibility condition) or made inactive (QB → SF, for a list entity)."""
        raise AssertionError(f"{type(self).__name__} cannot retire a record")

    # ---- derived -----------------------------------------------------------------------------------------------
    def qb_records(self, w: ContractWorld) -> list[dict[str, Any]]:
        return list(getattr(w.qb_sim, self.qb_list)())

    def sf_records(self, w: ContractWorld) -> list[dict[str, Any]]:
        return list(w.sf_state.records(self.sf_object))


class OutboundFactory(Factory):
    """An entity synced from Salesforce to QuickBooks: the source is a Salesforce record."""

    direction = SF_TO_QB
    qb_id_field: ClassVar[str]
    qb_id_kind: ClassVar[str] = "ListID"

    def counterparts(self, w: ContractWorld, sf_id: str) -> list[dict[str, Any]]:
        """The QuickBooks records made for ``sf_id``: its ExternalGUID, or the id Salesforce holds."""
        record = w.sf_state.get(self.sf_object, sf_id) or {}
        held = record.get(self.qb_id_field)
        guid = external_guid(sf_id).casefold()
        return [r for r in self.qb_records(w)
                if (r.get("ExternalGUID") or "").casefold() == guid or (held and r.get(self.qb_id_kind) == held)]

    def target_id(self, target: dict[str, Any]) -> str:
        return str(target[self.qb_id_kind])


class InboundFactory(Factory):
    """An entity synced from QuickBooks to Salesforce: the source is a QuickBooks record."""

    direction = QB_TO_SF
    external_id: ClassVar[str]

    def counterparts(self, w: ContractWorld, qb_id: str) -> list[dict[str, Any]]:
        """The Salesforce records holding ``qb_id`` in the external id field."""
        return [r for r in self.sf_records(w) if r.get(self.external_id) == qb_id]

    def target_id(self, target: dict[str, Any]) -> str:
        return str(target["Id"])

    def remove(self, w: ContractWorld, qb_id: str) -> None:
        w.qb_sim.delete(qb_id)

    def retire(self, w: ContractWorld, qb_id: str) -> None:
        w.qb_sim.modify(qb_id, {"IsActive": "false"})


# ---- Salesforce → QuickBooks -----------------------------------------------------------------------------------
class AccountToCustomer(OutboundFactory):
    sf_object, qb_entity, qb_list, qb_id_field = "Account", "Customer", "customers", "QB_Customer_ID__c"

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        return w.sf_state.insert("Account", {"Name": name or f"Contract Account {number}",
                                             "Phone": f"(415) 555-01{number:02d}", "BillingCity": "Oakland"})

    def change(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.update("Account", sf_id, {"Phone": "(415) 555-9999"})

    def changed(self, w: ContractWorld, sf_id: str, target: dict[str, Any]) -> bool:
        return target.get("Phone") == "(415) 555-9999"

    def remove(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.delete("Account", sf_id)

    def twin(self, w: ContractWorld, name: str) -> tuple[str, str]:
        return self.make(w, 0, name), w.qb_sim.add("Customer", {"Name": name})["ListID"]


class ContactToSubCustomer(OutboundFactory):
    sf_object, qb_entity, qb_list, qb_id_field = "Contact", "Customer", "customers", "QB_Customer_ID__c"
    PARENT = "Contract Parent Co"

    def prepare(self, w: ContractWorld) -> None:
        w.sf_state.insert("Account", {"Name": self.PARENT})
        w.sync_out(["Account"])

    def _parent(self, w: ContractWorld) -> dict[str, Any]:
        (parent,) = [a for a in w.sf_state.records("Account") if a["Name"] == self.PARENT]
        return parent

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        return w.sf_state.insert("Contact", {"FirstName": "Pat", "LastName": name or f"Contract Person {number}",
                                             "Email": f"pat{number}@example.com",
                                             "AccountId": self._parent(w)["Id"]})

    def change(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.update("Contact", sf_id, {"Phone": "(415) 555-8888"})

    def changed(self, w: ContractWorld, sf_id: str, target: dict[str, Any]) -> bool:
        return target.get("Phone") == "(415) 555-8888"

    def remove(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.delete("Contact", sf_id)

    def retire(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.update("Contact", sf_id, {"AccountId": None})

    def twin(self, w: ContractWorld, name: str) -> tuple[str, str]:
        parent = self._parent(w)
        sf_id = self.make(w, 0, name)
        full = w.sf_state.get("Contact", sf_id)["Name"]
        sub = w.qb_sim.add("Customer", {"Name": full, "ParentRef": {"ListID": parent["QB_Customer_ID__c"]}})
        return sf_id, sub["ListID"]


class ProductToItem(OutboundFactory):
    sf_object, qb_entity, qb_list, qb_id_field = "Product2", "Item", "items", "QB_Item_ID__c"

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        product = w.sf_state.insert("Product2", {"Name": name or f"Contract Product {number}", "IsActive": True,
                                                 "Description": f"Sample product {number}",
                                                 "QB_Sales_Price__c": 10 + number})
        w.sf_state.insert("PricebookEntry", {"Pricebook2Id": w.sf_state.standard_pricebook_id,
                                             "Product2Id": product, "UnitPrice": 10 + number, "IsActive": True})
        return product

    def change(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.update("Product2", sf_id, {"Description": "Changed in Salesforce"})

    def changed(self, w: ContractWorld, sf_id: str, target: dict[str, Any]) -> bool:
        return "Changed in Salesforce" in str(target)

    def remove(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.delete("Product2", sf_id)

    def twin(self, w: ContractWorld, name: str) -> tuple[str, str]:
        item = w.qb_sim.add("ItemService", {"Name": name, "SalesOrPurchase": {
            "Desc": "Hourly", "Price": "10.00", "AccountRef": {"FullName": "Sales"}}})
        return self.make(w, 0, name), item["ListID"]


class SalesDocumentFactory(OutboundFactory):
    """A Salesforce sales document with one line, sent to QuickBooks as a transaction. Each document buys from its
    own Account the one Product2 its own price-book entry sells (both made and synced by :meth:`prepare`); a
    subclass names them, writes its document and line (:meth:`make_document`), and says which change of the
    document's own field shows in which QuickBooks field and how a document is taken out of the sync."""

    qb_id_kind = "TxnID"
    ACCOUNT: ClassVar[str]
    PRODUCT: ClassVar[str]
    # ({Salesforce field: new value}, (QuickBooks field, the value it then shows)) — what change/changed use.
    CHANGE: ClassVar[tuple[dict[str, Any], tuple[str, str]]]

    def prepare(self, w: ContractWorld) -> None:
        w.sf_state.insert("Account", {"Name": self.ACCOUNT})
        ProductToItem().make(w, 0, self.PRODUCT)
        w.sync_out(["Account", "Product2"])

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        sf = w.sf_state
        (account,) = [a["Id"] for a in sf.records("Account") if a["Name"] == self.ACCOUNT]
        (entry,) = [e["Id"] for e in sf.records("PricebookEntry")
                    if sf.get("Product2", e["Product2Id"])["Name"] == self.PRODUCT]
        return self.make_document(w, number, name, account, entry)

    def make_document(self, w: ContractWorld, number: int, name: str | None, account: str, entry: str) -> str:
        """The document for ``account`` with one line of ``entry`` (quantity 1 + number at 100); returns its Id."""
        raise AssertionError(f"{type(self).__name__} makes no document")

    def change(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.update(self.sf_object, sf_id, self.CHANGE[0])

    def changed(self, w: ContractWorld, sf_id: str, target: dict[str, Any]) -> bool:
        field, shown = self.CHANGE[1]
        return target.get(field) == shown

    def remove(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.delete(self.sf_object, sf_id)


class OpportunityToInvoice(SalesDocumentFactory):
    sf_object, qb_entity, qb_list, qb_id_field = "Opportunity", "Invoice", "invoices", "QB_Invoice_ID__c"
    ACCOUNT, PRODUCT = "Contract Buyer Inc", "Contract Service"
    CHANGE = ({"Name": "Renamed contract deal"}, ("Memo", "Opportunity: Renamed contract deal"))

    def make_document(self, w: ContractWorld, number: int, name: str | None, account: str, entry: str) -> str:
        sf = w.sf_state
        opportunity = sf.insert("Opportunity", {"Name": name or f"Contract Deal {number}", "StageName": "Closed Won",
                                                "CloseDate": "2026-05-01", "AccountId": account,
                                                "Pricebook2Id": sf.standard_pricebook_id})
        sf.insert("OpportunityLineItem", {"OpportunityId": opportunity, "PricebookEntryId": entry,
                                          "Quantity": 1 + number, "UnitPrice": 100})
        return opportunity

    def retire(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.update("Opportunity", sf_id, {"StageName": "Closed Lost"})


class OrderToSalesOrder(SalesDocumentFactory):
    sf_object, qb_entity, qb_list, qb_id_field = "Order", "SalesOrder", "sales_orders", "QB_Sales_Order_ID__c"
    ACCOUNT, PRODUCT = "Contract Order Buyer", "Contract Order Service"
    CHANGE = ({"PoNumber": "PO-CHANGED"}, ("PONumber", "PO-CHANGED"))

    def make_document(self, w: ContractWorld, number: int, name: str | None, account: str, entry: str) -> str:
        sf = w.sf_state
        order = sf.insert("Order", {"AccountId": account, "EffectiveDate": "2026-05-01", "Status": "Draft",
                                    "Pricebook2Id": sf.standard_pricebook_id, "PoNumber": f"PO-{number}"})
        sf.insert("OrderItem", {"OrderId": order, "PricebookEntryId": entry, "Quantity": 1 + number,
                                "UnitPrice": 100})
        sf.update("Order", order, {"Status": "Activated"})
        return order

    def retire(self, w: ContractWorld, sf_id: str) -> None:
        w.sf_state.update("Order", sf_id, {"Status": "Draft"})


class QuoteToEstimate(SalesDocumentFactory):
    sf_object, qb_entity, qb_list, qb_id_field = "Quote", "Estimate", "estimates", "QB_Estimate_ID__c"
    ACCOUNT, PRODUCT = "Contract Quote Buyer", "Contract Quote Service"
    CHANGE = ({"Name": "Renamed contract quote"}, ("Memo", "Quote: Renamed contract quote"))

    def make_document(self, w: ContractWorld, number: int, name: str | None, account: str, entry: str) -> str:
        # Each quote is the synced quote of its own opportunity (an opportunity syncs with one quote at a time).
        sf = w.sf_state
        opportunity = sf.insert("Opportunity", {"Name": f"Contract quoted deal {number}", "AccountId": account,
                                                "StageName": "Proposal/Price Quote", "CloseDate": "2026-05-01",
                                                "Pricebook2Id": sf.standard_pricebook_id})
        quote = sf.insert("Quote", {"Name": name or f"Contract Quote {number}", "OpportunityId": opportunity})
        sf.insert("QuoteLineItem", {"QuoteId": quote, "PricebookEntryId": entry, "Quantity": 1 + number,
                                    "UnitPrice": 100})
        sf.update("Opportunity", opportunity, {"SyncedQuoteId": quote})
        return quote

    def retire(self, w: ContractWorld, sf_id: str) -> None:
        opportunity = w.sf_state.get("Quote", sf_id)["OpportunityId"]
        w.sf_state.update("Opportunity", opportunity, {"SyncedQuoteId": None})


# ---- QuickBooks → Salesforce -----------------------------------------------------------------------------------
class CustomerToAccount(InboundFactory):
    sf_object, qb_entity, qb_list, external_id = "Account", "Customer", "customers", "QB_Customer_ID__c"

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        customer = w.qb_sim.add("Customer", {"Name": name or f"QB Contract Customer {number}",
                                             "Phone": f"555-02{number:02d}",
                                             "BillAddress": {"Addr1": f"{number + 1} Main St", "City": "Oakland"}})
        return customer["ListID"]

    def change(self, w: ContractWorld, qb_id: str) -> None:
        w.qb_sim.modify(qb_id, {"Phone": "555-7777"})

    def changed(self, w: ContractWorld, qb_id: str, target: dict[str, Any]) -> bool:
        return target.get("Phone") == "555-7777"

    def twin(self, w: ContractWorld, name: str) -> tuple[str, str]:
        return w.sf_state.insert("Account", {"Name": name}), self.make(w, 0, name)


class ItemToProduct(InboundFactory):
    sf_object, qb_entity, qb_list, external_id = "Product2", "Item", "items", "QB_Item_ID__c"
    removal_action = "set:IsActive=false"

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        return w.qb_sim.add("ItemService", {"Name": name or f"QB Contract Item {number}", "SalesOrPurchase": {
            "Desc": f"Service {number}", "Price": f"{20 + number}.00",
            "AccountRef": {"FullName": "Sales"}}})["ListID"]

    def change(self, w: ContractWorld, qb_id: str) -> None:
        w.qb_sim.modify(qb_id, {"Name": "QB Contract Item renamed"})

    def changed(self, w: ContractWorld, qb_id: str, target: dict[str, Any]) -> bool:
        return target.get("Name") == "QB Contract Item renamed"

    def twin(self, w: ContractWorld, name: str) -> tuple[str, str]:
        return ProductToItem().make(w, 0, name), self.make(w, 0, name)


class InvoiceToQbInvoice(InboundFactory):
    sf_object, qb_entity, qb_list, external_id = "QB_Invoice__c", "Invoice", "invoices", "QB_Invoice_ID__c"
    CUSTOMER, ITEM = "QB Contract Buyer", "QB Contract Service"

    def prepare(self, w: ContractWorld) -> None:
        CustomerToAccount().make(w, 0, self.CUSTOMER)
        ItemToProduct().make(w, 0, self.ITEM)
        w.sync_in(["Customer", "Item"])

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        (customer,) = [c["ListID"] for c in w.qb_sim.customers() if c["Name"] == self.CUSTOMER]
        (item,) = [i["ListID"] for i in w.qb_sim.items() if i["Name"] == self.ITEM]
        return w.qb_sim.add("Invoice", {"CustomerRef": {"ListID": customer}, "RefNumber": f"C{1000 + number}",
                                        "InvoiceLineAdd": [{"ItemRef": {"ListID": item},
                                                            "Quantity": str(1 + number)}]})["TxnID"]

    def change(self, w: ContractWorld, qb_id: str) -> None:
        w.qb_sim.modify(qb_id, {"Memo": "Changed in QuickBooks"})

    def changed(self, w: ContractWorld, qb_id: str, target: dict[str, Any]) -> bool:
        return target.get("Memo__c") == "Changed in QuickBooks"


class ReceivePaymentToQbPayment(InboundFactory):
    sf_object, qb_entity, qb_list, external_id = "QB_Payment__c", "ReceivePayment", "payments", "QB_Payment_ID__c"
    removal_action = "set:Deleted_In_QuickBooks__c=true"
    named = False

    def prepare(self, w: ContractWorld) -> None:
        InvoiceToQbInvoice().prepare(w)

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        # Each payment pays its own invoice (made here: an invoice cannot be paid twice in full).
        invoice = w.qb_sim.get(InvoiceToQbInvoice().make(w, 50 + number))
        return w.qb_sim.add("ReceivePayment", {
            "CustomerRef": {"ListID": invoice["CustomerRef"]["ListID"]}, "RefNumber": f"P{1000 + number}",
            "TotalAmount": invoice["BalanceRemaining"], "PaymentMethodRef": {"FullName": "Check"},
            "AppliedToTxnAdd": [{"TxnID": invoice["TxnID"], "PaymentAmount": invoice["BalanceRemaining"]}]})["TxnID"]

    def change(self, w: ContractWorld, qb_id: str) -> None:
        w.qb_sim.modify(qb_id, {"Memo": "Changed in QuickBooks"})

    def changed(self, w: ContractWorld, qb_id: str, target: dict[str, Any]) -> bool:
        return target.get("Memo__c") == "Changed in QuickBooks"


class VendorToQbVendor(InboundFactory):
    sf_object, qb_entity, qb_list, external_id = "QB_Vendor__c", "Vendor", "vendors", "QB_Vendor_ID__c"
    removal_action = "set:Active__c=false"
    named = False  # vendors are QuickBooks' own: Salesforce holds no record of that name to link

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        return w.qb_sim.add("Vendor", {"Name": name or f"QB Contract Vendor {number}",
                                       "Phone": f"775-555-01{number:02d}"})["ListID"]

    def change(self, w: ContractWorld, qb_id: str) -> None:
        w.qb_sim.modify(qb_id, {"Phone": "775-555-7777"})

    def changed(self, w: ContractWorld, qb_id: str, target: dict[str, Any]) -> bool:
        return target.get("Phone__c") == "775-555-7777"


class BillToQbBill(InboundFactory):
    sf_object, qb_entity, qb_list, external_id = "QB_Bill__c", "Bill", "bills", "QB_Bill_ID__c"
    removal_action = "record"
    named = False
    VENDOR = "QB Contract Supplier"

    def prepare(self, w: ContractWorld) -> None:
        VendorToQbVendor().make(w, 0, self.VENDOR)
        w.sync_in(["Vendor"])

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        (vendor,) = [v["ListID"] for v in w.qb_sim.vendors() if v["Name"] == self.VENDOR]
        return w.qb_sim.add("Bill", {"VendorRef": {"ListID": vendor}, "RefNumber": f"B{1000 + number}",
                                     "ExpenseLineAdd": [{"AccountRef": {"FullName": "Office Supplies"},
                                                         "Amount": f"{10 + number}.00"}]})["TxnID"]

    def change(self, w: ContractWorld, qb_id: str) -> None:
        w.qb_sim.modify(qb_id, {"Memo": "Changed in QuickBooks"})

    def changed(self, w: ContractWorld, qb_id: str, target: dict[str, Any]) -> bool:
        return target.get("Memo__c") == "Changed in QuickBooks"


class CreditMemoToQbCreditMemo(InboundFactory):
    sf_object, qb_entity, qb_list = "QB_Credit_Memo__c", "CreditMemo", "credit_memos"
    external_id = "QB_Credit_Memo_ID__c"
    removal_action = "set:Deleted_In_QuickBooks__c=true"
    named = False

    def prepare(self, w: ContractWorld) -> None:
        InvoiceToQbInvoice().prepare(w)

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        (customer,) = [c["ListID"] for c in w.qb_sim.customers() if c["Name"] == InvoiceToQbInvoice.CUSTOMER]
        (item,) = [i["ListID"] for i in w.qb_sim.items() if i["Name"] == InvoiceToQbInvoice.ITEM]
        return w.qb_sim.add("CreditMemo", {"CustomerRef": {"ListID": customer}, "RefNumber": f"CM{1000 + number}",
                                           "CreditMemoLineAdd": [{"ItemRef": {"ListID": item},
                                                                  "Quantity": str(1 + number)}]})["TxnID"]

    def change(self, w: ContractWorld, qb_id: str) -> None:
        w.qb_sim.modify(qb_id, {"Memo": "Changed in QuickBooks"})

    def changed(self, w: ContractWorld, qb_id: str, target: dict[str, Any]) -> bool:
        return target.get("Memo__c") == "Changed in QuickBooks"


class SalesReceiptToQbSalesReceipt(InboundFactory):
    sf_object, qb_entity, qb_list = "QB_Sales_Receipt__c", "SalesReceipt", "sales_receipts"
    external_id = "QB_Sales_Receipt_ID__c"
    removal_action = "set:Deleted_In_QuickBooks__c=true"
    named = False

    def prepare(self, w: ContractWorld) -> None:
        InvoiceToQbInvoice().prepare(w)

    def make(self, w: ContractWorld, number: int, name: str | None = None) -> str:
        (customer,) = [c["ListID"] for c in w.qb_sim.customers() if c["Name"] == InvoiceToQbInvoice.CUSTOMER]
        (item,) = [i["ListID"] for i in w.qb_sim.items() if i["Name"] == InvoiceToQbInvoice.ITEM]
        return w.qb_sim.add("SalesReceipt", {"CustomerRef": {"ListID": customer}, "RefNumber": f"SR{1000 + number}",
                                             "PaymentMethodRef": {"FullName": "Cash"},
                                             "SalesReceiptLineAdd": [{"ItemRef": {"ListID": item},
                                                                      "Quantity": str(1 + number)}]})["TxnID"]

    def change(self, w: ContractWorld, qb_id: str) -> None:
        w.qb_sim.modify(qb_id, {"Memo": "Changed in QuickBooks"})

    def changed(self, w: ContractWorld, qb_id: str, target: dict[str, Any]) -> bool:
        return target.get("Memo__c") == "Changed in QuickBooks"


def removal_actions(case: Case) -> list[str]:
    """What the entity can be told to do with a record gone from its source side, beside only recording it: the
    sync.on_sf_gone actions it declares (SF → QB), its factory's sync.on_qb_delete action (QB → SF)."""
    if case.direction == SF_TO_QB:
        return [action for action in case.gone_actions if action != "report"]
    factory = FACTORIES.get(case.key)
    action = factory.removal_action if isinstance(factory, InboundFactory) else None
    return [action] if action else []


FACTORIES: dict[tuple[str, str, str], Factory] = {
    factory.key: factory for factory in (
        AccountToCustomer(), ContactToSubCustomer(), ProductToItem(), OpportunityToInvoice(), OrderToSalesOrder(),
        QuoteToEstimate(),
        CustomerToAccount(), ItemToProduct(), InvoiceToQbInvoice(), ReceivePaymentToQbPayment(),
        CreditMemoToQbCreditMemo(), SalesReceiptToQbSalesReceipt(), VendorToQbVendor(), BillToQbBill())
}
