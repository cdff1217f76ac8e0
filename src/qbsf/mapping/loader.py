"""Reading mapping CSV files the way spreadsheets write them, and rejecting bad ones with every fault listed.

Accepts UTF-8 with or without a byte-order mark, UTF-16 with one, Windows-1252, CRLF or LF, quoted cells
with commas or line breaks, blank rows, stray spaces around cells, ``;`` or tab separators (European Excel),
and ``y``/``n``/``yes``/``no`` in any case. A file with any fault is rejected whole with
:class:`MappingFileError`, whose lines each read ``FILE:LINE: what is wrong and how to fix it``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

from qbsf.mapping.compiled import FieldRule, Mapping
from qbsf.mapping.kinds import Direction, MappingKind, UnknownKind, kind_from_filename, owner_of_field, sheet_for
from qbsf.mapping.problems import MappingFileError, MappingProblem
from qbsf.mapping.transforms import ChainError, parse_chain

HEADER = ("SF_Field_API_Name", "QB_Field_Name", "Required (Y/N)", "Transformation", "Default_Value", "Notes")
HEADER_LINE = ",".join(HEADER)
_FIELD_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_SEP_LINE = re.compile(r"sep=(.)")
_YES, _NO = {"y", "yes"}, {"n", "no", ""}
_ADDRESS_ALIAS = re.compile(r"(bill|ship)addr([1-5])")
_Reporter = Callable[[int, str], None]  # problem(line, message)
MAX_ROWS = 1_000  # Salesforce objects have at most 800 custom fields
MAX_FILE_BYTES = 5_000_000  # a mapping is a few dozen rows; anything this big is the wrong file


def load_mapping(path: str | Path, kind: MappingKind | None = None) -> Mapping:
    """Load and compile a mapping CSV; its kind comes from the file name unless given.

    Raises :class:`MappingFileError` listing every problem (never any other exception).
    """
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise MappingFileError([MappingProblem(name, 1, f"cannot read the file: {exc.strerror or exc}; "
                                                        f"check the path")]) from None
    return load_mapping_bytes(data, name, kind)


def load_mapping_bytes(data: bytes, name: str, kind: MappingKind | None = None) -> Mapping:
    """Load and compile a mapping from the bytes of a CSV file called ``name`` (e.g. an upload)."""
    problems: list[MappingProblem] = []

    def problem(line: int, message: str) -> None:
        problems.append(MappingProblem(name, line, message))

    if kind is None:
        try:
            kind = kind_from_filename(name)
        except UnknownKind as exc:
            problem(1, str(exc))
    text = _decode(data, problem)
    rules = _parse_rows(text, problem) if text is not None else []
    if kind is not None:
        _check_columns_fit(kind, rules, problem)
    if problems:
        raise MappingFileError(sorted(problems, key=lambda p: p.line))  # stable: a line's faults keep their order
    assert kind is not None  # a missing kind was recorded as a problem above
    return Mapping(kind, rules, source=name)


def _check_columns_fit(kind: MappingKind, rules: list[FieldRule], problem: _Reporter) -> None:
    """Refuse rows naming another object's standard fields: the file's name and its columns disagree."""
    for rule in rules:
        name = rule.source if kind.direction is Direction.SF_TO_QB else rule.target
        owner = owner_of_field(kind, name)
        if owner is None:
            continue
        column = 1 if kind.direction is Direction.SF_TO_QB else 2
        other = sheet_for(owner, kind.direction) or sheet_for(owner, Direction.SF_TO_QB)
        fix = f"name the file after the {other.sheet} sheet" if other else f"map {kind.sf_object} fields"
        problem(rule.line, f"column {column} {name!r} is a field of {owner}, not of {kind.sf_object}: the file name "
                           f"says {kind.sheet} but this row maps {owner} fields; {fix}, or use "
                           f"{kind.sf_object} fields")


def _decode(data: bytes, problem: _Reporter) -> str | None:
    if len(data) > MAX_FILE_BYTES:
        problem(1, f"the file is {len(data):,} bytes; a mapping CSV is a few kilobytes — is this the right file?")
        return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            problem(1, "the file starts like UTF-16 but is not valid UTF-16; save it again as 'CSV UTF-8'")
            return None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                line = data[:exc.start].count(b"\n") + 1
                problem(line, f"byte 0x{data[exc.start]:02X} is neither UTF-8 nor Windows-1252 text; "
                              f"save the sheet as 'CSV UTF-8 (Comma delimited)'")
                return None
    if "\x00" in text:
        problem(text[:text.index("\x00")].count("\n") + 1,
                "the file contains NUL characters, so it is not a CSV text file; export the sheet as CSV")
        return None
    return text


def _delimiter(text: str) -> str:
    """Comma, or ``;``/tab when the first line clearly uses those (European Excel, 'Unicode text' exports)."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    hint = _SEP_LINE.fullmatch(first.strip())
    if hint:  # Excel's own "sep=;" first line
        return hint.group(1)
    if "," not in first:
        for candidate in (";", "\t"):
            if candidate in first:
                return candidate
    return ","


