"""A compiled mapping: one generated Python function per CSV, applied to many records.

Compilation turns every row's transformation chain into straight-line code (string slicing, ``str.strip``,
calls to prepared helpers) inside a single function, so applying a 15-row mapping costs one function call
per record. The function is built from the parsed rows only: every literal is emitted with ``repr`` and
every helper is passed in a private namespace, so no text from a CSV is ever executed as code.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from collections.abc import Mapping as AbstractMapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from qbsf.errors import AfterDependency, NeedsUser, SyncError
from qbsf.mapping.address import QB_ADDRESS_LINE
from qbsf.mapping.kinds import Direction, MappingKind
from qbsf.mapping.problems import MappingProblem
from qbsf.mapping.transforms import (
    MAX_ADDRESS_LINES,
    AddressSplitter,
    LinkKey,
    Step,
    StepFailure,
    memoised_date_formatter,
    number_format,
    number_format_value,
)

log = logging.getLogger(__name__)

Record = AbstractMapping[str, Any]
LinkTable = AbstractMapping[str, str]
Lookups = AbstractMapping[LinkKey, LinkTable]
_IDENTITY_FIELDS = ("Id", "ListID", "TxnID", "TxnLineID", "Name", "FullName")
_MAX_NESTING = 16  # brackets in one generated expression before it is split into statements


class LinkResolver(Protocol):
    """What the sync engine implements so Link steps can find Salesforce Ids (one query per object and field)."""

    def find_ids(self, sobject: str, field: str, values: Collection[str]) -> AbstractMapping[str, str]:
        """Map each value, keyed exactly as given, to the Id of the ``sobject`` record whose ``field`` equals it.

        Values not found are left out (the record then waits for its parent). Salesforce compares external ids
        case-insensitively, so an implementation should key its answer by the values asked, not as stored.
        """
        ...


class TableLinkResolver:
    """A :class:`LinkResolver` over in-memory tables, for the demo, previews and tests; counts its queries."""

    def __init__(self, tables: AbstractMapping[tuple[str, str], AbstractMapping[str, str]]) -> None:
        self.tables = {LinkKey(*key): dict(table) for key, table in tables.items()}
        self.queries: list[tuple[LinkKey, tuple[str, ...]]] = []

    def find_ids(self, sobject: str, field: str, values: Collection[str]) -> dict[str, str]:
        """The Ids of the values present in the (sobject, field) table."""
        key = LinkKey(sobject, field)
        self.queries.append((key, tuple(values)))
        table = self.tables.get(key, {})
        return {value: table[value] for value in values if value in table}


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One row of a mapping CSV, parsed."""

    line: int
    source: str
    target: str
    required: bool
    transformation: str
    default: str
    notes: str
    steps: tuple[Step, ...]

    @property
    def links(self) -> tuple[LinkKey, ...]:
        """The (object, field) pairs this row's Link steps look up."""
        return tuple(step.args[0] for step in self.steps if step.name == "Link")  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class RecordError:
    """Why one record could not be mapped: which record, which row of the CSV, and what to do."""

    record: str
    source: str
    target: str
    line: int
    message: str
    waiting_on: LinkKey | None = None
    index: int | None = None
    missing: bool = False  # a Required field was empty (the engine may know it is a parent's id not synced yet)

    def __str__(self) -> str:
        where = f"{self.record}" if self.index is None else f"{self.record} (#{self.index + 1} in batch)"
        return f"{where}: {self.source or '(static)'} → {self.target} (mapping line {self.line}): {self.message}"

    def to_exception(self) -> SyncError:
        """The sync-engine error class: wait for the linked record (AfterDependency) or a person (NeedsUser)."""
        if self.waiting_on is not None:
            return AfterDependency(str(self), hint=f"sync the {self.waiting_on.sobject} first, then retry")
        return NeedsUser(str(self), hint="fix the record, or the mapping row")


