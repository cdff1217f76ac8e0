"""Mapping sheets: which way each moves data, and how a file name says which sheet a CSV is.

The sheets themselves are declared by the layer above (see :class:`Catalogue`): mapping knows no entity."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class Direction(enum.Enum):
    """Which way a mapping moves data."""

    SF_TO_QB = "SF→QB"
    QB_TO_SF = "QB→SF"

    @property
    def source_system(self) -> str:
        """The system whose record is read (column 1 of the CSV)."""
        return "Salesforce" if self is Direction.SF_TO_QB else "QuickBooks"

    @property
    def target_system(self) -> str:
        """The system whose record is written (column 2 of the CSV)."""
        return "QuickBooks" if self is Direction.SF_TO_QB else "Salesforce"


@dataclass(frozen=True, slots=True)
class MappingKind:
    """One template sheet: its name, direction, Salesforce object and QuickBooks entity."""

    sheet: str
    direction: Direction
    sf_object: str
    qb_entity: str
    child: bool = False
    parent_sheet: str | None = None

    @property
    def source_object(self) -> str:
        """The object or entity records are read from."""
        return self.sf_object if self.direction is Direction.SF_TO_QB else self.qb_entity

    @property
    def target_object(self) -> str:
        """The object or entity records are written to."""
        return self.qb_entity if self.direction is Direction.SF_TO_QB else self.sf_object

    def __str__(self) -> str:
        return f"{self.sheet} ({self.source_object} → {self.target_object}, {self.direction.value})"


class UnknownKind(ValueError):
    """The file name does not say which mapping it is (the message says how to name it)."""


class Catalogue:
    """The mapping sheets an installation knows, and how a file name says which one a CSV is.

    The mapping layer knows no entity: the layer above declares the sheets (``qbsf.sync.entities`` builds the
    catalogue from its registry and installs it with :func:`use_catalogue`); tests build their own.

    ``words`` are what a file name may carry instead of a full sheet name (the manual's entity words: Acct,
    Product, Oppty, Invoice), each naming a sheet. ``own_fields`` are the standard Salesforce fields that belong to
    exactly one synced object (Salesforce's object reference): a mapping whose Salesforce column names one of
    another object's is the wrong file for its sheet.
    """

    def __init__(self, kinds: Iterable[MappingKind], *, words: Mapping[str, str] | None = None,
                 own_fields: Mapping[str, frozenset[str]] | None = None) -> None:
        self.kinds: tuple[MappingKind, ...] = tuple(kinds)
        self.by_sheet: dict[str, MappingKind] = {kind.sheet.casefold(): kind for kind in self.kinds}
        if len(self.by_sheet) != len(self.kinds):
            raise ValueError("two mapping sheets have the same name")
        aliases = {word.casefold(): self.by_sheet[sheet.casefold()] for word, sheet in (words or {}).items()}
        # Full sheet names are longer than entity words, so they always win over them.
        self.candidates: tuple[tuple[str, MappingKind], ...] = tuple(
            sorted([*((k.sheet.casefold(), k) for k in self.kinds), *aliases.items()], key=lambda item: -len(item[0])))
        self.sheet_names = ", ".join(kind.sheet for kind in self.kinds)
        self.own_fields: dict[str, frozenset[str]] = dict(own_fields or {})

    def owner_of_field(self, kind: MappingKind, name: str) -> str | None:
        """The other synced Salesforce object ``name`` is a standard field of, when it is not one of ``kind``'s.

        Custom (__c) and shared fields (Name, Phone, Description) say nothing and are never judged here; the
        org's describe checks everything else."""
        if "." in name or name.casefold().endswith("__c"):
            return None
        own = self.own_fields.get(kind.sf_object, frozenset())
        if name in own:
            return None
        return next((sobject for sobject, fields in self.own_fields.items() if name in fields), None)

    def sheet_for(self, sf_object: str, direction: Direction) -> MappingKind | None:
        """The sheet moving ``sf_object`` in ``direction`` (None when there is none)."""
        return next((k for k in self.kinds if k.sf_object == sf_object and k.direction is direction), None)

    def kind_from_filename(self, name: str) -> MappingKind:
        """Which sheet a file is, from its name: the sheet name (or the entity words) found in it.

        Matching is case-insensitive and anywhere in the name, so an Excel export such as
        ``QB_SF_Mapping_Template_v3 - Customer_to_Acct.csv`` is ``Customer_to_Acct`` (inbound) even though it
        also contains ``Acct``. ``_CHILD_`` in the name asks for the child (line) mapping of the parent named.
        Raises :class:`UnknownKind` when no sheet name is present, or the name could mean two sheets (two sheet
        names, or entity words of two sheets such as ``Oppty_Invoice.csv``), listing the candidates.
        """
        stem = name.replace("\\", "/").rsplit("/", 1)[-1].casefold()
        found = [(word, kind) for word, kind in self.candidates if word in stem]
        # a word inside a longer word found is part of it: acct in customer_to_acct, oppty in opptylines
        found = [(word, kind) for word, kind in found
                 if not any(word != other and word in other for other, _ in found)]
        if not found:
            raise UnknownKind(
                f"the file name does not say which mapping this is; put one of the template sheet names in it "
                f"({self.sheet_names}), e.g. '{self._example()}'"
            )
        if "_child_" in stem:
            children = [kind for kind in self.kinds if kind.child]
            found = [item for item in found if item[1].child] or [
                (word, child) for word, kind in found for child in children if child.parent_sheet == kind.sheet]
            if not found:
                described = " or ".join(f"{c.sheet} ({c.sf_object} → {c.qb_entity}, lines of {c.parent_sheet})"
                                        for c in children)
                raise UnknownKind(
                    "the file name has _CHILD_ but names no parent with child mappings; "
                    + (f"the only child sheet is {described}" if len(children) == 1
                       else f"the child sheets are {described}" if children else "no sheet has child mappings"))
        # A full sheet name says which mapping it is; entity words alone (Oppty, Invoice) only when they agree.
        sheets = {kind for word, kind in found if word == kind.sheet.casefold()}
        if len(sheets) > 1:
            names = " and ".join(sorted(kind.sheet for kind in sheets))
            raise UnknownKind(f"the file name matches both {names}; keep only one sheet name in it")
        if sheets:
            return sheets.pop()
        candidates = {kind for _, kind in found}
        if len(candidates) > 1:
            names = sorted(kind.sheet for kind in candidates)
            words = ", ".join(sorted({word for word, _ in found}))
            raise UnknownKind(
                f"the file name is ambiguous: its words ({words}) could mean {' or '.join(names)}; rename it to "
                f"the one sheet it is, e.g. '{names[0]}.csv'"
            )
        return candidates.pop()

    def kind_by_sheet(self, sheet: str) -> MappingKind:
        """The kind for an exact sheet name (case-insensitive); raises :class:`UnknownKind` otherwise."""
        try:
            return self.by_sheet[sheet.strip().casefold()]
        except KeyError:
            raise UnknownKind(f"no template sheet is called {sheet!r}; the sheets are {self.sheet_names}") from None

    def _example(self) -> str:
        first = self.kinds[0].sheet if self.kinds else "Acct_to_Customer"
        return f"QB_SF_Mapping_Template_v3 - {first}.csv"


_current: Catalogue | None = None


def use_catalogue(catalogue: Catalogue | None) -> Catalogue | None:
    """Install the catalogue every mapping load uses from now on; returns the one it replaces."""
    global _current
    previous, _current = _current, catalogue
    return previous


def catalogue() -> Catalogue:
    """The installed catalogue (a clear error when none is: the sync layer installs it when imported)."""
    if _current is None:
        raise UnknownKind("no mapping sheets are declared yet: import qbsf.sync.entities (the registry of synced "
                          "entities) before loading a mapping")
    return _current


def owner_of_field(kind: MappingKind, name: str) -> str | None:
    """The other synced Salesforce object ``name`` is a standard field of (see :class:`Catalogue`)."""
    return catalogue().owner_of_field(kind, name)


def sheet_for(sf_object: str, direction: Direction) -> MappingKind | None:
    """The sheet moving ``sf_object`` in ``direction`` (None when there is none)."""
    return catalogue().sheet_for(sf_object, direction)


def kind_from_filename(name: str) -> MappingKind:
    """Which sheet a file is, from its name (see :meth:`Catalogue.kind_from_filename`)."""
    return catalogue().kind_from_filename(name)


def kind_by_sheet(sheet: str) -> MappingKind:
    """The kind for an exact sheet name (case-insensitive); raises :class:`UnknownKind` otherwise."""
    return catalogue().kind_by_sheet(sheet)


def __getattr__(name: str) -> object:
    # KINDS and SHEET_NAMES are the installed catalogue's, read when asked for (never a stale copy).
    if name == "KINDS":
        return catalogue().kinds
    if name == "SHEET_NAMES":
        return catalogue().sheet_names
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
