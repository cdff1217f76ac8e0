"""What the fuzz suite found in the Web Connector service, kept as plain regression tests."""

from __future__ import annotations

from qbsf.quickbooks.webconnector.service import parse_version


def test_a_version_with_non_ascii_digits_or_huge_numbers_is_read_not_raised() -> None:
    assert parse_version("2.3¹.0.217") == (2, 3, 0, 217)  # '¹'.isdigit() is True but int('¹') fails
    assert parse_version("٢.٣") == (0, 0)
    assert parse_version("9" * 5000 + ".1")[1] == 1
    assert len(parse_version("1." * 10_000)) == 8
