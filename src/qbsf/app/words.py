"""Words a bookkeeper uses for what qbsf stores under Salesforce's API names."""

from __future__ import annotations

#: The manual's words (the rest already are: Account, Contact, Product2, Opportunity).
ENTITY_WORDS = {"QB_Invoice__c": "Invoice"}


def entity_word(name: str) -> str:
    """An entity as a bookkeeper says it: ``QB_Invoice__c`` → ``Invoice``."""
    return ENTITY_WORDS.get(name, name)
