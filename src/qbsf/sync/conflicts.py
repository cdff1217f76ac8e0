"""Conflicts between QuickBooks and Salesforce: the same mapped field changed on both sides since the last sync.

The three-way merge (:mod:`qbsf.sync.merge`) finds them against the values both sides last agreed on; a field is
a conflict when QuickBooks' value and Salesforce's value both moved away from that base and differ from each other.
The configured :class:`ConflictPolicy` picks the winner:

- ``newest`` (default): the side modified last (QuickBooks ``TimeModified`` vs Salesforce ``LastModifiedDate``);
  a tie goes to QuickBooks, the system of record for money;
- ``salesforce``: Salesforce's value stays (and the outbound sync carries it to QuickBooks);
- ``quickbooks``: QuickBooks' value is written to Salesforce.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from qbsf.errors import ConfigError

# Plain decimals only: "02134" is a postal code, not 2134.
_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?")


class ConflictPolicy(enum.StrEnum):
    """Who wins a field changed on both sides."""

    NEWEST = "newest"
    SALESFORCE = "salesforce"
    QUICKBOOKS = "quickbooks"

    @classmethod
    def parse(cls, value: str | ConflictPolicy | None) -> ConflictPolicy:
        """The policy named by a setting; a clear error for anything else."""
        if isinstance(value, ConflictPolicy):
            return value
        text = (value or "newest").strip().casefold()
        for policy in cls:
            if policy.value == text:
                return policy
        raise ConfigError(f"conflict policy {value!r} is not one of newest, salesforce, quickbooks",
                          hint="set sync.conflict_policy to newest (default), salesforce or quickbooks")


def normalise(value: Any) -> Any:
    """A value in a form both systems agree on: empty is None, numbers compare as Decimals, text is stripped.

    Salesforce answers 12.5 where the mapping produced "12.50", and true where QuickBooks said "true".
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    text = str(value).strip()
    if text == "":
        return None
    if text.casefold() in ("true", "false"):
        return text.casefold() == "true"
    if _NUMBER.fullmatch(text):
        return Decimal(text).normalize()
    return text


def same(a: Any, b: Any) -> bool:
    """True when two field values mean the same thing (see :func:`normalise`)."""
    return normalise(a) == normalise(b)


@dataclass(frozen=True)
class Conflict:
    """One field changed on both sides; ``winner`` is ``"quickbooks"`` or ``"salesforce"``."""

    field: str
    qb_value: Any
    sf_value: Any
    base_value: Any
    winner: str

    def describe(self) -> str:
        """One activity-log line with both values."""
        return (f"conflict on {self.field}: QuickBooks {self.qb_value!r}, Salesforce {self.sf_value!r} "
                f"(was {self.base_value!r}) → {self.winner} wins")


def pick_winner(policy: ConflictPolicy, qb_modified: datetime | None, sf_modified: datetime | None) -> str:
    """``"quickbooks"`` or ``"salesforce"`` under ``policy``; newest compares modification times."""
    if policy is ConflictPolicy.SALESFORCE:
        return "salesforce"
    if policy is ConflictPolicy.QUICKBOOKS:
        return "quickbooks"
    if qb_modified is None or sf_modified is None:
        return "quickbooks" if sf_modified is None else "salesforce"
    return "salesforce" if sf_modified > qb_modified else "quickbooks"
