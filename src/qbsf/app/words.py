"""Words a bookkeeper uses for what qbsf stores under Salesforce's API names and QuickBooks' entity names."""

from __future__ import annotations

from qbsf.sync.entities import REGISTRY, inbound_entities

#: The manual's words for qbsf's own (custom) objects, from their declarations; standard objects keep their names.
#: The QuickBooks → Salesforce pass names an entity by its QuickBooks name (its watermark and report key): those
#: take the declaration's word too (``ReceivePayment`` → ``Payment``, ``CreditMemo`` → ``Credit Memo``).
ENTITY_WORDS = {
    **{item.qb_entity: item.qb_word for item in inbound_entities() if item.qb_label},
    **{item.key: item.sf_word for item in REGISTRY if item.sf_object.endswith("__c") and item.sf_label},
}


def entity_word(name: str) -> str:
    """An entity as a bookkeeper says it: ``QB_Invoice__c`` → ``Invoice``, ``ReceivePayment`` → ``Payment``."""
    return ENTITY_WORDS.get(name, name)
