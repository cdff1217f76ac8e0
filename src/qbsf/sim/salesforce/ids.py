"""Salesforce record ids: 15-character case-sensitive ids, their 18-character case-safe form, key prefixes."""

from __future__ import annotations

import re

_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_SHAPE = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")
ORG_ID = "00DQ0000000qbsfMAA"


def checksum(id15: str) -> str:
    """The 3-character case-safe suffix Salesforce appends to a 15-character id."""
    suffix = ""
    for chunk in range(3):
        bits = 0
        for position, char in enumerate(id15[chunk * 5:chunk * 5 + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += _SUFFIX_ALPHABET[bits]
    return suffix


def to18(record_id: str) -> str | None:
    """The 18-character form of a 15- or 18-character id, or None when ``record_id`` is not an id at all."""
    if not isinstance(record_id, str) or not _ID_SHAPE.match(record_id):
        return None
    base = record_id[:15]
    full = base + checksum(base)
    # An 18-char id whose suffix disagrees with its body was mangled (e.g. case-folded): not a valid id.
    if len(record_id) == 18 and record_id[15:].upper() != full[15:]:
        return None
    return full


def make_id(key_prefix: str, sequence: int) -> str:
    """The 18-char id of the ``sequence``-th record with ``key_prefix`` (ids sort by creation, as in Salesforce)."""
    digits = ""
    value = sequence
    for _ in range(10):
        value, rest = divmod(value, 62)
        digits = _BASE62[rest] + digits
    base = f"{key_prefix}Q0{digits}"
    return base + checksum(base)
