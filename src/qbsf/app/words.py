"""Words a bookkeeper uses for what qbsf stores under Salesforce's API names."""

from __future__ import annotations

from qbsf.sync.entities import REGISTRY

#: The manual's words for qbsf's own (custom) objects, from their declarations; standard objects keep their names.
ENTITY_WORDS = {item.key: item.sf_word for item in REGISTRY if item.sf_object.endswith("__c") and item.sf_label}


def entity_word(name: str) -> str:
    """An entity as a bookkeeper says it: ``QB_Invoice__c`` → ``Invoice``."""
    return ENTITY_WORDS.get(name, name)