@dataclass(slots=True)
class MappedBatch:
    """Results of :meth:`Mapping.apply_many`, in input order: a target dict or a :class:`RecordError` each."""

    results: list[dict[str, Any] | RecordError]
    lookups: Lookups = field(default_factory=dict)

    @property
    def ok(self) -> list[tuple[int, dict[str, Any]]]:
        """(position in the input, target record) for every record that mapped."""
        return [(i, r) for i, r in enumerate(self.results) if not isinstance(r, RecordError)]

    @property
    def errors(self) -> list[RecordError]:
        """Every record that was skipped, with its reason."""
        return [r for r in self.results if isinstance(r, RecordError)]


def text_of(value: Any) -> str:
    """The text a transformation sees: None is empty, booleans are lowercase, numbers in plain notation."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return repr(value)
        return format(Decimal(repr(value)), "f")
    if isinstance(value, dict | list):
        raise StepFailure(f"the value is a nested {type(value).__name__}, not a field; name a field inside it "
                          f"with a dotted path, e.g. Parent.Field")
    return str(value)


def _text_at(index: int, value: Any) -> str:
    """text_of for row ``index``: a failure names that row."""
    try:
        return text_of(value)
    except StepFailure as exc:
        exc.row = index
        raise


def _right(expr: str, args: tuple[object, ...]) -> str:
    return f"{expr}[-{args[0]!r}:]" if args[0] else "''"


def _mid(expr: str, args: tuple[object, ...]) -> str:
    start, length = args
    end = "" if length is None else repr(start + length)  # type: ignore[operator]
    return f"{expr}[{start!r}:{end}]"


# Steps that are one expression over text and cannot fail: they nest, e.g. Trim|Upper|Left:41 → x.strip().upper()[:41]
_PURE_STEPS: dict[str, Callable[[str, tuple[object, ...]], str]] = {
    "Trim": lambda e, a: f"{e}.strip()",
    "Upper": lambda e, a: f"{e}.upper()",
    "Lower": lambda e, a: f"{e}.lower()",
    "Left": lambda e, a: f"{e}[:{a[0]!r}]",
    "Right": _right,
    "Mid": _mid,
    "Replace": lambda e, a: f"{e}.replace({a[0]!r}, {a[1]!r})",
}


def dig(record: Record, path: tuple[str, ...], dotted: str) -> Any:
    """Read a dotted path through nested dicts (Salesforce parent relationships); a flat dotted key also works."""
    if dotted in record:
        return record[dotted]
    value: Any = record
    for part in path:
        if not isinstance(value, AbstractMapping):
            return None
        value = _get_field(value, part)
    return value


_LINE_NUMBER = re.compile(r"(.*?)([1-9])")


def join_address(record: Record, source: str) -> str:
    """AddressJoin: the address line ``source`` names (``BillAddress.Addr1``) and every line after it, one per line.

    The inverse of AddressSplit: QuickBooks keeps a street in 41-character lines Addr1..Addr5, Salesforce in one
    multi-line field. Empty lines are left out; a source that is not a numbered line is read as it is.
    """
    head, dot, last = source.rpartition(".")
    numbered = _LINE_NUMBER.fullmatch(last)
    names = [source] if numbered is None else [
        f"{head}{dot}{numbered.group(1)}{n}" for n in range(int(numbered.group(2)), MAX_ADDRESS_LINES + 1)]
    lines = []
    for name in names:
        value = dig(record, tuple(name.split(".")), name)
        text = "" if value is None else text_of(value).strip()
        if text:
            lines.append(text)
    return "\n".join(lines)


def _get_field(record: Record, name: str) -> Any:
    """A field by exact name, else case-insensitively (Salesforce field names are case-insensitive)."""
    if name in record:
        return record[name]
    folded = name.casefold()
    for key, value in record.items():
        if key.casefold() == folded:
            return value
    return None


def record_label(record: Record, source_object: str) -> str:
    """How an error names a record: its object and first identifying field (Id, ListID, TxnID, Name)."""
    if isinstance(record, AbstractMapping):
        for key in _IDENTITY_FIELDS:
            value = record.get(key)
            if value not in (None, ""):
                return f"{source_object} {key}={value}"
    return f"{source_object} record"


class _PreviewTable:
    """Link values without Salesforce: says what would be looked up (used by `qbsf mapping apply`)."""

    def __init__(self, key: LinkKey) -> None:
        self.key = key

    def get(self, value: str) -> str:
        return f"(Link: the {self.key.sobject} Id whose {self.key.field} = {value})"


class LinkPreview(AbstractMapping[LinkKey, Any]):
    """A lookups table that resolves every Link to a description of the lookup, for previews and the CLI."""

    def __getitem__(self, key: LinkKey) -> Any:
        return _PreviewTable(key)

    def get(self, key: LinkKey, default: Any = None) -> Any:  # type: ignore[override]
        return _PreviewTable(key)

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0


class _CollectingTable:
    def __init__(self, bucket: set[str]) -> None:
        self.bucket = bucket

    def get(self, value: str) -> str:
        self.bucket.add(value)
        return value


class _Collector(AbstractMapping[LinkKey, Any]):
    """A lookups table that records every value asked for instead of answering (see ``links_needed``)."""

    def __init__(self) -> None:
        self.needed: dict[LinkKey, set[str]] = {}

    def __getitem__(self, key: LinkKey) -> Any:
        return _CollectingTable(self.needed.setdefault(key, set()))

    def get(self, key: LinkKey, default: Any = None) -> Any:  # type: ignore[override]
        return self[key]

    def __iter__(self) -> Any:
        return iter(self.needed)

    def __len__(self) -> int:
        return len(self.needed)


def _link(lookups: Lookups | None, key: LinkKey, value: str) -> str:
    if lookups is None:
        raise StepFailure(f"Link:{key.sobject}:{key.field} needs lookups; resolve them first "
                          f"(Mapping.apply_many(records, resolver=...) does)")
    table = lookups.get(key)
    if table is None:
        raise StepFailure(f"Link:{key.sobject}:{key.field} was not resolved for this batch")
    found = table.get(value)
    if not found and isinstance(table, AbstractMapping):
        # Salesforce matches external ids case-insensitively; a resolver may key its answer as stored.
        folded = value.casefold()
        found = next((sf_id for stored, sf_id in table.items() if stored.casefold() == folded), None)
    if not found:
        raise StepFailure(f"Link: no {key.sobject} found with {key.field} = {value!r}", waiting_on=key)
    return found


class Mapping:
    """A mapping CSV compiled into one function. Build it with :func:`qbsf.mapping.load_mapping`."""

    def __init__(self, kind: MappingKind, rules: Sequence[FieldRule], source: str = "<mapping>") -> None:
        self.kind = kind
        self.rules = tuple(rules)
        self.source = source
        self._addresses = AddressSplitter()
        self._function = self._compile()
        # Collecting Link values runs only the rows that have a Link step.
        link_rows = [index for index, rule in enumerate(self.rules) if rule.links]
        self._link_function = self._compile(link_rows) if link_rows else None

    def __repr__(self) -> str:
        return f"Mapping({self.kind.sheet!r}, {len(self.rules)} rows, from {self.source!r})"

    @property
    def source_fields(self) -> list[str]:
        """Fields to read from the source system (column 1), in file order, without repeats or blanks.

        Rows whose chain has Static are left out: Static never reads its source.
        """
        return list(dict.fromkeys(rule.source for rule in self.rules
                                  if rule.source and not any(step.name == "Static" for step in rule.steps)))

    @property
    def target_fields(self) -> list[str]:
        """Fields written to the target system (column 2), in file order."""
        return [rule.target for rule in self.rules]

    @property
    def links(self) -> list[LinkKey]:
        """Every (object, field) the mapping's Link steps look up."""
        return list(dict.fromkeys(key for rule in self.rules for key in rule.links))

    def check_fields(self, source_fields: Collection[str] | None = None,
                     target_fields: Collection[str] | None = None) -> list[MappingProblem]:
        """Rows naming a field the source or target does not have, as ``FILE:LINE:`` problems with a suggestion.

        The sync engine passes the names it knows (a Salesforce describe, a QuickBooks entity's flat fields and
        aliases); ``None`` skips that side. Names compare case-insensitively. A dotted source is accepted when
        the whole path is known or, for a Salesforce parent relationship, when its first part is.
        """
        problems: list[MappingProblem] = []
        sides = ((source_fields, "source", self.kind.source_object, 1),
                 (target_fields, "target", self.kind.target_object, 2))
        for known, side, obj, column in sides:
            if known is None:
                continue
            folded = {name.casefold(): name for name in known}
            for rule in self.rules:
                name = rule.source if side == "source" else rule.target
                if side == "source" and (not name or any(step.name == "Static" for step in rule.steps)):
                    continue
                if name.casefold() in folded or (side == "source" and "." in name
                                                 and name.split(".", 1)[0].casefold() in folded):
                    continue
                close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.75)
                fix = f"did you mean {close[0]}?" if close else f"use a {obj} field name"
                problems.append(MappingProblem(self.source, rule.line,
                                               f"{obj} has no field {name!r} (column {column}); {fix}"))
        return sorted(problems, key=lambda p: p.line)

    def summary(self) -> str:
        """One line describing the mapping, for `qbsf mapping check`."""
        required = sum(rule.required for rule in self.rules)
        links = f", links {', '.join(map(str, self.links))}" if self.links else ""
        return (f"{self.kind.sheet}: {self.kind.source_object} → {self.kind.target_object} "
                f"({self.kind.direction.value}{', child' if self.kind.child else ''}), "
                f"{len(self.rules)} fields, {required} required{links}")

    # -- applying ----------------------------------------------------------------------------------------------

    def apply(self, record: Record, lookups: Lookups | None = None) -> dict[str, Any] | RecordError:
        """Map one source record to a target dict keyed by column-2 names, or say why it cannot be.

        Empty results are ``None`` (absent fields count as empty); ``lookups`` holds resolved Link tables
        (see :meth:`links_needed` and :func:`resolve_links`).
        """
        return self._function(record, lookups)

    def apply_many(self, records: Iterable[Record], lookups: Lookups | None = None,
                   resolver: LinkResolver | None = None) -> MappedBatch:
        """Map a batch; with a ``resolver``, first resolve every Link with one query per (object, field)."""
        batch = records if isinstance(records, list) else list(records)
        if resolver is not None and self.links:
            lookups = resolve_links(self.links_needed(batch), resolver)
        function = self._function
        results: list[dict[str, Any] | RecordError] = [function(record, lookups) for record in batch]
        for index, result in enumerate(results):
            if result.__class__ is RecordError:
                results[index] = result = _with_index(result, index)  # type: ignore[arg-type]
                log.info("mapping %s skipped a record: %s", self.kind.sheet, result)
        return MappedBatch(results, lookups or {})

    def links_needed(self, records: Iterable[Record]) -> dict[LinkKey, set[str]]:
        """Every (object, field) → values the records' Link steps will look up, before applying anything."""
        if self._link_function is None:
            return {}
        collector = _Collector()
        for key in self.links:
            collector.needed[key] = set()
        function = self._link_function
        for record in records:
            function(record, collector)
        return collector.needed

    # -- compiling -----------------------------------------------------------------------------------------------

    def _compile(self, only: Sequence[int] | None = None) -> Callable[[Record, Lookups | None],
                                                                      dict[str, Any] | RecordError]:
        """Generate the mapping function (for the rows ``only``, when given)."""
        namespace: dict[str, Any] = {
            "_StepFailure": StepFailure, "_dig": dig, "_get": _get_field, "_link": _link,
            "_num": number_format, "_numv": number_format_value, "_addr": self._addresses.line,
            "_fail": self._fail, "_missing": self._missing, "_join": join_address,
            "_str": str, "_text_at": _text_at,
        }
        lines = ["def _apply(record, lookups):", "    r = -1", "    try:"]
        reads: dict[str, str] = {}
        chosen = range(len(self.rules)) if only is None else only
        for index in chosen:
            lines += [f"        {line}" for line in self._rule_code(index, self.rules[index], namespace, reads)]
        pairs = ", ".join(f"{self.rules[index].target!r}: v{index}" for index in chosen)
        lines += [f"        return {{{pairs}}}",
                  "    except _StepFailure as exc:",
                  "        return _fail(record, r, exc)"]
        code = "\n".join(lines)
        # Safe: the code is built from parsed, validated rows with every literal written by repr().
        exec(compile(code, f"<mapping {self.source}>", "exec"), namespace)
        return namespace["_apply"]

    def _rule_code(self, index: int, rule: FieldRule, namespace: dict[str, Any], reads: dict[str, str]) -> list[str]:
        """Straight-line code for one row; ``reads`` shares each source field's read between rows."""
        v = f"v{index}"
        steps = rule.steps
        statics = [n for n, step in enumerate(steps) if step.name == "Static"]
        code: list[str] = []
        if statics:  # Static ignores the source and everything before it: start from the Default_Value
            steps = steps[statics[-1] + 1:]
            expr = repr(rule.default)
        elif steps and steps[0].name == "NumberFormat":
            code += self._read_code(rule.source, reads)
            code.append(f"r = {index}")  # numbers, Decimals and text all go straight to the money formatter
            code.append(f"{v} = _numv({reads[rule.source]})")
            steps, expr = steps[1:], v
        elif steps:
            code += self._text_code(index, rule.source, reads)
            expr = reads["text:" + rule.source]
        else:
            code += self._read_code(rule.source, reads)
            expr = reads[rule.source]
        for number, step in enumerate(steps):
            if step.name == "AddressJoin":  # reads its own lines from the record, whatever came before
                code.append(f"{v} = _join(record, {rule.source!r})")
                expr = v
                continue
            pure = _PURE_STEPS.get(step.name)
            if pure is not None:  # slicing and str methods nest into one expression
                if expr.count("(") + expr.count("[") >= _MAX_NESTING:  # keep the parser far from its limits
                    code.append(f"{v} = {expr}")
                    expr = v
                expr = pure(expr, step.args)
                continue
            if not expr.isidentifier():  # the step reads its input more than once: name it first
                code.append(f"{v} = {expr}")
                expr = v
            if step.name in ("NumberFormat", "DateFormat", "Link"):  # r names the row if this step fails
                code.append(f"r = {index}")
            code += self._step_code(v, expr, f"c{index}_{number}", step, namespace)
            expr = v
        if expr != v:
            code.append(f"{v} = {expr}")
        if statics and not steps:
            return code  # a Static value is never empty (the loader insists on a Default_Value)
        empty = f"not {v}" if rule.steps else f"{v} is None or {v} == ''"
        if rule.default:
            code.append(f"if {empty}: {v} = {rule.default!r}")
        elif rule.required:
            code.append(f"if {empty}: return _missing(record, {index})")
        else:
            code.append(f"if {empty}: {v} = None")
        return code

    def _read_code(self, source: str, reads: dict[str, str]) -> list[str]:
        """Code reading a source field once (plain key, or dotted path through nested dicts, with fallbacks)."""
        if source in reads:
            return []
        s = reads[source] = f"s{len(reads)}"
        flat_first = self.kind.direction is Direction.QB_TO_SF
        if not source:
            return [f"{s} = None"]
        parts = source.split(".")
        # Subscripts cost less than .get(); try is free in Python 3.11 until a field is actually missing.
        path = "".join(f"[{part!r}]" for part in parts)
        if len(parts) == 1:
            fallback = f"_get(record, {source!r})"  # another letter case, or truly absent
            errors = "KeyError"
        else:  # a null parent, the other shape or another letter case: the general reader
            fallback = f"_dig(record, {tuple(parts)!r}, {source!r})"
            errors = "(KeyError, TypeError)"
            if flat_first:  # QuickBooks records arrive flat: {"BillAddress.Addr1": …}
                path = f"[{source!r}]"
        return [f"try: {s} = record{path}", f"except {errors}: {s} = {fallback}"]

    def _text_code(self, index: int, source: str, reads: dict[str, str]) -> list[str]:
        """Code making a source field's value text once (None is empty; numbers plain; nested dicts fail)."""
        code = self._read_code(source, reads)
        key = "text:" + source
        if key not in reads:
            raw = reads[source]
            t = reads[key] = f"t{len(reads)}"
            code.append(f"{t} = {raw} if {raw}.__class__ is _str else '' if {raw} is None "
                        f"else _text_at({index}, {raw})")
        return code

    def _step_code(self, v: str, src: str, const: str, step: Step, namespace: dict[str, Any]) -> list[str]:
        """Code applying one step that is not a plain expression, reading ``src`` and assigning ``v``."""
        args = step.args
        match step.name:
            case "Concatenate":
                template = str(args[0])
                if template.count("{value}") == 1:  # the usual PREFIX{value}SUFFIX: plain concatenation
                    prefix, suffix = template.split("{value}")
                    joined = " + ".join([*([repr(prefix)] if prefix else []), src, *([repr(suffix)] if suffix else [])])
                    return [f"{v} = {joined} if {src} else {src}"]
                return [f"{v} = {template!r}.replace('{{value}}', {src}) if {src} else {src}"]
            case "NumberFormat":
                return [f"{v} = _num({src}) if {src} else {src}"]
            case "DateFormat":
                cache: dict[str, str] = {}
                namespace[const] = cache
                namespace[const + "f"] = memoised_date_formatter(args[1], str(args[0]), cache)  # type: ignore[arg-type]
                return [f"{v} = ({const}.get({src}) or {const}f({src})) if {src} else {src}"]
            case "AddressSplit":
                number = args[0]
                # A short single-line address is its own first line: no need to split it.
                fast = f"{src}.strip()" if number == 1 else "''"
                return [f"{v} = {fast} if len({src}) <= {QB_ADDRESS_LINE} and {src}.isprintable() "
                        f"else _addr({src}, {number!r})"]
            case "Link":
                namespace[const] = args[0]
                return [f"{v} = _link(lookups, {const}, {src}) if {src} else {src}"]
        raise AssertionError(f"unhandled step {step.name}")  # parse_step only yields the names above

    def _fail(self, record: Record, index: int, exc: StepFailure) -> RecordError:
        index = exc.row if exc.row is not None else index
        rule = self.rules[index] if index >= 0 else None
        if rule is None:
            raise exc  # a failure outside any row cannot happen; surface it rather than misreport
        return RecordError(record_label(record, self.kind.source_object), rule.source, rule.target, rule.line,
                           exc.message, exc.waiting_on)

    def _missing(self, record: Record, index: int) -> RecordError:
        rule = self.rules[index]
        message = (f"{rule.target} is required but {rule.source or 'the row'} is empty"
                   + (" after its transformation" if rule.steps else "")
                   + "; fill the field, or give the mapping row a Default_Value")
        return RecordError(record_label(record, self.kind.source_object), rule.source, rule.target, rule.line, message,
                           missing=True)


def _with_index(error: RecordError, index: int) -> RecordError:
    return dataclasses.replace(error, index=index)


def resolve_links(needed: AbstractMapping[LinkKey, Collection[str]],
                  resolver: LinkResolver) -> dict[LinkKey, LinkTable]:
    """Resolve every needed Link value with one ``resolver.find_ids`` call per (object, field)."""
    resolved: dict[LinkKey, LinkTable] = {}
    for key, values in needed.items():
        wanted = sorted(v for v in values if v)
        resolved[key] = dict(resolver.find_ids(key.sobject, key.field, wanted)) if wanted else {}
    return resolved
