"""Transformation steps: parsing the Transformation column, and the runtime helpers compiled code calls.

A Transformation cell is a chain of steps joined by ``|`` and applied left to right
(``Trim|Upper|Left:41``). Each step is ``Name`` or ``Name:ARGS``; names are case-insensitive.
``\\|`` is a literal bar inside an argument and, in ``Replace``, ``\\:`` a literal colon.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import NamedTuple

from qbsf.mapping.address import split_address
from qbsf.mapping.dates import DateFormatSyntaxError, DateInputError, date_formatter

TRANSFORMATIONS: tuple[str, ...] = (
    "Simple", "Trim", "Concatenate:TEMPLATE", "Left:N", "Right:N", "Mid:START:LEN", "DateFormat:FMT",
    "AddressSplit:N", "AddressJoin", "Link:Object:Field", "Upper", "Lower", "Replace:OLD:NEW", "NumberFormat",
    "Static",
)
VALID_LIST = ", ".join(TRANSFORMATIONS)
_CANONICAL = {t.split(":", 1)[0].casefold(): t.split(":", 1)[0] for t in TRANSFORMATIONS}
_NO_ARGUMENT = {"Simple", "Trim", "Upper", "Lower", "NumberFormat", "Static", "AddressJoin"}
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
MAX_ADDRESS_LINES = 5  # QuickBooks BillAddress/ShipAddress have Addr1..Addr5


class LinkKey(NamedTuple):
    """Which Salesforce object and field a Link looks values up in."""

    sobject: str
    field: str

    def __str__(self) -> str:
        return f"{self.sobject}.{self.field}"


class StepFailure(Exception):
    """A value a step cannot transform; becomes a record-level error for this record only."""

    def __init__(self, message: str, waiting_on: LinkKey | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.waiting_on = waiting_on
        self.row: int | None = None  # the mapping row, when the code raising it cannot know


@dataclass(frozen=True, slots=True)
class Step:
    """One parsed transformation step, e.g. ``Step("Left", (41,), "Left:41")``."""

    name: str
    args: tuple[object, ...]
    text: str


class ChainError(ValueError):
    """The Transformation cell is wrong; ``problems`` lists each fault with its fix."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _split_unescaped(text: str, separator: str) -> list[str]:
    """Split on ``separator`` except where a backslash escapes it (escapes are kept for the next stage)."""
    parts, current, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            current.append(text[i:i + 2])
            i += 2
            continue
        if ch == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _unescape(text: str, chars: str) -> str:
    """Turn ``\\x`` into ``x`` for x in ``chars`` (and ``\\\\`` into one backslash); other backslashes stay."""
    allowed = chars + "\\"
    return re.sub(r"\\(.)", lambda m: m.group(1) if m.group(1) in allowed else m.group(0), text)


def _whole_number(name: str, value: str, what: str, example: str) -> int | str:
    value = value.strip()
    if not value.isascii() or not value.isdigit():
        return f"{name} needs {what} as a whole number, e.g. {example} (got {value!r})"
    return int(value)


def parse_step(text: str) -> Step:
    """Parse one step such as ``Left:41``; raise :class:`ChainError` naming the fault and the fix."""
    written = text.strip()
    head, has_args, rest = written.partition(":")
    key = head.strip().casefold()
    name = _CANONICAL.get(key)
    if name is None:
        raise ChainError([f"unknown transformation {head.strip()!r}; valid ones are {VALID_LIST}"])
    if name in _NO_ARGUMENT:
        if has_args and rest.strip():
            raise ChainError([f"{name} takes no argument (got {written!r}); write just {name}"])
        return Step(name, (), written)
    if not has_args:
        usage = next(t for t in TRANSFORMATIONS if t.startswith(name + ":"))
        raise ChainError([f"{name} needs an argument: write {usage}"])
    return Step(name, _parse_args(name, rest), written)


def _parse_args(name: str, rest: str) -> tuple[object, ...]:
    problems: list[str] = []
    args: tuple[object, ...] = ()
    if name == "Concatenate":
        template = _unescape(rest, "|:")
        if "{value}" not in template:
            problems.append(f"Concatenate template {template!r} has no {{value}}; e.g. Concatenate:Invoice {{value}} "
                            f"(use Static for a fixed value)")
        args = (template,)
    elif name in ("Left", "Right"):
        count = _whole_number(name, rest, "the number of characters", f"{name}:41")
        problems += [count] if isinstance(count, str) else []
        args = (count,)
    elif name == "Mid":
        pieces = rest.split(":")
        if len(pieces) > 2:
            problems.append(f"Mid takes START and LEN, e.g. Mid:2:8 (got Mid:{rest})")
        start = _whole_number("Mid", pieces[0], "START (counted from 0)", "Mid:2:8")
        length: int | str | None = None
        if len(pieces) > 1:
            length = _whole_number("Mid", pieces[1], "LEN", "Mid:2:8")
        problems += [p for p in (start, length) if isinstance(p, str)]
        args = (start, length)
    elif name == "DateFormat":
        fmt = _unescape(rest, "|") if "\\|" in rest else rest
        try:
            args = (fmt, date_formatter(fmt))
        except DateFormatSyntaxError as exc:
            problems.append(f"DateFormat:{rest}: {exc}")
    elif name == "AddressSplit":
        number = _whole_number("AddressSplit", rest, "the address line number", "AddressSplit:1")
        if isinstance(number, int) and not 1 <= number <= MAX_ADDRESS_LINES:
            number = f"AddressSplit line must be 1 to {MAX_ADDRESS_LINES} (QuickBooks has Addr1..Addr5), got {number}"
        problems += [number] if isinstance(number, str) else []
        args = (number,)
    elif name == "Link":
        pieces = [p.strip() for p in rest.split(":")]
        if len(pieces) != 2 or not all(_IDENTIFIER.fullmatch(p) for p in pieces):
            problems.append(f"Link needs a Salesforce object and field, e.g. Link:Account:QB_Customer_ID__c "
                            f"(got Link:{rest})")
        else:
            args = (LinkKey(pieces[0], pieces[1]),)
    else:  # Replace
        pieces = _split_unescaped(rest, ":")
        if len(pieces) != 2:
            problems.append(f"Replace takes OLD and NEW, e.g. Replace:USD:$ (got Replace:{rest}); "
                            f"write \\: for a colon inside OLD or NEW")
        else:
            old, new = (_unescape(p, ":|") for p in pieces)
            if not old:
                problems.append("Replace needs text to find: Replace:OLD:NEW with OLD not empty")
            args = (old, new)
    if problems:
        raise ChainError(problems)
    return args


