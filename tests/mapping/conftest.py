"""Fixtures for the mapping engine tests: build a mapping from CSV rows in a few words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qbsf.mapping import Mapping, load_mapping_bytes
from qbsf.mapping.loader import HEADER_LINE

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "mappings"


@pytest.fixture
def mapping_of() -> Callable[..., Mapping]:
    """``mapping_of("Name,Name,Y,Trim", name="Acct_to_Customer.csv")``: a compiled mapping from data rows."""

    def build(*rows: str, name: str = "Acct_to_Customer.csv") -> Mapping:
        text = "\n".join([HEADER_LINE, *rows]) + "\n"
        return load_mapping_bytes(text.encode("utf-8"), name)

    return build


@pytest.fixture
def one() -> Callable[..., object]:
    """``one("Trim|Upper", "  x ")``: the value one transformation chain makes of one input (None if empty)."""

    def transform(chain: str, value: object, default: str = "", lookups: object = None) -> object:
        text = f"Src,Dst,N,\"{chain.replace(chr(34), chr(34) * 2)}\",\"{default}\",\n"
        mapping = load_mapping_bytes((HEADER_LINE + "\n" + text).encode("utf-8"), "Acct_to_Customer.csv")
        result = mapping.apply({"Id": "001A", "Src": value}, lookups)  # type: ignore[arg-type]
        return result if not isinstance(result, dict) else result["Dst"]

    return transform


@pytest.fixture
def examples_dir() -> Path:
    """The shipped example mappings."""
    return EXAMPLES
