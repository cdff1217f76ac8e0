"""QuickBooks → Salesforce: an unlinked QuickBooks record whose name Salesforce already has is linked, not doubled.

The inbound twin of the outbound pass's name matching (``OutboundSync._match_existing``), under the same
``sync.on_existing_name`` setting: before a QuickBooks Customer or Item that was never synced creates an Account or
a Product2, the Salesforce records of that name are read (one query per 200 names). One unlinked record of the
same name → it is linked (``link``, the default) and updated by Id, so Opportunities using it keep their Product2
and get invoiced; or the QuickBooks record fails with a message saying how to link them (``report``). Several
Salesforce records of that name, or one already linked to another QuickBooks record, are never guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from qbsf.errors import NeedsUser
from qbsf.sync.state import StateStore

# Salesforce names per SOQL IN list (keeps the query URL well under Salesforce's limit).
NAMES_PER_QUERY = 200


def _key(name: Any) -> str:
    return " ".join(str(name or "").split()).casefold()


# Names per SOQL query of LIKE conditions (each condition is a prefix the size of a QuickBooks name).
PREFIXES_PER_QUERY = 20


def _like(prefix: str) -> str:
    """A SOQL ``LIKE`` literal matching every value that starts with ``prefix``."""
    escaped = prefix.replace("\\", "\\\\").replace("'", "\\'").replace("_", "\\_").replace("%", "\\%")
    return f"'{escaped}%'"


def _cut_names(spec: Any, unmatched: list[tuple[str, Any]], sf: Any,
               by_name: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Salesforce records whose name QuickBooks holds cut at its Name limit (outbound's ``Left:41``): found by
    prefix, added to ``by_name`` under the QuickBooks name, and returned."""
    from qbsf.quickbooks.schema import FIELD_LIMITS

    wanted: dict[str, tuple[int, str]] = {}
    for key, work in unmatched:
        name = str(work.flat.get("Name") or "")
        limit = FIELD_LIMITS.get(type(work.record).__name__, {}).get("Name")
        if limit and len(name) >= limit and ":" not in str(work.flat.get("FullName") or name):
            wanted[key] = (limit, name)
    found: list[dict[str, Any]] = []
    prefixes = sorted(wanted.items())
    for start in range(0, len(prefixes), PREFIXES_PER_QUERY):
        chunk = prefixes[start:start + PREFIXES_PER_QUERY]
        rows = sf.query(f"SELECT Id, Name, {spec.external_id} FROM {spec.sf_object} WHERE "
                        + " OR ".join(f"Name LIKE {_like(name)}" for _key_, (_limit, name) in chunk))
        for row in rows:
            for key, (limit, _name) in chunk:
                if _key(str(row.get("Name") or "").strip()[:limit]) == key:
                    by_name.setdefault(key, []).append(row)
                    found.append(row)
    return found


def link_by_name(spec: Any, works: Sequence[Any], sf: Any, state: StateStore, *, policy: str,
                 quote: Callable[[str], str]) -> int:
    """Give each never-synced work item (no link, no snapshot) the Id of the Salesforce record with its name.

    ``works`` are the inbound pass's items (``flat``, ``label``, ``link``, ``snapshot``, ``payload``, ``sf_id``,
    ``error``). Returns how many were matched; items that must not be created get their ``error`` set.
    """
    if not spec.declared.matches_by_name:  # lists match by name; transactions (invoices) never do
        return 0
    fresh = [w for w in works if w.payload is not None and w.error is None and w.outcome is None
             and w.link is None and w.snapshot is None and not w.sf_id]
    names = {_key(w.flat.get("FullName") or w.flat.get("Name")): w for w in fresh}
    names.pop("", None)
    if not names:
        return 0
    rows: list[dict[str, Any]] = []
    wanted = sorted({str(w.flat.get("FullName") or w.flat.get("Name")) for w in names.values()})
    for start in range(0, len(wanted), NAMES_PER_QUERY):
        chunk = wanted[start:start + NAMES_PER_QUERY]
        rows.extend(sf.query(f"SELECT Id, Name, {spec.external_id} FROM {spec.sf_object} WHERE Name IN "
                             f"({', '.join(quote(name) for name in chunk)})"))
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_name.setdefault(_key(row.get("Name")), []).append(row)
    rows.extend(_cut_names(spec, [(key, work) for key, work in names.items() if key not in by_name], sf, by_name))
    linked = state.lookup_many(spec.crosswalk, [row["Id"] for row in rows])
    matched = 0
    for key, work in names.items():
        found = by_name.get(key, [])
        if not found:
            continue  # nothing of that name in Salesforce: created by external id as before
        ours = [row for row in found if str(row.get(spec.external_id) or "").casefold() == work.qb_id.casefold()]
        if ours:
            work.sf_id = ours[0]["Id"]  # already carries this QuickBooks id: the upsert would find it too
            matched += 1
            continue
        free = [row for row in found if not row.get(spec.external_id) and row["Id"] not in linked]
        entity = spec.sf_word
        article = "an" if entity[:1].upper() in "AEIOU" else "a"
        if len(free) > 1:
            work.error = NeedsUser(
                f"QuickBooks {spec.name} {work.label!r}: Salesforce has {len(free)} {entity} records of that name, not "
                f"linked to QuickBooks, so qbsf cannot tell which one it is",
                hint=f"run `qbsf link --entity {spec.crosswalk}` to link the right one, or rename the others")
        elif not free:
            other = found[0]
            owner = other.get(spec.external_id) or (linked[other["Id"]].qb_id if other["Id"] in linked else "?")
            work.error = NeedsUser(
                f"QuickBooks {spec.name} {work.label!r}: Salesforce already has the {entity} of that name "
                f"({other['Id']}), synced with QuickBooks {spec.name} {owner}",
                hint="rename one of the two QuickBooks records")
        elif policy == "link":
            work.sf_id = free[0]["Id"]
            matched += 1
        else:
            work.error = NeedsUser(
                f"QuickBooks {spec.name} {work.label!r}: Salesforce already has {article} {entity} of that name "
                f"({free[0]['Id']}) that is not linked to it",
                hint=f"run `qbsf link --entity {spec.crosswalk}` to link them, or rename one")
    return matched
