"""QuickBooks → Salesforce without losing data: resets that re-send, deleted records recreated, no value shortened.

The manual's reasons to reset are "re-sync all QB records after a mapping change" and "SF records were accidentally
deleted and need to be recreated". So:

- A reset (the dashboard's button or ``qbsf sync qb-to-sf --reset``, the same call) leaves a *re-send mark* per
  entity; the next pass over that entity writes every record again — by Id when it is still in Salesforce, by
  external id when it is not (a deleted record is recreated, never doubled) — and clears the mark when it finishes.
- Before QuickBooks' values overwrite a Salesforce record that exists, Salesforce's current values are read, and a
  field whose QuickBooks value is only the form QuickBooks can hold of Salesforce's value keeps Salesforce's value:
  the street QuickBooks splits over Addr1 + Addr2, a name cut to QuickBooks' 41 characters. Two tests decide it:
  sending Salesforce's value through the outbound mapping gives exactly what QuickBooks holds now, or QuickBooks'
  value is Salesforce's cut at QuickBooks' field limit (:data:`qbsf.quickbooks.schema.FIELD_LIMITS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from qbsf.sync.changes import IDS_PER_QUERY
from qbsf.sync.conflicts import same
from qbsf.sync.state import StateStore


def resend_mark(entity: str) -> str:
    """The watermark key whose presence means: the next pass re-sends every record of ``entity``."""
    return f"qb:{entity}:resend"


def mark_resend(state: StateStore, entities: Iterable[str]) -> None:
    """Leave the re-send mark for each entity (the caller has reset its watermark and snapshots)."""
    for name in entities:
        state.set_watermark(resend_mark(name), "every record is written again on the next pass")


def resend_pending(state: StateStore, entity: str) -> bool:
    """True when a reset asked for every record of ``entity`` to be written again."""
    return state.get_watermark(resend_mark(entity)) is not None


def clear_resend(state: StateStore, entity: str) -> None:
    """The re-send of ``entity`` finished: later passes sync changes only."""
    state.reset_watermark(resend_mark(entity))


def read_current(sf: Any, spec: Any, works: Sequence[Any], fields: Iterable[str],
                 quote: Callable[[str], str]) -> dict[str, dict[str, Any] | None]:
    """Salesforce's current row of each work item (by external id, or by the linked Id), keyed by QuickBooks id.

    One query per 200 records; a record found by neither is None (deleted in Salesforce, or never there).
    """
    wanted = sorted({f for f in fields if f and f.casefold() not in ("id", spec.external_id.casefold())})
    select = ", ".join(["Id", spec.external_id, *wanted])
    found: dict[str, dict[str, Any] | None] = {w.qb_id: None for w in works}
    for start in range(0, len(works), IDS_PER_QUERY):
        chunk = works[start:start + IDS_PER_QUERY]
        keys = ", ".join(quote(w.qb_id) for w in chunk)
        ids = sorted({sf_id for w in chunk for sf_id in (_known_id(w),) if sf_id})
        where = f"{spec.external_id} IN ({keys})" + (f" OR Id IN ({', '.join(quote(i) for i in ids)})" if ids else "")
        rows = sf.query(f"SELECT {select} FROM {spec.sf_object} WHERE {where}")
        by_key = {str(row.get(spec.external_id) or "").casefold(): row for row in rows}
        by_id = {row["Id"]: row for row in rows}
        for work in chunk:
            sf_id = _known_id(work)
            found[work.qb_id] = by_key.get(work.qb_id.casefold()) or (by_id.get(sf_id) if sf_id else None)
    return found


def _known_id(work: Any) -> str | None:
    return work.sf_id or (work.link.sf_id if work.link is not None else None) or \
        (work.snapshot.sf_id if work.snapshot is not None else None)


def _canonical(qb_class: type | None, name: str) -> str:
    if qb_class is not None:
        from qbsf.errors import QbsfError
        from qbsf.quickbooks.records import canonical_path

        try:
            return canonical_path(qb_class, name)
        except (QbsfError, KeyError, ValueError):
            pass
    return name


def _get(row: Mapping[str, Any], name: str) -> Any:
    if name in row:
        return row[name]
    folded = name.casefold()
    return next((value for key, value in row.items() if key.casefold() == folded), None)


def _sources(inbound: Any, field: str, qb_class: type | None) -> list[str]:
    """The QuickBooks paths the inbound mapping reads for ``field`` (AddressJoin reads the lines after its own)."""
    from qbsf.mapping.transforms import MAX_ADDRESS_LINES

    out: list[str] = []
    for rule in getattr(inbound, "rules", ()):
        if rule.target.casefold() != field.casefold() or not rule.source:
            continue
        path = _canonical(qb_class, rule.source)
        head, dot, last = path.rpartition(".")
        if any(step.name == "AddressJoin" for step in rule.steps) and last[-1:].isdigit():
            out.extend(f"{head}{dot}{last[:-1]}{n}" for n in range(int(last[-1]), MAX_ADDRESS_LINES + 1))
        else:
            out.append(path)
    return out


def keep_salesforce(changes: Mapping[str, Any], row: Mapping[str, Any], qb_flat: Mapping[str, Any], *,
                    inbound: Any, outbound: Any | None, qb_record: Any) -> dict[str, Any]:
    """The fields of ``changes`` whose Salesforce value (in ``row``) must stay: QuickBooks holds only its short form.

    Returns field → Salesforce's value, for the caller to leave out of the write and to record as agreed.
    """
    from qbsf.quickbooks.schema import FIELD_LIMITS

    qb_class = type(qb_record) if qb_record is not None else None
    limits = FIELD_LIMITS.get(qb_class.__name__, {}) if qb_class is not None else {}
    image: dict[str, Any] | None = None
    if outbound is not None:
        try:
            sent = outbound.apply(row)
        except Exception:  # an image that cannot be computed protects nothing; the limits test still runs
            sent = None
        if isinstance(sent, dict):
            image = {_canonical(qb_class, key): value for key, value in sent.items()}
    kept: dict[str, Any] = {}
    for field, new in changes.items():
        current = _get(row, field)
        if current in (None, "") or same(current, new):
            continue
        sources = _sources(inbound, field, qb_class)
        if not sources:
            continue
        if image is not None and any(path in image for path in sources) and all(
                same(image.get(path), qb_flat.get(path)) for path in sources):
            kept[field] = current  # Salesforce's value, sent to QuickBooks, is exactly what QuickBooks holds
            continue
        if isinstance(current, str) and isinstance(new, str) and len(sources) == 1:
            held = qb_flat.get(sources[0])
            limit = limits.get(sources[0])
            if limit is not None and isinstance(held, str) and len(held) >= limit \
                    and current.strip().startswith(held.strip()) and len(current.strip()) > len(held.strip()):
                kept[field] = current  # QuickBooks holds Salesforce's value cut at its field limit
    return kept
