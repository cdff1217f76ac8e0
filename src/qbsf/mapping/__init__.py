"""The no-code mapping engine: mapping CSVs compiled into fast, pure record transformers.

Typical use by the sync engine::

    mapping = load_mapping("examples/mappings/Acct_to_Customer.csv")
    batch = mapping.apply_many(records, resolver=salesforce_links)  # one query per Link (object, field)
    for index, target in batch.ok: ...
    for error in batch.errors: ...  # RecordError: record, field, mapping line, message

No I/O happens here except reading the CSV in :func:`load_mapping`. Which sheets exist (their names, direction
and objects) is declared by the layer above: the sync layer's registry installs its :class:`Catalogue`.
"""

from qbsf.mapping.address import QB_ADDRESS_LINE, split_address
from qbsf.mapping.compiled import (
    FieldRule,
    LinkPreview,
    LinkResolver,
    Lookups,
    MappedBatch,
    Mapping,
    RecordError,
    TableLinkResolver,
    resolve_links,
)
from qbsf.mapping.kinds import (
    Catalogue,
    Direction,
    MappingKind,
    UnknownKind,
    catalogue,
    kind_by_sheet,
    kind_from_filename,
    use_catalogue,
)
from qbsf.mapping.loader import HEADER, load_mapping, load_mapping_bytes
from qbsf.mapping.problems import MappingFileError, MappingProblem
from qbsf.mapping.transforms import TRANSFORMATIONS, LinkKey

__all__ = [
    "HEADER",
    "KINDS",
    "QB_ADDRESS_LINE",
    "TRANSFORMATIONS",
    "Catalogue",
    "Direction",
    "FieldRule",
    "LinkKey",
    "LinkPreview",
    "LinkResolver",
    "Lookups",
    "MappedBatch",
    "Mapping",
    "MappingFileError",
    "MappingKind",
    "MappingProblem",
    "RecordError",
    "TableLinkResolver",
    "UnknownKind",
    "catalogue",
    "kind_by_sheet",
    "kind_from_filename",
    "load_mapping",
    "load_mapping_bytes",
    "resolve_links",
    "split_address",
    "use_catalogue",
]


def __getattr__(name: str) -> object:
    # KINDS is the installed catalogue's sheets, read when asked for.
    if name == "KINDS":
        return catalogue().kinds
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
