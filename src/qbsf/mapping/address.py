"""Splitting a free-text address into QuickBooks' 41-character address lines."""

from __future__ import annotations

QB_ADDRESS_LINE = 41


def split_address(text: str, width: int = QB_ADDRESS_LINE) -> list[str]:
    """Split an address into lines of at most ``width`` characters.

    An existing line break always starts a new line; a long line breaks at the last space that fits, or
    mid-word when a single word is longer than a line. Blank lines and spaces at line ends are dropped,
    so every word survives, in order, across the returned lines.
    """
    lines: list[str] = []
    for raw in text.splitlines():  # every Unicode line break, CRLF included
        rest = raw.strip()
        while len(rest) > width:
            cut = _last_space(rest, width)
            if cut <= 0:
                lines.append(rest[:width])
                rest = rest[width:].lstrip()
            else:
                lines.append(rest[:cut].rstrip())
                rest = rest[cut + 1:].lstrip()
        if rest:
            lines.append(rest)
    return lines


def address_line(text: str, number: int, width: int = QB_ADDRESS_LINE) -> str:
    """Line ``number`` (1-based) of :func:`split_address`, or an empty string when the address is shorter."""
    if not text:
        return ""
    lines = split_address(text, width)
    return lines[number - 1] if number <= len(lines) else ""


def _last_space(text: str, width: int) -> int:
    """Index of the last whitespace character at or before ``width`` (where a line may break), else -1."""
    head = text[:width + 1]
    if head.isprintable():  # then its only whitespace is the ASCII space: search in C
        return head.rfind(" ")
    for index in range(width, 0, -1):
        if text[index].isspace():
            return index
    return -1
