"""What the outbound engine needs from QuickBooks and Salesforce, as small protocols.

The engine talks to these, not to the clients directly, so one adapter per client (``qbsf.sync.adapters``)
holds every detail of their APIs, and the engine's logic reads as the sync it is.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from qbsf.errors import SyncError


@dataclass(frozen=True)
class QbWrite:
    """The answer to one QuickBooks Add or Mod: the record's id and EditSequence, or the typed error."""

    qb_id: str | None = None
    edit_sequence: str | None = None
    full_name: str | None = None
    error: SyncError | None = None
    # A Mod found QuickBooks already holding every value: nothing was sent.
    unchanged: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class QbFound:
    """A QuickBooks record found by a query, reduced to what matching and reconciling need."""

    qb_id: str
    full_name: str
    edit_sequence: str | None = None
    external_guid: str | None = None
    qb_type: str = ""
    email: str = ""
    phone: str = ""


class QuickBooksPort(Protocol):
    """QuickBooks as the outbound engine sees it. Every method sends as few messages as it can."""

    @property
    def messages(self) -> int:
        """How many qbXML messages have been sent so far."""
        ...

    def add_many(self, qb_type: str, records: Sequence[Mapping[str, Any]]) -> list[QbWrite]:
        """Add records of ``qb_type`` (Customer, ItemService, ItemNonInventory, ItemInventory, Invoice)."""
        ...

    def mod_many(self, qb_type: str, records: Sequence[Mapping[str, Any]]) -> list[QbWrite]:
        """Modify records (each carries ListID/TxnID and EditSequence); invoice lines are replaced."""
        ...

    def void_many(self, qb_type: str, qb_ids: Sequence[str]) -> list[QbWrite]:
        """Void transactions (TxnVoid): QuickBooks keeps each, with its amounts at zero."""
        ...

    def edit_sequences(self, qb_entity: str, qb_ids: Collection[str]) -> dict[str, QbFound]:
        """The current EditSequence (and type, name) of each id that exists, in one query."""
        ...

    def current_values(self, qb_id: str) -> tuple[dict[str, Any], datetime | None] | None:
        """The flat fields and TimeModified of a record read or written this cycle (None if not read): what the
        three-way merge compares with the base."""
        ...

    def find_by_names(self, qb_entity: str, full_names: Collection[str]) -> list[QbFound]:
        """Records of ``qb_entity`` (Customer or Item) with these full names, in one query."""
        ...

    def modified_since(self, qb_entity: str, since: datetime) -> list[QbFound]:
        """Records of ``qb_entity`` modified since ``since``, headers only (to reconcile journaled Adds of an entity
        whose records carry no unique name, such as invoices)."""
        ...

    def list_all(self, qb_entity: str) -> list[QbFound]:
        """Every active record of ``qb_entity`` (Customer or Item), for link proposals."""
        ...

    def external_guid(self, sf_id: str) -> str:
        """The ExternalGUID qbsf puts on the QuickBooks record created from Salesforce record ``sf_id``."""
        ...


@dataclass(frozen=True)
class SfWrite:
    """The answer to one record of a Salesforce collection write."""

    ok: bool
    message: str | None = None
    error: SyncError | None = None


class SalesforcePort(Protocol):
    """Salesforce as the outbound engine sees it."""

    @property
    def calls(self) -> int:
        """How many API calls have been made so far."""
        ...

    def query(self, soql: str) -> list[dict[str, Any]]:
        """Every record of a SOQL query (following nextRecordsUrl)."""
        ...

    def update_many(self, sobject: str, records: Sequence[Mapping[str, Any]]) -> list[SfWrite]:
        """Update records by Id in collections of 200; one result per record, in order."""
        ...
