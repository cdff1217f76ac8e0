"""Three-way merge: the diff step both directions share (Salesforce → QuickBooks and QuickBooks → Salesforce).

For every synced pair of records qbsf keeps a *base*: the values each side held when both last agreed (one dict
per side, see :class:`Base`). A pass compares its source side with the base to find what a person changed there,
and the target side with the base to find what changed there:

- changed on the source side only → sent;
- changed on the target side only → left alone (it is a real change: it travels the other way in its own pass);
- changed on both sides to different values → a conflict, decided by the conflict policy and logged with both
  values; changed on both sides to the same value → nothing to send, and nothing to report.

A decision is carried out whichever pass makes it: when the *target* wins, the losing source value is accounted
for in the base (the source side's base moves to it), so the other pass sees the target's value as a plain
change of its own source and sends it. The outcome does not depend on which pass runs first. When no mapping of
the other direction carries the field back (``carried`` says so), the target's win could never reach the source
side: the conflict is *stuck* — nothing is accounted for, and the pass fails the record with what to do, so the
two systems are never left silently different.

The functions here are pure: they take values and return decisions; storing the base is
:mod:`qbsf.sync.merge_state`'s job, reading and writing the systems the passes'.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from qbsf.sync.conflicts import Conflict, ConflictPolicy, normalise, pick_winner

SALESFORCE = "salesforce"
QUICKBOOKS = "quickbooks"
# A base key holding a target field's own mapped value: for fields no source field feeds (a Static, a default,
# something the engine adds), the mapped value stands for its source.
OWN = "="


def canon(value: Any) -> Any:
    """A value in one form per meaning, nested lists and dicts too (see :func:`qbsf.sync.conflicts.normalise`)."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k).casefold(), canon(v)) for k, v in value.items() if canon(v) is not None))
    if isinstance(value, list | tuple):
        return tuple(canon(v) for v in value)
    found = normalise(value)
    return format(found, "f") if isinstance(found, Decimal) else found


def same(a: Any, b: Any) -> bool:
    """True when two values mean the same thing (``12.50`` and ``12.5``, ``""`` and None, nested too)."""
    return canon(a) == canon(b)


