"""One error hierarchy for qbsf, split by what happens next.

Every layer raises subclasses of these, classified once where the error is
first understood (QuickBooks status codes in ``qbsf.quickbooks.errors``,
Salesforce error codes in ``qbsf.salesforce.errors``). The sync engine only
looks at the class to decide: retry later, retry after a parent syncs, park
the record for a person, or skip it.
"""

from __future__ import annotations


class QbsfError(Exception):
    """An error qbsf raises on purpose: a message a user can read and, where known, what to do."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} → {self.hint}" if self.hint else self.message


class SyncError(QbsfError):
    """An error about one record or one call that the sync engine knows how to handle."""


class Retriable(SyncError):
    """Transient: the same request may succeed later (QuickBooks busy, Salesforce lock, 5xx, timeouts)."""


class AfterDependency(SyncError):
    """The record refers to something not synced yet: retry once the parent record has synced.

    ``parent`` names that record when it is known — (entity, Salesforce Id or QuickBooks id) — so the record is
    retried when the parent is linked instead of on a timer (see ``qbsf.sync.policy``).
    """

    parent: tuple[str, str] | None = None

    def __init__(self, message: str, *, hint: str | None = None, parent: tuple[str, str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.parent = parent


class NeedsUser(SyncError):
    """Nothing will change until a person acts (bad data, name in use, missing setting)."""


class Skippable(SyncError):
    """The record is gone or irrelevant on the other side: record it and move on."""


class ConfigError(QbsfError):
    """A setting, file or credential is missing or wrong; the message names it and the fix."""


class XmlError(QbsfError):
    """A document is not well-formed XML, or uses features qbsf refuses (DTDs, entities)."""