def _norm(cell: str) -> str:
    return re.sub(r"[^a-z0-9]", "", cell.casefold())


def _is_header(cells: list[str]) -> bool:
    """A header row: its words could never be data (no field is 'SF_Field_API_Name', no Required is 'Required')."""
    names = [_norm(c) for c in cells]
    return (names[0] == "sffieldapiname" or (len(names) > 2 and names[2].startswith("required"))
            or (len(names) > 3 and names[3] == "transformation"))


def _rows(text: str, problem: _Reporter) -> list[tuple[int, list[str]]]:
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False, skipinitialspace=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            problem(reader.line_num or start, f"the CSV cannot be read here ({exc}); check the quotes on this line")
            return rows
        if not rows and len(cells) <= 2 and _SEP_LINE.fullmatch(delimiter.join(cells).strip()):
            start = reader.line_num + 1  # the "sep=;" line is an instruction to Excel, not a row
            continue
        rows.append((start, [c.strip() for c in cells]))
        start = reader.line_num + 1


def _target_key(target: str) -> str:
    """Targets that name the same field (case, BillAddr1 = BillAddress.Addr1) compare equal."""
    folded = target.casefold()
    alias = _ADDRESS_ALIAS.fullmatch(folded)
    return f"{alias.group(1)}address.addr{alias.group(2)}" if alias else folded


def _parse_rows(text: str, problem: _Reporter) -> list[FieldRule]:
    rows = [(line, cells) for line, cells in _rows(text, problem) if any(cells)]
    if not rows:
        problem(1, f"the file is empty; start it with the header {HEADER_LINE}")
        return []
    first_line, first_cells = rows[0]
    if _is_header(first_cells):
        rows = rows[1:]
    else:
        problem(first_line, f"missing header; the first row must be {HEADER_LINE}")
    if not rows:
        problem(first_line, "there are no mapping rows under the header; add one row per field to copy")
    if len(rows) > MAX_ROWS:
        problem(rows[MAX_ROWS][0], f"more than {MAX_ROWS:,} mapping rows; a mapping has one row per field — is this "
                                   f"the right file?")
        return []
    rules: list[FieldRule] = []
    targets: dict[str, int] = {}
    for line, cells in rows:
        if _is_header(cells):
            problem(line, "a second header row; delete it (one header, at the top)")
            continue
        extra = [cell for cell in cells[len(HEADER):] if cell]
        if extra:
            problem(line, f"this row has more than {len(HEADER)} cells (extra: {extra[0]!r}); put quotes around a "
                          f"cell that contains a comma")
            continue
        cells = cells + [""] * (6 - len(cells))
        rule = _parse_row(line, cells, problem)
        target = cells[1]
        if target:  # checked even when the row has other faults, so every duplicate is reported at once
            key = _target_key(target)
            if key in targets:
                problem(line, f"{target} is already written by line {targets[key]}; map each target field once "
                              f"(chain transformations with | instead)")
                continue
            targets[key] = line
        if rule is not None:
            rules.append(rule)
    return rules


def _parse_row(line: int, cells: list[str], problem: _Reporter) -> FieldRule | None:
    source, target, required_text, transformation, default, notes = cells[:6]
    if not source and not target and not required_text and not transformation and not default:
        return None  # a notes-only row is a comment
    ok = True
    if not target:
        problem(line, "QB_Field_Name (column 2, the field written) is empty; name the target field")
        ok = False
    elif not _FIELD_PATH.fullmatch(target):
        problem(line, f"column 2 {target!r} is not a field name; use API/qbXML names like BillAddr1 or "
                      f"CustomerRef.ListID (letters, digits, _ and dots)")
        ok = False
    if source and not _FIELD_PATH.fullmatch(source):
        problem(line, f"column 1 {source!r} is not a field name; use API names like BillingStreet or "
                      f"Account.QB_Customer_ID__c (letters, digits, _ and dots)")
        ok = False
    folded = required_text.casefold()
    if folded not in _YES and folded not in _NO:
        problem(line, f"Required (Y/N) must be Y or N, got {required_text!r}")
        ok = False
    try:
        steps = parse_chain(transformation)
    except ChainError as exc:
        for message in exc.problems:
            problem(line, message)
        return None
    is_static = any(step.name == "Static" for step in steps)
    if is_static and not default:
        problem(line, "Static writes the Default_Value, which is empty on this row; fill Default_Value")
        ok = False
    if not source and not is_static and not default:
        problem(line, "SF_Field_API_Name (column 1, the field read) is empty; name the source field, "
                      "or use Static with a Default_Value")
        ok = False
    if not ok:
        return None
    return FieldRule(line, source, target, folded in _YES, transformation, default, notes, tuple(steps))
