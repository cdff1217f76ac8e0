"""Coverage-guided fuzzing with atheris (libFuzzer) for `make fuzz`; not part of `make test`.

    python tests/fuzz/atheris_targets.py TARGET [libFuzzer options, e.g. -max_total_time=60]

TARGET is one of: mapping, qbxml, soap. Each feeds libFuzzer's bytes to one reader and fails (a crash report
and a reproducer file) on any exception the reader is not allowed to raise. atheris installs from a wheel on
Linux x86_64 with CPython 3.11–3.13 only (`pip install -e '.[fuzz]'`); elsewhere `make fuzz` runs the
hypothesis suites alone and says so.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    from qbsf.errors import QbsfError
    from qbsf.mapping import LinkPreview, MappingFileError, RecordError, load_mapping_bytes
    from qbsf.quickbooks.inspect import response_objects, to_json_line
    from qbsf.quickbooks.webconnector.soap import SoapFault, parse_call
    from qbsf.sync.entities import CATALOGUE

SHEET_FILES = [f"{kind.sheet}.csv" for kind in CATALOGUE.kinds]


def mapping(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    name = SHEET_FILES[provider.ConsumeIntInRange(0, len(SHEET_FILES) - 1)]
    try:
        compiled = load_mapping_bytes(provider.ConsumeBytes(provider.remaining_bytes()), name)
    except MappingFileError:
        return
    result = compiled.apply({"Id": "001000000000001AAA", "Name": "Acme", "Amount": "12.5"}, LinkPreview())
    assert isinstance(result, (dict, RecordError))


def qbxml(data: bytes) -> None:
    try:
        for obj in response_objects(data, source="fuzz"):
            to_json_line(obj)
    except QbsfError:
        return


def soap(data: bytes) -> None:
    try:
        parse_call(data)
    except SoapFault:
        return


TARGETS: dict[str, Callable[[bytes], None]] = {"mapping": mapping, "qbxml": qbxml, "soap": soap}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: atheris_targets.py {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv[1]]
    atheris.Setup([sys.argv[0], *sys.argv[2:]], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
