"""Matching records that already exist on both sides: normalised names, emails and phone numbers.

Used by ``qbsf link`` (proposals a person reviews) and by the engine before a QuickBooks Add (an unlinked
QuickBooks record with the same name is matched, or reported as a conflict, never silently duplicated).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_PUNCTUATION = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalise_name(text: Any) -> str:
    """A name compared without case, accents, punctuation or repeated spaces: ``"ACME, Inc."`` → ``"acme inc"``."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", plain.casefold())).strip()


def normalise_email(text: Any) -> str:
    """An email address compared without case or surrounding spaces."""
    return "" if text is None else str(text).strip().casefold()


def normalise_phone(text: Any) -> str:
    """A phone number as its last ten digits (so ``+1 (555) 010-0100`` equals ``555.010.0100``)."""
    digits = re.sub(r"\D", "", "" if text is None else str(text))
    return digits[-10:] if len(digits) >= 7 else ""


@dataclass(frozen=True)
class Candidate:
    """A record on one side, reduced to what matching compares."""

    id: str
    name: str
    email: str = ""
    phone: str = ""
    record: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Proposal:
    """A proposed link: the Salesforce record, the QuickBooks record, and why they match."""

    sf_id: str
    qb_id: str
    sf_name: str
    qb_name: str
    reason: str  # "name", "email" or "phone"


@dataclass(frozen=True)
class Ambiguity:
    """A key shared by several records on one side: a person must choose."""

    reason: str
    key: str
    sf_ids: tuple[str, ...]
    qb_ids: tuple[str, ...]


_KEYS: Sequence[tuple[str, Callable[[Candidate], str]]] = (
    ("name", lambda c: normalise_name(c.name)),
    ("email", lambda c: normalise_email(c.email)),
    ("phone", lambda c: normalise_phone(c.phone)),
)


def propose_links(sf: Iterable[Candidate], qb: Iterable[Candidate]) -> tuple[list[Proposal], list[Ambiguity]]:
    """One-to-one link proposals by normalised name, then email, then phone; ambiguous keys are reported.

    Each record is proposed at most once; a key shared by two records on the same side is never guessed.
    """
    sf_left = {c.id: c for c in sf}
    qb_left = {c.id: c for c in qb}
    proposals: list[Proposal] = []
    ambiguities: list[Ambiguity] = []
    for reason, key_of in _KEYS:
        sf_by: dict[str, list[Candidate]] = defaultdict(list)
        qb_by: dict[str, list[Candidate]] = defaultdict(list)
        for candidate in sf_left.values():
            if key := key_of(candidate):
                sf_by[key].append(candidate)
        for candidate in qb_left.values():
            if key := key_of(candidate):
                qb_by[key].append(candidate)
        for key in sorted(sf_by.keys() & qb_by.keys()):
            sides = sf_by[key], qb_by[key]
            if len(sides[0]) > 1 or len(sides[1]) > 1:
                ambiguities.append(Ambiguity(reason, key, tuple(c.id for c in sides[0]),
                                             tuple(c.id for c in sides[1])))
                continue
            (sf_record,), (qb_record,) = sides
            proposals.append(Proposal(sf_record.id, qb_record.id, sf_record.name, qb_record.name, reason))
            del sf_left[sf_record.id]
            del qb_left[qb_record.id]
    return proposals, ambiguities
