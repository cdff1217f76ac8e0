"""Product2 ↔ Item: a Salesforce product is a QuickBooks item (service, non-inventory or inventory), both ways.

Salesforce → QuickBooks by Product_to_Item, QuickBooks → Salesforce by Item_to_Product. The item type comes from the
mapping's ``Type`` target, else ``QB_Item_Type__c``, else ``sync.default_item_type``; QuickBooks cannot change an
existing item's type, so a Mod keeps the type QuickBooks holds (and says so when Salesforce asked for another).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qbsf.errors import NeedsUser
from qbsf.sync.entities.base import LIST_ID, EntityHooks, SyncedEntity

ITEM_TYPES = {"service": "ItemService", "noninventory": "ItemNonInventory", "non-inventory": "ItemNonInventory",
              "inventory": "ItemInventory", "itemservice": "ItemService", "itemnoninventory": "ItemNonInventory",
              "iteminventory": "ItemInventory"}
ITEM_WORDS = {"ItemService": "Service", "ItemNonInventory": "NonInventory", "ItemInventory": "Inventory"}


def _word(qb_type: str) -> str:
    return ITEM_WORDS.get(qb_type, qb_type)


class ProductHooks(EntityHooks):
    """Item types: chosen per product, kept by QuickBooks once created."""

    def qb_type(self, entity: SyncedEntity, target: dict[str, Any], record: Mapping[str, Any], config: Any) -> str:
        # Income, COGS and asset accounts come from the mapping or the client's QB Default Accounts.
        wanted = str(target.pop("Type", None) or record.get("QB_Item_Type__c")
                     or getattr(config, "default_item_type", "") or "Service")
        qb_type = ITEM_TYPES.get(wanted.replace(" ", "").casefold())
        if qb_type is None:
            name = str(record.get(entity.name_field) or record.get("Name") or record.get("Id"))
            raise NeedsUser(f"{entity.sf_object} {name!r}: item type {wanted!r} is not one qbsf creates",
                            hint="set QB_Item_Type__c to Service, NonInventory or Inventory")
        return qb_type

    def keep_qb_type(self, entity: SyncedEntity, *, name: str, sf_id: str, wanted: str, found: str,
                     agreed: str | None, qb_name: str = "") -> str:
        if not found or found == wanted:
            return wanted
        if agreed and agreed != wanted:
            raise NeedsUser(
                f"{entity.sf_object} {name!r}: its item type changed to {_word(wanted)} in Salesforce, but QuickBooks "
                f"cannot change an item's type: the QuickBooks item {qb_name!r} stays {_word(found)}",
                hint=f"set QB_Item_Type__c back to {_word(found)}, or make the QuickBooks item inactive and run "
                     f"`qbsf link --entity {entity.key} --unlink {sf_id}` so the next sync creates a new "
                     f"{_word(wanted)} item")
        # An existing item keeps its type in QuickBooks: modify it as what it is.
        return found

    def gone_advice(self, entity: SyncedEntity, kind: str) -> str:
        if kind == "deleted":
            return "restore it from the Recycle Bin (it relinks), or make the QuickBooks item inactive"
        return super().gone_advice(entity, kind)


PRODUCT = SyncedEntity(
    key="Product2", sf_object="Product2", qb_id_field="QB_Item_ID__c", qb_entity="Item", qb_id_kind=LIST_ID,
    outbound_sheet="Product_to_Item", inbound_sheet="Item_to_Product",
    base_fields=("Id", "Name", "ProductCode", "SystemModstamp", "LastModifiedById", "QB_Item_ID__c",
                 "QB_Item_Type__c", "QB_Sales_Price__c"),
    qb_types=("ItemService", "ItemNonInventory", "ItemInventory"), link_candidates="any",
    sf_label="Product", aliases=("product", "items"), outbound_words=("product",),
    own_fields=frozenset({"ProductCode", "Family", "QuantityUnitOfMeasure", "StockKeepingUnit", "DisplayUrl"}),
    hooks=ProductHooks(),
)
