"""One record never stops a pass: mapping each record on its own when a batch fails, and values the other system
cannot carry refused per record, naming the field.

Both directions map a batch at once (:meth:`qbsf.mapping.compiled.Mapping.apply_many`). An exception there that is
not a record error (a value no transformation expected) is narrowed down here to the record that raised it, which
fails alone. Before anything is sent to QuickBooks, :func:`refuse_unsendable` checks every mapped value: a control
character qbXML cannot carry, or an amount that is NaN or Infinity, fails that record with a record error naming
the Salesforce field (and the QuickBooks one); tabs and line breaks in QuickBooks name fields become spaces.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from qbsf.errors import NeedsUser, QbsfError, SyncError

logger = logging.getLogger(__name__)


def map_each(mapping: Any, records: Sequence[Mapping[str, Any]], *, resolver: Any = None,
             label: str = "record") -> list[dict[str, Any] | SyncError]:
    """The mapping's result for each record: its target dict, or the error that fails that record alone.

    The batch is mapped at once; if that raises anything but a qbsf error (a Salesforce or QuickBooks call
    failing is the pass's business), each record is mapped on its own so only the one that raises fails.
    """
    rows = list(records)
    try:
        results = mapping.apply_many(rows, resolver=resolver).results
    except QbsfError:
        raise
    except Exception:  # narrowed down to the record below
        results = _one_by_one(mapping, rows, resolver, label)
    return [result if isinstance(result, dict | SyncError) else result.to_exception() for result in results]


def _one_by_one(mapping: Any, rows: list[Mapping[str, Any]], resolver: Any, label: str) -> list[Any]:
    from qbsf.mapping.compiled import resolve_links

    broken: dict[int, Exception] = {}
    needed: dict[Any, set[str]] = {}
    for index, row in enumerate(rows):
        try:
            for key, values in mapping.links_needed([row]).items():
                needed.setdefault(key, set()).update(values)
        except Exception as exc:  # this record fails alone
            broken[index] = exc
    lookups = resolve_links(needed, resolver) if resolver is not None and needed else None
    results: list[Any] = []
    for index, row in enumerate(rows):
        exc = broken.get(index)
        if exc is None:
            try:
                results.append(mapping.apply(row, lookups))
                continue
            except Exception as raised:  # this record fails alone
                exc = raised
        logger.warning("mapping %s failed on one %s: %r", getattr(mapping, "source", "?"), label, exc)
        results.append(NeedsUser(f"{label} {_name_of(row)}: the mapping could not be applied ({exc})",
                                 hint="check the record's values against the mapping's transformations"))
    return results


def _name_of(row: Mapping[str, Any]) -> str:
    for key in ("Name", "FullName", "RefNumber", "Id", "ListID", "TxnID"):
        if row.get(key):
            return repr(str(row[key]))
    return "(unnamed)"


def sources_of(mapping: Any) -> dict[str, str]:
    """Each target field of a mapping → the source field that feeds it (for messages that name the field)."""
    out: dict[str, str] = {}
    for rule in getattr(mapping, "rules", ()):
        if rule.source:
            out.setdefault(rule.target, rule.source)
    return out


def _not_an_amount(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, Decimal):
        return not value.is_finite()
    return False


def _field(path: str, sources: Mapping[str, str], system: str) -> str:
    source = sources.get(path)
    return f"{source} (QuickBooks {path})" if source else f"{system} {path}"


def refuse_unsendable(what: str, target: dict[str, Any], sources: Mapping[str, str] | None = None,
                      line_sources: Mapping[str, str] | None = None) -> SyncError | None:
    """Why ``target`` (a flat QuickBooks record, invoice ``lines`` included) cannot be sent, or None.

    Changes ``target`` in place: tabs and line breaks in name fields become spaces (names are one line in
    QuickBooks). ``what`` names the record (``Account 'Acme'``); ``sources`` name the Salesforce field of each
    target so the message says which field to fix.
    """
    from qbsf.quickbooks.limits import is_name_field, one_line, xml_unsafe

    def check(values: dict[str, Any], where: str, names: Mapping[str, str]) -> SyncError | None:
        for path, value in values.items():
            if isinstance(value, str):
                if is_name_field(path):
                    value = values[path] = one_line(value)
                unsafe = xml_unsafe(value)
                if unsafe:
                    return NeedsUser(f"{where}: {_field(path, names, 'QuickBooks')} contains a control character "
                                     f"({unsafe}) that QuickBooks cannot store: {value!r}",
                                     hint="remove the character in Salesforce and save the record; it syncs next "
                                          "cycle")
            elif _not_an_amount(value):
                return NeedsUser(f"{where}: {_field(path, names, 'QuickBooks')} is {value}, which is not an amount",
                                 hint="enter a number in Salesforce and save the record")
        return None

    header = {k: v for k, v in target.items() if k != "lines"}
    error = check(header, what, sources or {})
    target.update(header)
    if error is not None:
        return error
    for number, line in enumerate(target.get("lines") or (), start=1):
        if isinstance(line, dict):
            error = check(line, f"{what} line {number}", line_sources or {})
            if error is not None:
                return error
    return None


def refuse_non_numbers(what: str, payload: Mapping[str, Any], sources: Mapping[str, str] | None = None) \
        -> SyncError | None:
    """Why ``payload`` (a Salesforce record about to be written) cannot be sent: a NaN or Infinity amount."""
    for name, value in payload.items():
        if _not_an_amount(value):
            source = (sources or {}).get(name)
            field = f"{name} (from QuickBooks {source})" if source else name
            return NeedsUser(f"{what}: {field} is {value}, which is not an amount",
                             hint="correct the amount in QuickBooks; the record syncs when it changes")
    return None


def refuse_unreadable(what: str, flat: Mapping[str, Any]) -> SyncError | None:
    """Why a QuickBooks record (flat fields) cannot be synced: a value holding a character XML cannot carry.

    QuickBooks sent a control character (typed or imported into QuickBooks); the response reader marked it
    (:data:`qbsf.quickbooks.messages.UNREADABLE`) so that only this record fails, naming the field.
    """
    from qbsf.quickbooks.messages import UNREADABLE

    for path, value in flat.items():
        if isinstance(value, str) and UNREADABLE in value:
            return NeedsUser(f"{what}: QuickBooks {path} holds a control character that XML cannot carry "
                             f"(shown as {UNREADABLE}): {value!r}",
                             hint=f"remove the character from {path} in QuickBooks; the record syncs when it changes")
    return None