def stored(value: Any) -> Any:
    """A value as a base keeps it (JSON-friendly; compares equal to the original with :func:`same`)."""
    if isinstance(value, Mapping):
        return {str(k): stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [stored(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@dataclass
class Base:
    """The values both sides last agreed on for one synced pair of records.

    ``salesforce`` and ``quickbooks`` hold each side's values keyed by field (casefolded; QuickBooks fields in
    their canonical dotted path); None means nothing is known about that side yet. ``lines`` is the per-line base
    of a transaction (see :mod:`qbsf.sync.merge` line functions); ``reported`` remembers QuickBooks-only lines
    already reported once.
    """

    sf_id: str | None = None
    salesforce: dict[str, Any] | None = None
    quickbooks: dict[str, Any] | None = None
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)
    reported: list[str] = field(default_factory=list)

    def side(self, name: str) -> dict[str, Any] | None:
        """One side's values (``"salesforce"`` or ``"quickbooks"``)."""
        return self.salesforce if name == SALESFORCE else self.quickbooks

    def updated(self, *, sf_id: str | None = None, salesforce: Mapping[str, Any] | None = None,
                quickbooks: Mapping[str, Any] | None = None) -> Base:
        """A copy with some values agreed anew (the others keep their last agreed value)."""
        return Base(sf_id=sf_id or self.sf_id,
                    salesforce={**(self.salesforce or {}), **{k: stored(v) for k, v in (salesforce or {}).items()}},
                    quickbooks={**(self.quickbooks or {}), **{k: stored(v) for k, v in (quickbooks or {}).items()}},
                    lines=dict(self.lines), reported=list(self.reported))


@dataclass
class FieldMerge:
    """What one pass does with one record's fields."""

    send: dict[str, Any] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    # Target fields a person changed on the target side (or that won a conflict there): kept as the target has
    # them, for the other direction's pass to carry (target field → the target's value).
    left: dict[str, Any] = field(default_factory=dict)
    # Base entries this merge accounted for, per side (key → value); the target's are the values as sent, to be
    # replaced by what the target answers once written.
    agreed_source: dict[str, Any] = field(default_factory=dict)
    agreed_target: dict[str, Any] = field(default_factory=dict)
    # Conflicts the target won that no mapping of the other direction carries back: the record must fail.
    stuck: list[Conflict] = field(default_factory=list)

    @property
    def sends_nothing(self) -> bool:
        return not self.send


def _key(name: str) -> str:
    return name.casefold()


def source_key(feeds: Mapping[str, Sequence[str]], target: str, target_key: Callable[[str], str]) -> list[str]:
    """The base keys that stand for ``target``'s source: its feeding fields, or its own mapped value."""
    sources = feeds.get(target)
    return [_key(s) for s in sources] if sources else [OWN + target_key(target)]


def _source_value(key: str, source: Mapping[str, Any], proposed_value: Any) -> Any:
    return proposed_value if key.startswith(OWN) else source.get(key)


def source_changes(base_source: Mapping[str, Any] | None, source: Mapping[str, Any], proposed: Mapping[str, Any],
                   feeds: Mapping[str, Sequence[str]], *, target_key: Callable[[str], str] = _key,
                   always: Collection[str] = ()) -> set[str]:
    """Target fields whose source changed since ``base_source`` (every field when there is no base).

    ``source`` holds the source side's current values keyed like the base (casefolded); a source field the base
    does not know counts as changed when it holds a value (the base was written by the other direction, which
    never set it).
    """
    if base_source is None:
        return set(proposed)
    changed: set[str] = set()
    for name, value in proposed.items():
        if name in always:
            continue
        for key in source_key(feeds, name, target_key):
            if not same(_source_value(key, source, value), base_source.get(key)):
                changed.add(name)
                break
    return changed


def merge_fields(*, base_source: Mapping[str, Any] | None, base_target: Mapping[str, Any] | None,
                 source: Mapping[str, Any], proposed: Mapping[str, Any], feeds: Mapping[str, Sequence[str]],
                 target: Mapping[str, Any] | None, policy: ConflictPolicy | str, source_side: str,
                 source_modified: datetime | None, target_modified: datetime | None,
                 always: Collection[str] = (), target_key: Callable[[str], str] = _key,
                 labels: Mapping[str, str] | None = None,
                 carried: Callable[[str], bool] | None = None) -> FieldMerge:
    """Decide, field by field, what a pass from ``source_side`` sends to the other side.

    - ``base_source`` / ``base_target``: each side's agreed values (:class:`Base`), None when unknown;
    - ``source``: the source side's current values keyed like its base (casefolded field names);
    - ``proposed``: what the mapping makes of the source, keyed by target field;
    - ``feeds``: target field → the source fields it is made from (casefolded); fields without feed stand for
      themselves (their mapped value is compared with the base);
    - ``target``: the target's current values keyed like ``proposed`` (None: unknown, nothing is left alone);
    - ``always``: target fields always sent (an external id); ``target_key``: the base key of a target field;
    - ``labels``: how a field is named in a conflict message (default: the target field);
    - ``carried``: whether the other direction's mapping carries a target field back to the source side (None:
      every field is); a conflict the target wins on a field not carried is :attr:`FieldMerge.stuck`.
    """
    policy = ConflictPolicy.parse(policy)
    result = FieldMerge()
    changed = source_changes(base_source, source, proposed, feeds, target_key=target_key, always=always)
    for name, value in proposed.items():
        keys = source_key(feeds, name, target_key)
        tkey = target_key(name)
        now = target.get(name) if target is not None else None
        target_moved = (target is not None and base_target is not None and tkey in base_target
                        and not same(now, base_target[tkey]))
        if name in always:
            result.send[name] = value
            result.agreed_target[tkey] = value
            continue
        if name not in changed:
            if target_moved:
                result.left[name] = now
            continue
        accounted = {key: _source_value(key, source, value) for key in keys}
        if target is not None and same(value, now):
            result.agreed_source.update(accounted)  # both sides already say the same
            result.agreed_target[tkey] = now
            continue
        if not target_moved:
            result.send[name] = value
            result.agreed_source.update(accounted)
            result.agreed_target[tkey] = value
            continue
        if source_side == SALESFORCE:
            qb_value, sf_value, qb_modified, sf_modified = now, value, target_modified, source_modified
        else:
            qb_value, sf_value, qb_modified, sf_modified = value, now, source_modified, target_modified
        winner = pick_winner(policy, qb_modified, sf_modified)
        label = (labels or {}).get(name, name)
        conflict = Conflict(label, qb_value, sf_value, (base_target or {}).get(tkey), winner)
        result.conflicts.append(conflict)
        if winner != source_side and carried is not None and not carried(name):
            # The target's value could never reach the source side: nothing is accounted for (the conflict is
            # found again next pass) until a person decides.
            result.stuck.append(conflict)
            continue
        # Either way the losing value is accounted for: the base of the source side moves to the source's value.
        result.agreed_source.update(accounted)
        if winner == source_side:
            result.send[name] = value
            result.agreed_target[tkey] = value
        else:
            result.left[name] = now
    return result


_SIDE_WORDS = {SALESFORCE: "Salesforce", QUICKBOOKS: "QuickBooks"}
_POSSESSIVE = {SALESFORCE: "Salesforce's", QUICKBOOKS: "QuickBooks'"}


def shown(value: Any) -> str:
    """A value as a message quotes it: ``'22'`` for 22.0 or Decimal('22.00'), ``empty`` for None."""
    found = canon(value)
    return "empty" if found is None else repr(str(found).lower() if isinstance(found, bool) else str(found))


def stuck_error(record: str, stuck: Sequence[Conflict], *, source_side: str, policy: ConflictPolicy | str,
                reverse_sheet: str | None) -> tuple[str, str]:
    """The message and hint of a record whose conflicts the target won but nothing carries back (one line each).

    ``record`` names the record as a bookkeeper would (``Account 'Acme'``); ``reverse_sheet`` is the mapping
    sheet of the other direction, where the field could be added (None when there is none for this record).
    """
    target_side = QUICKBOOKS if source_side == SALESFORCE else SALESFORCE
    winner, loser = _SIDE_WORDS[target_side], _SIDE_WORDS[source_side]
    fields = ", ".join(f"{c.field} (QuickBooks {shown(c.qb_value)}, Salesforce {shown(c.sf_value)})"
                       for c in stuck)
    policy = ConflictPolicy.parse(policy)
    why = "the newer edit" if policy is ConflictPolicy.NEWEST else f"sync.conflict_policy = {policy.value}"
    message = (f"{record}: changed on both sides — {fields}; {why} keeps {_POSSESSIVE[target_side]} value, but "
               f"no {winner} → {loser} mapping carries it back, so {loser} would keep a different value")
    names = ", ".join(dict.fromkeys(c.field for c in stuck))
    add = f"add a row for {names} to the {reverse_sheet} sheet, " if reverse_sheet else ""
    hint = (f"{add}set sync.conflict_policy = {source_side} so {_POSSESSIVE[source_side]} value is sent, or make "
            f"the two values the same in {winner} or {loser}, then retry it (the dashboard's Retry, or `qbsf sync "
            f"retry`; an edit of the record retries it too)")
    return message, hint


def feeds_of(rules: Sequence[Any], *, key: Callable[[str], str] = _key) -> dict[str, tuple[str, ...]]:
    """Target field → the source fields (as base keys) a mapping's rows make it from; Static rows feed nothing."""
    found: dict[str, list[str]] = {}
    for rule in rules:
        sources = found.setdefault(rule.target, [])
        if rule.source and not any(getattr(step, "name", "") == "Static" for step in getattr(rule, "steps", ())):
            sources.append(key(rule.source))
    return {target: tuple(dict.fromkeys(sources)) for target, sources in found.items()}


# ---- lines ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceLine:
    """One line on the source side: its id there, its values keyed like the base, and the mapped line."""

    line_id: str
    values: Mapping[str, Any]
    proposed: Mapping[str, Any]


@dataclass(frozen=True)
class TargetLine:
    """One line as the target holds it: its id there and its current values (keyed like the mapped lines)."""

    line_id: str
    values: Mapping[str, Any]
    label: str = ""
    amount: Any = None


@dataclass
class LineMerge:
    """What one pass does with a transaction's lines, line by line.

    ``lines`` is the target's new line list (None: nothing to change): each entry is a mapped line plus ``"id"``
    (the target line it modifies, None for a new one) and ``"source_id"`` (None for a target-only line kept as is).
    """

    lines: list[dict[str, Any]] | None = None
    conflicts: list[Conflict] = field(default_factory=list)
    kept: list[TargetLine] = field(default_factory=list)       # target-only lines kept, to report (once)
    removed: list[TargetLine] = field(default_factory=list)    # target-only lines removed (the source owns lines)
    left: bool = False                                          # a target-side line edit was left for the other way
    # Line bases accounted for: source line id → {"target": target line id, side: values}; the target line id of a
    # new line is filled in once written.
    agreed: dict[str, dict[str, Any]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)           # line bases to forget (the line is gone both sides)
    stuck: list[Conflict] = field(default_factory=list)        # target wins no mapping carries back (see FieldMerge)


def lines_changed(base: Base | None, source_side: str, lines: Sequence[SourceLine],
                  feeds: Mapping[str, Sequence[str]]) -> bool:
    """Whether any source line was added, removed or changed since the line bases."""
    if base is None or not base.lines:
        return True
    if {line.line_id for line in lines} != set(base.lines):
        return True
    return any(source_changes(base.lines[line.line_id].get(source_side), line.values, line.proposed, feeds)
               for line in lines)


def merge_lines(*, base: Base | None, source: Sequence[SourceLine], target: Sequence[TargetLine],
                feeds: Mapping[str, Sequence[str]], policy: ConflictPolicy | str, source_side: str,
                source_modified: datetime | None, target_modified: datetime | None, source_owns_lines: bool = False,
                identity: Sequence[str] = (), target_key: Callable[[str], str] = _key,
                lines_carried: bool = True) -> LineMerge:
    """Merge a transaction's lines: keyed by the source line id ↔ the target line id the base remembers.

    - a line changed on the source side only: its changed fields are sent (the others stay as the target has them);
    - a line edited on the target side only keeps the edit; edited on both: :func:`merge_fields` per field;
    - a new source line is added; a source line removed is removed from the target unless the target edited it
      (then the policy decides);
    - a line that exists only on the target (added there) is kept and reported once, or removed (and reported)
      when ``source_owns_lines``;
    - without line bases (synced before they were kept), a source line is matched to an unclaimed target line by
      ``identity`` fields (e.g. the item), then sent whole;
    - ``lines_carried`` False: no mapping of the other direction carries lines back to the source side, so a line
      conflict the target wins (a field, or a line deleted on one side and edited on the other) is
      :attr:`LineMerge.stuck` instead of decided.
    """
    result = LineMerge()
    other = QUICKBOOKS if source_side == SALESFORCE else SALESFORCE
    by_id = {line.line_id: line for line in target}
    bases = dict(base.lines) if base is not None else {}
    claimed: dict[str, str] = {}  # target line id → source line id
    wanted: dict[str, dict[str, Any]] = {}  # target line id → entry (existing lines)
    new: list[dict[str, Any]] = []
    changed = False

    def label(number: int, name: str) -> str:
        return f"line {number} {name}"

    unclaimed = [line for line in target if line.line_id not in {b.get("target") for b in bases.values()}]
    for number, line in enumerate(source, start=1):
        line_base = bases.get(line.line_id)
        existing = by_id.get(str(line_base.get("target"))) if line_base is not None else None
        if line_base is None and identity:
            # Never merged line by line: the target line of the same item (first unclaimed) stands for it.
            wanted_identity = {k: canon(line.proposed.get(k)) for k in identity if line.proposed.get(k) is not None}
            existing = next((t for t in unclaimed if wanted_identity and all(
                canon(t.values.get(k)) == v for k, v in wanted_identity.items())), None)
            if existing is not None:
                unclaimed.remove(existing)
        if existing is not None:
            claimed[existing.line_id] = line.line_id
            merged = merge_fields(
                base_source=line_base.get(source_side) if line_base else None,
                base_target=line_base.get(other) if line_base else None, source=line.values,
                proposed=line.proposed, feeds=feeds, target={name: existing.values.get(name) for name in line.proposed},
                policy=policy, source_side=source_side, source_modified=source_modified,
                target_modified=target_modified, target_key=target_key,
                labels={name: label(number, name) for name in line.proposed},
                carried=None if lines_carried else (lambda _name: False))
            result.conflicts.extend(merged.conflicts)
            result.stuck.extend(merged.stuck)
            result.left = result.left or bool(merged.left)
            wanted[existing.line_id] = {**merged.send, "id": existing.line_id, "source_id": line.line_id}
            changed = changed or bool(merged.send)
            result.agreed[line.line_id] = {"target": existing.line_id, source_side: merged.agreed_source,
                                           other: merged.agreed_target}
            continue
        if line_base is not None:
            # The target deleted this line: a target-side change, unless the source changed the line too.
            moved = source_changes(line_base.get(source_side), line.values, line.proposed, feeds)
            if not moved:
                result.left = True
                continue
            winner = pick_winner(ConflictPolicy.parse(policy),
                                 target_modified if source_side == SALESFORCE else source_modified,
                                 source_modified if source_side == SALESFORCE else target_modified)
            conflict_values = (("deleted", "changed") if source_side == SALESFORCE else ("changed", "deleted"))
            conflict = Conflict(f"line {number}", conflict_values[0], conflict_values[1], "the line", winner)
            result.conflicts.append(conflict)
            if winner != source_side and not lines_carried:
                result.stuck.append(conflict)  # its line base stays: found again until a person decides
                continue
            if winner != source_side:
                result.agreed[line.line_id] = {"target": None, source_side: dict(line.values), other: {}}
                continue
        new.append({**line.proposed, "id": None, "source_id": line.line_id})
        changed = True
        result.agreed[line.line_id] = {"target": None, source_side: {
            key: _source_value(key, line.values, line.proposed.get(name))
            for name in line.proposed for key in source_key(feeds, name, target_key)}, other: {}}
    current_source = {line.line_id for line in source}
    for source_id, line_base in bases.items():
        if source_id in current_source:
            continue
        existing = by_id.get(str(line_base.get("target")))
        if existing is None:
            result.dropped.append(source_id)  # gone on both sides
            continue
        claimed[existing.line_id] = source_id
        base_target = line_base.get(other) or {}
        # Edited in the target since both sides agreed (its values are keyed by field, the base by target_key).
        edited = any(target_key(name) in base_target and not same(value, base_target[target_key(name)])
                     for name, value in existing.values.items())
        if edited:
            winner = pick_winner(ConflictPolicy.parse(policy),
                                 target_modified if source_side == SALESFORCE else source_modified,
                                 source_modified if source_side == SALESFORCE else target_modified)
            values = ("changed", "deleted") if source_side == SALESFORCE else ("deleted", "changed")
            conflict = Conflict(existing.label or "a line", values[0], values[1], "the line", winner)
            result.conflicts.append(conflict)
            if winner != source_side and not lines_carried:
                result.stuck.append(conflict)
                wanted[existing.line_id] = {"id": existing.line_id, "source_id": None}
                continue
            if winner != source_side:
                wanted[existing.line_id] = {"id": existing.line_id, "source_id": None}
                result.dropped.append(source_id)
                continue
        changed = True  # removed in the source: removed from the target too
        result.dropped.append(source_id)
    for line in target:
        if line.line_id in claimed:
            continue
        if source_owns_lines:
            result.removed.append(line)
            changed = True
        else:
            wanted[line.line_id] = {"id": line.line_id, "source_id": None}
            result.kept.append(line)
    if changed:
        result.lines = [wanted[line.line_id] for line in target if line.line_id in wanted] + new
    return result
