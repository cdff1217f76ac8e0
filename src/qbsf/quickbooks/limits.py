"""QuickBooks field limits and character set, checked before anything is sent.

QuickBooks Desktop stores Latin-1 only and enforces the schema's ``maxLength`` facets; a value that breaks
either fails inside QuickBooks with a message users cannot act on. qbsf checks first and, by policy,
either transliterates/truncates with a warning (``"transliterate"``) or fails the record with an error
naming the record and field (``"fail"``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from qbsf.errors import ConfigError
from qbsf.quickbooks.errors import FieldValueError
from qbsf.quickbooks.schema import FIELD_LIMITS

log = logging.getLogger(__name__)

FieldPolicy = Literal["transliterate", "fail"]
POLICIES = ("transliterate", "fail")

# Common characters outside Latin-1 and their usual plain spellings.
_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u20ac": "EUR", "\u2122": "TM", "\u2022": "*", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
    "\u0152": "OE", "\u0153": "oe", "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0131": "i",
    "\u2020": "+", "\u2116": "No", "\u2190": "<-", "\u2192": "->",
}


@dataclass(frozen=True, slots=True)
class FieldIssue:
    """One value that had to change (or could not be sent): where, what, and how."""

    record: str
    field: str
    problem: str
    original: str
    replacement: str | None

    def __str__(self) -> str:
        if self.replacement is None:
            return f"{self.record}: {self.field} {self.problem}"
        return f"{self.record}: {self.field} {self.problem}; sent {self.replacement!r} instead of {self.original!r}"


def check_policy(policy: str) -> FieldPolicy:
    """Validate a field policy name (a setting), returning it typed."""
    if policy not in POLICIES:
        raise ConfigError(f"unknown QuickBooks field policy {policy!r}", hint="use 'transliterate' or 'fail'")
    return policy  # type: ignore[return-value]


# Anything outside Latin-1, and control characters other than tab and newlines (XML cannot carry them).
_NOT_STORABLE = re.compile("[^\t\n\r\x20-\xff]")
# What XML 1.0 cannot carry at all: C0 control characters other than tab, LF and CR (NUL, BEL, ESC, …).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_LINE_BREAKS = re.compile("[\t\r\n]+")


def xml_unsafe(text: str) -> str:
    """The characters of ``text`` no qbXML message can carry (C0 controls but tab/newline), as ``'\\x01'``…"""
    return "".join(sorted({repr(ch)[1:-1] for ch in _NOT_XML.findall(text)}))


def is_name_field(path: str) -> bool:
    """A QuickBooks name field (Name, FullName, CompanyName, FirstName, …): one line in QuickBooks."""
    return path.rsplit(".", 1)[-1].endswith("Name")


def one_line(text: str) -> str:
    """``text`` with each run of tabs and line breaks replaced by one space (QuickBooks names are one line)."""
    return _LINE_BREAKS.sub(" ", text) if ("\n" in text or "\t" in text or "\r" in text) else text


def is_latin1(text: str) -> bool:
    """True when QuickBooks can store ``text`` as is (Latin-1, no control characters but tab/newline)."""
    return _NOT_STORABLE.search(text) is None


def transliterate(text: str) -> str:
    """``text`` in Latin-1: known look-alikes replaced, accents kept where Latin-1 has them, else ``?``."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if code < 32 and ch not in "\t\r\n":
            continue
        if code < 256:
            out.append(ch)
            continue
        if ch in _REPLACEMENTS:
            out.append(_REPLACEMENTS[ch])
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in decomposed if ord(c) < 256 and not unicodedata.combining(c))
        out.append(base if base else "?")
    return "".join(out)


def enforce(kind: str, values: dict[str, str], *, record: str, policy: FieldPolicy,
            limit_kind: str | None = None) -> tuple[dict[str, str], list[FieldIssue]]:
    """Check string ``values`` (flat path → text) of a ``kind`` record against QuickBooks' limits.

    Returns the values to send and the issues found. Under ``"fail"`` the first issue raises
    :class:`FieldValueError` naming the record and field; under ``"transliterate"`` values are made Latin-1
    and truncated to the field's maxLength, and each change is logged as a warning.
    """
    limits = FIELD_LIMITS.get(limit_kind or kind, {})
    issues: list[FieldIssue] = []
    clean: dict[str, str] = {}
    for path, text in values.items():
        value = text
        unsafe = xml_unsafe(value)
        if unsafe:
            # Under any policy: dropping the character silently would change the value without a word.
            raise FieldValueError(
                f"{record}: {path} contains a control character ({unsafe}) that QuickBooks cannot store: {value!r}",
                hint=f"remove the control character from {path} at the source, then save the record again")
        if is_name_field(path):
            value = one_line(value)
        if not is_latin1(value):
            if policy == "fail":
                bad = "".join(sorted({ch for ch in value if ord(ch) > 255 or (ord(ch) < 32 and ch not in '\t\r\n')}))
                raise FieldValueError(
                    f"{record}: {path} contains characters QuickBooks Desktop cannot store ({bad!r}): {value!r}",
                    hint="QuickBooks keeps Latin-1 only: change the value in Salesforce, or set the QuickBooks "
                         "field policy to 'transliterate'")
            value = transliterate(value)
            issues.append(FieldIssue(record, path, "had characters outside Latin-1", text, value))
        if path == "Name" and ":" in value:
            # The colon separates the levels of a FullName ("Parent:Child"), so QuickBooks refuses it in a Name.
            if policy == "fail":
                raise FieldValueError(
                    f"{record}: Name contains a colon, which QuickBooks reserves for Parent:Child names: {value!r}",
                    hint="remove the colon in Salesforce, or set the QuickBooks field policy to 'transliterate'")
            replaced = value.replace(":", "-")
            issues.append(FieldIssue(record, path, "contained a colon", value, replaced))
            value = replaced
        limit = limits.get(path)
        if limit is not None and len(value) > limit:
            if policy == "fail":
                raise FieldValueError(
                    f"{record}: {path} is {len(value)} characters, QuickBooks allows {limit}: {value!r}",
                    hint=f"shorten {path} to {limit} characters in Salesforce (or use a Left:{limit} or "
                         "AddressSplit transformation), or set the QuickBooks field policy to 'transliterate'")
            shortened = value[:limit]
            issues.append(FieldIssue(record, path, f"was longer than {limit} characters", value, shortened))
            value = shortened
        clean[path] = value
    for issue in issues:
        log.warning("QuickBooks field adjusted: %s", issue)
    return clean, issues