def parse_chain(text: str) -> list[Step]:
    """Parse a whole Transformation cell (blank means Simple) into steps; every fault goes in one ChainError."""
    if not text.strip():
        return []
    steps: list[Step] = []
    problems: list[str] = []
    for part in _split_unescaped(text, "|"):
        if not part.strip():
            problems.append(f"empty step in {text!r}; remove the extra |")
            continue
        try:
            step = parse_step(part)
        except ChainError as exc:
            problems += exc.problems
            continue
        if step.name != "Simple":  # Simple is "copy as-is": a no-op inside a chain
            steps.append(step)
    if problems:
        raise ChainError(problems)
    return steps


# ----------------------------------------------------------------------------------------------------------------
# Runtime helpers called by compiled mappings. They take and return text; failures raise StepFailure.

_PLAIN_MONEY = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d{0,2})?")  # already at most two decimals: only padding needed
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|[+-]?\.\d+")
_CENT = Decimal("0.01")


def number_format(text: str) -> str:
    """Money: round half away from zero to exactly two decimals (``2.345`` → ``2.35``); commas as thousands ok."""
    stripped = text.strip()
    if _PLAIN_MONEY.fullmatch(stripped):
        return _pad_cents(stripped)
    if not _NUMBER.fullmatch(stripped):
        raise StepFailure(f"NumberFormat: {text!r} is not a number (digits, optional sign, '.', thousands ',')")
    try:
        rounded = Decimal(stripped.replace(",", "")).quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise StepFailure(f"NumberFormat: {text!r} is too large to format") from None
    return format(rounded, "f") if rounded else "0.00"  # a rounded-away "-0.001" must not print "-0.00"


def _pad_cents(plain: str) -> str:
    """'12' → '12.00', '12.5' → '12.50', '-0.0' → '0.00' for text that already has at most two decimals."""
    dot = plain.find(".")
    result = plain + ".00" if dot < 0 else plain + ("00", "0", "")[len(plain) - dot - 1]
    return "0.00" if result[0] == "-" and not result.strip("-0.") else result


_FLOAT_EXACT_LIMIT = 1e12  # below this a float is within 0.0002 of its two-decimal value, so "%.2f" is exact


def number_format_value(value: object) -> str:
    """NumberFormat for a raw field value: None/empty stay empty, numbers skip the text round trip."""
    cls = value.__class__
    if cls is float:
        if -_FLOAT_EXACT_LIMIT < value < _FLOAT_EXACT_LIMIT:  # type: ignore[operator]
            # A currency value such as 1234.5 has at most two decimals: "%.2f" is then exact, and it
            # round-trips; anything finer goes through Decimal for half-away-from-zero rounding.
            text = f"{value:.2f}"
            if float(text) == value:
                return "0.00" if text == "-0.00" else text
        elif not math.isfinite(value):  # type: ignore[arg-type]
            raise StepFailure(f"NumberFormat: {value!r} is not a number")
        number = Decimal(repr(value))
    elif cls is str:
        return number_format(value) if value else ""  # type: ignore[arg-type]
    elif value is None:
        return ""
    elif cls is int:
        return f"{value}.00"
    elif cls is Decimal and value.is_finite():  # type: ignore[attr-defined]
        number = value  # type: ignore[assignment]
    else:
        raise StepFailure(f"NumberFormat: {value!r} is not a number")
    try:
        rounded = number.quantize(_CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise StepFailure(f"NumberFormat: {value!r} is too large to format") from None
    return format(rounded, "f") if rounded else "0.00"


def memoised_date_formatter(formatter: Callable[[str], str], fmt: str, cache: dict[str, str]) -> Callable[[str], str]:
    """Wrap a date formatter: a bad value becomes a record error naming the format; results fill ``cache``."""

    def reformat(text: str) -> str:
        try:
            result = formatter(text)
        except DateInputError as exc:
            raise StepFailure(f"DateFormat:{fmt}: {exc}") from None
        if len(cache) < 10_000:  # many records share dates; bounded so a long run cannot grow it forever
            cache[text] = result
        return result

    return reformat


class AddressSplitter:
    """AddressSplit:N for one compiled mapping; remembers the last address so :1 and :2 split it once."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        # One tuple, swapped whole, so threads sharing a mapping never pair one address with another's lines.
        self._last: tuple[str, list[str]] = ("", [])

    def line(self, text: str, number: int) -> str:
        """Line ``number`` of ``text`` split into 41-character QuickBooks address lines."""
        last_text, lines = self._last
        if text != last_text:
            lines = split_address(text)
            self._last = (text, lines)
        return lines[number - 1] if number <= len(lines) else ""
