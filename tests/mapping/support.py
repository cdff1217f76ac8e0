"""Mappings compiled from a few CSV data rows under the template's header, for the mapping tests."""

from __future__ import annotations

from qbsf.mapping import Mapping, load_mapping_bytes
from qbsf.mapping.loader import HEADER_LINE


def mapping_from_rows(*rows: str, name: str = "Acct_to_Customer.csv") -> Mapping:
    """The mapping the sheet ``name`` holding the header and ``rows`` compiles to."""
    text = "\n".join([HEADER_LINE, *rows]) + "\n"
    return load_mapping_bytes(text.encode("utf-8"), name)
